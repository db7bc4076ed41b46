package dev.kiln.runtime;

import dev.kiln.ir.TensorType;
import dev.kiln.ir.Type;
import dev.kiln.runtime.kernels.EagerF32;

import java.util.List;

import static dev.kiln.runtime.OpKernels.optional;

/**
 * What eager mode runs for an op: the compiled path's direct f32 kernel ({@link EagerF32}) where the operands
 * allow, so eager gets the speed of compiled code on the heavy ops, and the reference kernel otherwise. The
 * interpreter keeps the reference kernels: it is the oracle compiled and eager results are tested against.
 */
public final class EagerKernels {
    private static final java.util.concurrent.atomic.LongAdder RUNS = new java.util.concurrent.atomic.LongAdder();

    private EagerKernels() {}

    /** How many eager kernels have run in this JVM: how tests tell that a run computed nothing. */
    public static long runs() { return RUNS.sum(); }

    /** Runs {@code op} on {@code inputs}; {@code result} is the result type inference gave for this call. */
    public static NDArray apply(String op, List<NDArray> in, OpAttributes a, Type result) {
        RUNS.increment();
        NDArray direct = result instanceof TensorType t && t.shape().isStatic() ? direct(op, in, a, t.shape().toArray()) : null;
        return direct != null ? direct : OpKernels.get(op).apply(in, a);
    }

    private static NDArray direct(String op, List<NDArray> in, OpAttributes a, long[] shape) {
        return switch (op) {
            case "linear" -> EagerF32.linear(in.get(0), in.get(1), optional(in, 2), shape);
            case "matmul" -> EagerF32.matmul(in.get(0), in.get(1), shape);
            case "conv2d" -> EagerF32.conv2d(in.get(0), in.get(1), optional(in, 2), a.longs("stride"), a.longs("padding"),
                    a.longs("dilation"), a.integer("groups"), shape);
            case "max_pool2d" -> EagerF32.maxPool2d(in.get(0), a.longs("kernel_size"), a.longs("stride"), a.longs("padding"),
                    a.longs("dilation"), shape);
            case "avg_pool2d" -> EagerF32.avgPool2d(in.get(0), a.longs("kernel_size"), a.longs("stride"), a.longs("padding"),
                    a.bool("count_include_pad"), shape);
            case "attention" -> EagerF32.attention(in.get(0), in.get(1), in.get(2), optional(in, 3),
                    ((dev.kiln.ir.Attribute.Float) a.get("scale")).value(), a.bool("causal"), shape);
            case "layer_norm" -> EagerF32.layerNorm(in.get(0), optional(in, 1), optional(in, 2), a.intValue("normalized_dims"), NnKernels.eps(a));
            case "batch_norm" -> EagerF32.batchNorm(in.get(0), in.get(1), in.get(2), optional(in, 3), optional(in, 4), NnKernels.eps(a));
            default -> null;
        };
    }
}
