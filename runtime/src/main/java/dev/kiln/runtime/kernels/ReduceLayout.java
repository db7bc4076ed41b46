package dev.kiln.runtime.kernels;

import dev.kiln.ir.KilnException;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.Shapes;
import dev.kiln.runtime.StridedCursor;

import java.util.Arrays;

/**
 * Splits a tensor's dims into kept (one output each) and reduced (the block each output reduces) for a
 * reduction over a set of axes, and visits the outputs in row-major order, in parallel when large.
 */
final class ReduceLayout {
    final NDArray x;
    /** The result shape (reduced axes removed, or kept as 1 with keepDim). */
    final long[] outShape;
    final boolean[] reduced;
    private final long[] outerShape, outerStrides;
    final long[] innerShape, innerStrides;
    /** Elements each output reduces. */
    final long count;

    /** Handles one output: its row-major index and the element offset where its block starts. */
    @FunctionalInterface
    interface Body {
        void run(long output, long base);
    }

    /** {@code axes} empty or null means all axes; negative axes count from the end; duplicates are errors. */
    ReduceLayout(String op, NDArray x, int[] axes, boolean keepDim) {
        this.x = x;
        int rank = x.rank();
        reduced = new boolean[rank];
        if (axes == null || axes.length == 0) Arrays.fill(reduced, true);
        else {
            for (int a : axes) {
                int axis = Shapes.axis(op, a, rank);
                if (reduced[axis]) {
                    throw new KilnException(op + ": axis " + a + " appears twice in " + Arrays.toString(axes));
                }
                reduced[axis] = true;
            }
        }
        long[] shape = x.shape(), strides = x.strides();
        int kept = 0;
        for (boolean r : reduced) if (!r) kept++;
        outerShape = new long[kept];
        outerStrides = new long[kept];
        innerShape = new long[rank - kept];
        innerStrides = new long[rank - kept];
        outShape = new long[keepDim ? rank : kept];
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
        count = Shapes.numel(innerShape);
    }

    /** Rejects reducing a zero-size dim for ops without an identity (amax, amin, argmax, argmin). */
    void requireNonEmpty(String op) {
        if (count == 0) {
            throw new KilnException(op + ": cannot reduce over a zero-size dimension of shape "
                    + Shapes.str(x.shape()) + " (the op has no identity)");
        }
    }

    /** A cursor over the block of the output whose block starts at {@code base}. */
    StridedCursor block(long base) {
        return new StridedCursor(innerShape, new long[] {base}, innerStrides);
    }

    /** Calls {@code body} once per output (row-major output order), splitting across threads when large. */
    void forEachOutput(Body body) {
        long outputs = Shapes.numel(outerShape);
        long minChunk = Math.max(1, Parallel.PARALLEL_THRESHOLD / Math.max(count, 1));
        Parallel.forRange(outputs, minChunk, (start, end) -> {
            StridedCursor c = new StridedCursor(outerShape, new long[] {x.offset()}, outerStrides);
            c.seek(start);
            for (long o = start; o < end; o++, c.advance()) body.run(o, c.position(0));
        });
    }
}
