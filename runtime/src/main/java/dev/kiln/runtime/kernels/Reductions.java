package dev.kiln.runtime.kernels;

import dev.kiln.ir.KilnException;
import dev.kiln.ir.DType;
import dev.kiln.runtime.Elements;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.Shapes;
import dev.kiln.runtime.StridedCursor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Sum and mean over a set of axes. Floating-point tensors accumulate in double with Neumaier compensation, so
 * f32 results carry well under one f32 ulp of summation error at any practical size; integer and bool tensors
 * sum exactly into i64 (wrapping around, u64 by its bits). Once a running sum is infinite or NaN the compensation
 * stops (it would compute inf - inf), so ±inf inputs give ±inf and inf + -inf gives NaN, as in torch.
 */
public final class Reductions {
    private Reductions() {}

    /**
     * Sum over {@code axes} (empty or null: all axes; negative axes count from the end). {@code keepDim} keeps
     * reduced axes as size 1. Floating-point dtypes keep their dtype; integers and bool sum to i64.
     */
    public static NDArray sum(NDArray x, int[] axes, boolean keepDim) {
        return reduce("sum", x, axes, keepDim, false);
    }

    /** Mean over {@code axes} (same conventions as {@link #sum}); floating-point tensors only. */
    public static NDArray mean(NDArray x, int[] axes, boolean keepDim) {
        Checks.floating("mean", x);
        return reduce("mean", x, axes, keepDim, true);
    }

    private static NDArray reduce(String op, NDArray x, int[] axes, boolean keepDim, boolean mean) {
        int rank = x.rank();
        boolean[] reduced = reducedAxes(op, x, axes);
        long[] shape = x.shape();
        long[] strides = x.strides();
        int kept = 0;
        for (boolean r : reduced) if (!r) kept++;
        long[] outerShape = new long[kept], outerStrides = new long[kept];
        long[] innerShape = new long[rank - kept], innerStrides = new long[rank - kept];
        long[] outShape = new long[keepDim ? rank : kept];
        for (int d = 0, o = 0, i = 0, k = 0; d < rank; d++) {
            if (reduced[d]) {
                innerShape[i] = shape[d];
                innerStrides[i++] = strides[d];
                if (keepDim) outShape[k++] = 1;
            } else {
                outerShape[o] = shape[d];
                outerStrides[o++] = strides[d];
                outShape[k++] = shape[d];
            }
        }
        DType in = x.dtype();
        DType outType = in.isFloatingPoint() ? in : DType.I64;
        NDArray out = NDArray.zeros(outType, outShape);
        if (in.isFloatingPoint() && innermostAxisIsKept(shape, strides, reduced)
                && out.numel() <= Integer.MAX_VALUE - 8) {
            accumulateInMemoryOrder(x, reduced, out, mean);
            return out;
        }
        Block block = new Block(x.segment(), in, innerShape, innerStrides);
        long outputs = Shapes.numel(outerShape);
        MemorySegment os = out.segment();
        if (outputs == 1 && block.count >= Parallel.PARALLEL_THRESHOLD) {
            if (in.isFloatingPoint()) {
                double s = block.parallelSum(x.offset());
                Elements.setDouble(os, outType, 0, mean ? s / block.count : s);
            } else {
                Elements.setLong(os, outType, 0, block.parallelSumIntegral(x.offset()));
            }
            return out;
        }
        long minChunk = Math.max(1, Parallel.PARALLEL_THRESHOLD / Math.max(block.count, 1));
        Parallel.forRange(outputs, minChunk, (start, end) -> {
            StridedCursor c = new StridedCursor(outerShape, new long[] {x.offset()}, outerStrides);
            c.seek(start);
            for (long o = start; o < end; o++, c.advance()) {
                long base = c.position(0);
                if (in.isFloatingPoint()) {
                    double[] acc = new double[2];
                    block.sumFloating(base, 0, block.count, acc);
                    double s = acc[0] + acc[1];
                    Elements.setDouble(os, outType, o, mean ? s / block.count : s);
                } else {
                    Elements.setLong(os, outType, o, block.sumIntegral(base, 0, block.count));
                }
            }
        });
        return out;
    }

    /**
     * Whether the dimension with the smallest stride survives the reduction. Then summing each output's block
     * separately would stride through memory, so {@link #accumulateInMemoryOrder} is used instead.
     */
    private static boolean innermostAxisIsKept(long[] shape, long[] strides, boolean[] reduced) {
        int innermost = -1;
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] > 1 && strides[d] != 0 && (innermost < 0 || strides[d] < strides[innermost])) innermost = d;
        }
        return innermost >= 0 && !reduced[innermost];
    }

    /** Reads the input once in storage order, adding each element into its output's compensated accumulator. */
    private static void accumulateInMemoryOrder(NDArray x, boolean[] reduced, NDArray out, boolean mean) {
        long[] shape = x.shape();
        long[] accStrides = new long[shape.length];
        long size = 1, count = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            if (reduced[d]) {
                count *= shape[d];
            } else {
                accStrides[d] = size;
                size *= shape[d];
            }
        }
        double[] sum = new double[(int) size];
        double[] comp = new double[(int) size];
        DType t = x.dtype();
        MemorySegment xs = x.segment();
        Loops.Plan plan = Loops.plan(shape, new long[] {x.offset(), 0}, x.strides(), accStrides);
        long sx = plan.innerStride(0), sa = plan.innerStride(1);
        plan.runSerial((p, n) -> {
            for (long i = 0; i < n; i++) {
                long at = p[0] + i * sx;
                double v = t == DType.F32 ? xs.getAtIndex(Elements.F32, at) : Elements.getDouble(xs, t, at);
                int o = (int) (p[1] + i * sa);
                double s = sum[o];
                double total = s + v;
                if (Double.isFinite(total)) comp[o] += Math.abs(s) >= Math.abs(v) ? (s - total) + v : (v - total) + s;
                sum[o] = total;
            }
        });
        MemorySegment os = out.segment();
        for (int o = 0; o < sum.length; o++) {
            double s = sum[o] + comp[o];
            Elements.setDouble(os, out.dtype(), o, mean ? s / count : s);
        }
    }

    private static boolean[] reducedAxes(String op, NDArray x, int[] axes) {
        boolean[] reduced = new boolean[x.rank()];
        if (axes == null || axes.length == 0) {
            Arrays.fill(reduced, true);
            return reduced;
        }
        for (int a : axes) {
            int axis = Shapes.axis(op, a, x.rank());
            if (reduced[axis]) {
                throw new KilnException(op + ": axis " + a + " appears twice in " + Arrays.toString(axes));
            }
            reduced[axis] = true;
        }
        return reduced;
    }

    /** The reduced elements under one output: a strided block of {@code count} elements. */
    private static final class Block {
        final MemorySegment xs;
        final DType type;
        final long[] shape;
        final long[] strides;
        final long count;
        final boolean singleRow;
        final long rowStride;

        Block(MemorySegment xs, DType type, long[] shape, long[] strides) {
            this.xs = xs;
            this.type = type;
            this.shape = shape;
            this.strides = strides;
            this.count = Shapes.numel(shape);
            this.singleRow = isSingleRow(shape, strides);
            this.rowStride = rowStride(shape, strides);
        }

        /** Adds elements {@code [from, to)} of the block at {@code base} into {@code acc} (sum, compensation). */
        void sumFloating(long base, long from, long to, double[] acc) {
            double s = acc[0], comp = acc[1];
            if (singleRow) {
                boolean f32 = type == DType.F32;
                for (long i = from; i < to; i++) {
                    long at = base + i * rowStride;
                    double v = f32 ? xs.getAtIndex(Elements.F32, at) : Elements.getDouble(xs, type, at);
                    double t = s + v;
                    if (Double.isFinite(t)) comp += Math.abs(s) >= Math.abs(v) ? (s - t) + v : (v - t) + s;
                    s = t;
                }
            } else {
                StridedCursor c = new StridedCursor(shape, new long[] {base}, strides);
                c.seek(from);
                for (long i = from; i < to; i++, c.advance()) {
                    double v = Elements.getDouble(xs, type, c.position(0));
                    double t = s + v;
                    if (Double.isFinite(t)) comp += Math.abs(s) >= Math.abs(v) ? (s - t) + v : (v - t) + s;
                    s = t;
                }
            }
            acc[0] = s;
            acc[1] = comp;
        }

        long sumIntegral(long base, long from, long to) {
            StridedCursor c = new StridedCursor(shape, new long[] {base}, strides);
            c.seek(from);
            long s = 0;
            for (long i = from; i < to; i++, c.advance()) s += Elements.getLong(xs, type, c.position(0));
            return s;
        }

        double parallelSum(long base) {
            java.util.Queue<double[]> partials = new java.util.concurrent.ConcurrentLinkedQueue<>();
            Parallel.forRange(count, Parallel.PARALLEL_THRESHOLD / 4, (from, to) -> {
                double[] acc = new double[2];
                sumFloating(base, from, to, acc);
                partials.add(acc);
            });
            double[] total = new double[2];
            for (double[] p : partials) {
                double s = total[0], v = p[0];
                double t = s + v;
                if (Double.isFinite(t)) total[1] += (Math.abs(s) >= Math.abs(v) ? (s - t) + v : (v - t) + s) + p[1];
                total[0] = t;
            }
            return total[0] + total[1];
        }

        long parallelSumIntegral(long base) {
            java.util.concurrent.atomic.LongAdder total = new java.util.concurrent.atomic.LongAdder();
            Parallel.forRange(count, Parallel.PARALLEL_THRESHOLD / 4,
                    (from, to) -> total.add(sumIntegral(base, from, to)));
            return total.sum();
        }
    }

    /** Whether the reduced block is one evenly strided run (dimensions of size 1 aside). */
    private static boolean isSingleRow(long[] shape, long[] strides) {
        int nonUnit = 0;
        for (long d : shape) if (d != 1) nonUnit++;
        if (nonUnit <= 1) return true;
        long expected = -1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] == 1) continue;
            if (expected >= 0 && strides[i] != expected) return false;
            expected = strides[i] * shape[i];
        }
        return true;
    }

    private static long rowStride(long[] shape, long[] strides) {
        for (int i = shape.length - 1; i >= 0; i--) if (shape[i] != 1) return strides[i];
        return 1;
    }
}
