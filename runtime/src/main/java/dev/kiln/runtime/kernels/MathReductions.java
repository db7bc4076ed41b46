package dev.kiln.runtime.kernels;

import dev.kiln.ir.DType;
import dev.kiln.runtime.Elements;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.Shapes;
import dev.kiln.runtime.StridedCursor;

import java.lang.foreign.MemorySegment;

/**
 * prod, amax, amin and logsumexp over a set of axes (empty: all), and argmax/argmin along one axis, with
 * PyTorch's results: prod of ints is i64 (wrapping), amax/amin keep the dtype and propagate NaN, logsumexp
 * is computed stably, argmax/argmin give the first index of the extreme value (a NaN counts as the extreme).
 * Floating-point accumulation is in double.
 */
public final class MathReductions {
    private MathReductions() {}

    /** Product over {@code axes}; floats keep their dtype, ints give i64; an empty product is 1. */
    public static NDArray prod(NDArray x, int[] axes, boolean keepDim) {
        Checks.notBool("prod", x);
        ReduceLayout l = new ReduceLayout("prod", x, axes, keepDim);
        DType t = x.dtype();
        MemorySegment xs = x.segment();
        NDArray out = NDArray.zeros(t.isFloatingPoint() ? t : DType.I64, l.outShape);
        MemorySegment os = out.segment();
        l.forEachOutput((o, base) -> {
            StridedCursor c = l.block(base);
            if (t.isFloatingPoint()) {
                double p = 1;
                for (long i = 0; i < l.count; i++, c.advance()) p *= Elements.getDouble(xs, t, c.position(0));
                Elements.setDouble(os, out.dtype(), o, p);
            } else {
                long p = 1;
                for (long i = 0; i < l.count; i++, c.advance()) p *= Elements.getLong(xs, t, c.position(0));
                Elements.setLong(os, DType.I64, o, p);
            }
        });
        return out;
    }

    /** Maximum over {@code axes}, same dtype; NaN propagates; reducing a zero-size dim is an error. */
    public static NDArray amax(NDArray x, int[] axes, boolean keepDim) { return extreme("amax", x, axes, keepDim, true); }

    /** Minimum over {@code axes}, same dtype; NaN propagates; reducing a zero-size dim is an error. */
    public static NDArray amin(NDArray x, int[] axes, boolean keepDim) { return extreme("amin", x, axes, keepDim, false); }

    /**
     * {@code max + log(sum(exp(x - max)))} over {@code axes}, floating-point only; the shift is 0 when the max
     * is infinite, so an all -inf (or empty) slice gives -inf and a +inf element gives +inf.
     */
    public static NDArray logsumexp(NDArray x, int[] axes, boolean keepDim) {
        Checks.floating("logsumexp", x);
        ReduceLayout l = new ReduceLayout("logsumexp", x, axes, keepDim);
        DType t = x.dtype();
        MemorySegment xs = x.segment();
        NDArray out = NDArray.zeros(t, l.outShape);
        MemorySegment os = out.segment();
        l.forEachOutput((o, base) -> {
            double max = Double.NEGATIVE_INFINITY;
            StridedCursor c = l.block(base);
            for (long i = 0; i < l.count; i++, c.advance()) {
                double v = Elements.getDouble(xs, t, c.position(0));
                if (v > max || Double.isNaN(v)) max = v;   // a NaN sticks: nothing compares greater
            }
            double shift = Double.isInfinite(max) ? 0 : max;
            double sum = 0;
            c = l.block(base);
            for (long i = 0; i < l.count; i++, c.advance()) sum += Math.exp(Elements.getDouble(xs, t, c.position(0)) - shift);
            Elements.setDouble(os, t, o, Math.log(sum) + shift);
        });
        return out;
    }

    /** Index (i64) of the first maximum along {@code axis}; a 0-d tensor accepts axis 0 or -1. */
    public static NDArray argmax(NDArray x, int axis, boolean keepDim) { return argExtreme("argmax", x, axis, keepDim, true); }

    /** Index (i64) of the first minimum along {@code axis}; a 0-d tensor accepts axis 0 or -1. */
    public static NDArray argmin(NDArray x, int axis, boolean keepDim) { return argExtreme("argmin", x, axis, keepDim, false); }

    private static NDArray extreme(String op, NDArray x, int[] axes, boolean keepDim, boolean max) {
        Checks.notBool(op, x);
        ReduceLayout l = new ReduceLayout(op, x, axes, keepDim);
        l.requireNonEmpty(op);
        DType t = x.dtype();
        MemorySegment xs = x.segment();
        NDArray out = NDArray.zeros(t, l.outShape);
        MemorySegment os = out.segment();
        l.forEachOutput((o, base) -> {
            StridedCursor c = l.block(base);
            if (t.isFloatingPoint()) {
                double best = Elements.getDouble(xs, t, c.position(0));
                for (long i = 1; i < l.count && !Double.isNaN(best); i++) {
                    c.advance();
                    double v = Elements.getDouble(xs, t, c.position(0));
                    best = max ? Math.max(best, v) : Math.min(best, v);
                }
                Elements.setDouble(os, t, o, best);
            } else {
                long best = Elements.getLong(xs, t, c.position(0));
                for (long i = 1; i < l.count; i++) {
                    c.advance();
                    long v = Elements.getLong(xs, t, c.position(0));
                    int cmp = Elements.compareLongs(t, v, best);
                    if (max ? cmp > 0 : cmp < 0) best = v;
                }
                Elements.setLong(os, t, o, best);
            }
        });
        return out;
    }

    private static NDArray argExtreme(String op, NDArray x, int axis, boolean keepDim, boolean max) {
        Checks.notBool(op, x);
        if (x.rank() == 0) {
            Shapes.axis(op, axis, 1);
            return argExtreme(op, x.reshape(1), 0, false, max).reshape();
        }
        ReduceLayout l = new ReduceLayout(op, x, new int[] {axis}, keepDim);
        l.requireNonEmpty(op);
        DType t = x.dtype();
        MemorySegment xs = x.segment();
        NDArray out = NDArray.zeros(DType.I64, l.outShape);
        MemorySegment os = out.segment();
        l.forEachOutput((o, base) -> {
            StridedCursor c = l.block(base);
            long at = 0;
            if (t.isFloatingPoint()) {
                double best = Elements.getDouble(xs, t, c.position(0));
                for (long i = 1; i < l.count && !Double.isNaN(best); i++) {
                    c.advance();
                    double v = Elements.getDouble(xs, t, c.position(0));
                    if (Double.isNaN(v) || (max ? v > best : v < best)) {
                        best = v;
                        at = i;
                    }
                }
            } else {
                long best = Elements.getLong(xs, t, c.position(0));
                for (long i = 1; i < l.count; i++) {
                    c.advance();
                    long v = Elements.getLong(xs, t, c.position(0));
                    int cmp = Elements.compareLongs(t, v, best);
                    if (max ? cmp > 0 : cmp < 0) {
                        best = v;
                        at = i;
                    }
                }
            }
            Elements.setLong(os, DType.I64, o, at);
        });
        return out;
    }
}
