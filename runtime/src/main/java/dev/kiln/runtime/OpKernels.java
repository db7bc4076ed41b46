package dev.kiln.runtime;

import dev.kiln.ir.Attribute;
import dev.kiln.ir.OpRegistry;
import dev.kiln.runtime.kernels.Conv;
import dev.kiln.runtime.kernels.Elementwise;
import dev.kiln.runtime.kernels.Gemm;
import dev.kiln.runtime.kernels.Pool;
import dev.kiln.runtime.kernels.Reductions;
import dev.kiln.runtime.kernels.Softmax;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The reference semantics of every tensor op, keyed by registry name: eager execution and the
 * interpreter both run these, so they agree by construction. Structural ops (constant, item, if,
 * loop, yield, return) are the interpreter's own business and have no entry here.
 */
public final class OpKernels {

    /** A CPU kernel: tensor operands and attributes in, one new tensor out. */
    @FunctionalInterface
    public interface Kernel {
        NDArray apply(List<NDArray> inputs, OpAttributes attributes);
    }

    private static final Map<String, Kernel> KERNELS = Map.ofEntries(
            Map.entry("add", (in, a) -> Elementwise.add(in.get(0), in.get(1))),
            Map.entry("sub", (in, a) -> Elementwise.sub(in.get(0), in.get(1))),
            Map.entry("mul", (in, a) -> Elementwise.mul(in.get(0), in.get(1))),
            Map.entry("div", (in, a) -> Elementwise.div(in.get(0), in.get(1))),
            Map.entry("neg", (in, a) -> Elementwise.neg(in.get(0))),
            Map.entry("relu", (in, a) -> Elementwise.relu(in.get(0))),
            Map.entry("sigmoid", (in, a) -> Elementwise.sigmoid(in.get(0))),
            Map.entry("tanh", (in, a) -> Elementwise.tanh(in.get(0))),
            Map.entry("gt", (in, a) -> Elementwise.gt(in.get(0), in.get(1))),
            Map.entry("lt", (in, a) -> Elementwise.lt(in.get(0), in.get(1))),
            Map.entry("eq", (in, a) -> Elementwise.eq(in.get(0), in.get(1))),
            Map.entry("cast", (in, a) -> in.get(0).to(a.dtype("dtype"))),
            Map.entry("matmul", (in, a) -> Gemm.matmul(in.get(0), in.get(1))),
            Map.entry("linear", (in, a) -> Gemm.linear(in.get(0), in.get(1), optional(in, 2))),
            Map.entry("conv2d", (in, a) -> Conv.conv2d(in.get(0), in.get(1), optional(in, 2),
                    a.ints("stride"), a.ints("padding"), a.ints("dilation"), a.intValue("groups"))),
            Map.entry("max_pool2d", (in, a) -> Pool.maxPool2d(in.get(0), a.ints("kernel_size"), a.ints("stride"),
                    a.ints("padding"), a.ints("dilation"), a.bool("ceil_mode"))),
            Map.entry("avg_pool2d", (in, a) -> Pool.avgPool2d(in.get(0), a.ints("kernel_size"), a.ints("stride"),
                    a.ints("padding"), a.bool("ceil_mode"), a.bool("count_include_pad"))),
            Map.entry("softmax", (in, a) -> Softmax.softmax(in.get(0), a.intValue("axis"))),
            Map.entry("log_softmax", (in, a) -> Softmax.logSoftmax(in.get(0), a.intValue("axis"))),
            Map.entry("sum", (in, a) -> Reductions.sum(in.get(0), a.ints("axes"), a.bool("keepdim"))),
            Map.entry("mean", (in, a) -> Reductions.mean(in.get(0), a.ints("axes"), a.bool("keepdim"))),
            // reshape and flatten return views where the layout allows; permute materialises its result.
            Map.entry("reshape", (in, a) -> in.get(0).reshape(a.longs("shape"))),
            Map.entry("permute", (in, a) -> in.get(0).permute(a.ints("perm")).contiguous()),
            Map.entry("flatten", (in, a) -> in.get(0).flatten(a.intValue("start_dim"), a.intValue("end_dim"))));

    /** Ops the interpreter executes itself rather than through a kernel. */
    public static final Set<String> STRUCTURAL = Set.of("constant", "item", "if", "loop", "yield", "return");

    private OpKernels() {}

    /** The kernel for {@code op}; an op without one is an error naming it. */
    public static Kernel get(String op) {
        Kernel k = KERNELS.get(op);
        if (k == null) {
            throw new UnsupportedOperationException("no CPU kernel for op '" + op + "'"
                    + (STRUCTURAL.contains(op) ? " (it is structural: only the interpreter runs it)" : ""));
        }
        return k;
    }

    public static boolean has(String op) { return KERNELS.containsKey(op); }

    /** Runs {@code op} on {@code inputs}. */
    public static NDArray run(String op, Map<String, Attribute> attributes, List<NDArray> inputs) {
        return get(op).apply(inputs, new OpAttributes(OpRegistry.get(op), attributes));
    }

    private static NDArray optional(List<NDArray> inputs, int index) {
        return inputs.size() > index ? inputs.get(index) : null;
    }
}
