package dev.kiln.runtime;

import dev.kiln.ir.Attribute;
import dev.kiln.ir.OpRegistry;

import java.util.HashMap;
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

    private static final Map<String, Kernel> KERNELS = new HashMap<>();

    static {
        for (Map<String, Kernel> table : List.of(MathKernels.entries(), ShapeKernels.entries(), NnKernels.entries(), FusionKernels.entries())) {
            table.forEach((op, kernel) -> {
                if (KERNELS.putIfAbsent(op, kernel) != null) throw new IllegalStateException("kernel declared twice: " + op);
            });
        }
    }

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

    static NDArray optional(List<NDArray> inputs, int index) {
        return inputs.size() > index ? inputs.get(index) : null;
    }
}
