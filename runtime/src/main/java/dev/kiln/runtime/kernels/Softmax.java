package dev.kiln.runtime.kernels;

import dev.kiln.ir.DType;
import dev.kiln.runtime.Elements;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.Shapes;
import dev.kiln.runtime.StridedCursor;

import java.lang.foreign.MemorySegment;

/**
 * Softmax and log-softmax along one axis, computed in double after subtracting the row maximum so large
 * inputs neither overflow nor lose precision. Floating-point tensors only; the result keeps the input dtype.
 * The maximum is subtracted whatever it is, as PyTorch and ONNX's definition ({@code exp(x - max) / sum}) do: a
 * row holding +inf or NaN is NaN throughout ({@code inf - inf}), a row of only -inf is NaN, and a -inf among
 * finite values gives exactly 0 (log-softmax -inf). (logsumexp, in {@code MathReductions}, does not subtract an
 * infinite maximum: there PyTorch's result, +-inf, is the limit.)
 */
public final class Softmax {
    private Softmax() {}

    /** {@code exp(x - max) / sum(exp(x - max))} along {@code axis} (negative allowed). */
    public static NDArray softmax(NDArray x, int axis) {
        return run("softmax", x, axis, false);
    }

    /** {@code x - max - log(sum(exp(x - max)))} along {@code axis} (negative allowed). */
    public static NDArray logSoftmax(NDArray x, int axis) {
        return run("logSoftmax", x, axis, true);
    }

    private static NDArray run(String op, NDArray x, int axis, boolean log) {
        Checks.floating(op, x);
        if (x.rank() == 0) {
            Shapes.axis(op, axis, 1);
            return run(op, x.reshape(1), 0, log).reshape();
        }
        int a = Shapes.axis(op, axis, x.rank());
        NDArray out = NDArray.zeros(x.dtype(), x.shape());
        long[] shape = x.shape(), xStrides = x.strides(), oStrides = out.strides();
        long length = shape[a];
        long xStep = xStrides[a], oStep = oStrides[a];
        long[] rowsShape = without(shape, a);
        long[] xRows = without(xStrides, a), oRows = without(oStrides, a);
        long rows = Shapes.numel(rowsShape);
        DType t = x.dtype();
        MemorySegment xs = x.segment(), os = out.segment();
        long minChunk = Math.max(1, Parallel.PARALLEL_THRESHOLD / Math.max(length, 1));
        Parallel.forRange(rows, minChunk, (start, end) -> {
            StridedCursor c = new StridedCursor(rowsShape, new long[] {x.offset(), 0}, xRows, oRows);
            c.seek(start);
            for (long r = start; r < end; r++, c.advance()) {
                row(xs, t, c.position(0), xStep, os, c.position(1), oStep, length, log);
            }
        });
        return out;
    }

    /** One row: {@code length} elements at {@code xb + i * xStep}, written to {@code ob + i * oStep}. */
    private static void row(MemorySegment xs, DType t, long xb, long xStep, MemorySegment os, long ob, long oStep,
                            long length, boolean log) {
        boolean rescaleInPlace = t == DType.F32 || t == DType.F64;
        double max = Double.NEGATIVE_INFINITY;
        for (long i = 0; i < length; i++) max = Math.max(max, Elements.getDouble(xs, t, xb + i * xStep));
        if (log) {
            double sum = 0;
            for (long i = 0; i < length; i++) sum += Math.exp(Elements.getDouble(xs, t, xb + i * xStep) - max);
            double logSum = Math.log(sum);
            for (long i = 0; i < length; i++) {
                double v = Elements.getDouble(xs, t, xb + i * xStep) - max - logSum;
                Elements.setDouble(os, t, ob + i * oStep, v);
            }
        } else if (rescaleInPlace) {
            // f32/f64 hold exp(x - max) exactly enough to store it and rescale: one exp per element.
            double sum = 0;
            for (long i = 0; i < length; i++) {
                double e = Math.exp(Elements.getDouble(xs, t, xb + i * xStep) - max);
                Elements.setDouble(os, t, ob + i * oStep, e);
                sum += e;
            }
            double inv = 1 / sum;
            for (long i = 0; i < length; i++) {
                long at = ob + i * oStep;
                Elements.setDouble(os, t, at, Elements.getDouble(os, t, at) * inv);
            }
        } else {
            double sum = 0;
            for (long i = 0; i < length; i++) sum += Math.exp(Elements.getDouble(xs, t, xb + i * xStep) - max);
            for (long i = 0; i < length; i++) {
                double e = Math.exp(Elements.getDouble(xs, t, xb + i * xStep) - max);
                Elements.setDouble(os, t, ob + i * oStep, e / sum);
            }
        }
    }

    private static long[] without(long[] values, int index) {
        long[] out = new long[values.length - 1];
        System.arraycopy(values, 0, out, 0, index);
        System.arraycopy(values, index + 1, out, index, values.length - index - 1);
        return out;
    }
}
