package dev.kiln.runtime.kernels;

import dev.kiln.runtime.StridedCursor;

import java.util.Arrays;

/**
 * Turns an elementwise loop over several strided operands into as few, as long rows as possible: size-1
 * dimensions are dropped and dimensions that are contiguous for every operand are merged, so contiguous
 * tensors become one row. Rows are handed to a {@link RowBody}, split over threads when there are many elements.
 */
final class Loops {
    private static final long MIN_CHUNK = 1 << 14;

    private Loops() {}

    /** Handles {@code length} elements; {@code start[k]} is operand k's element offset at the first one. */
    @FunctionalInterface
    interface RowBody {
        void row(long[] start, long length);
    }

    /** A coalesced iteration space; see {@link #plan}. */
    static final class Plan {
        private final long[] outerShape;
        private final long[][] outerStrides;
        private final long[] innerStrides;
        private final long[] offsets;
        private final long rowLength;
        private final long numel;

        private Plan(long[] shape, long[][] strides, long[] offsets) {
            int last = shape.length - 1;
            this.outerShape = Arrays.copyOf(shape, last);
            this.outerStrides = new long[strides.length][];
            this.innerStrides = new long[strides.length];
            for (int k = 0; k < strides.length; k++) {
                outerStrides[k] = Arrays.copyOf(strides[k], last);
                innerStrides[k] = strides[k][last];
            }
            this.offsets = offsets.clone();
            this.rowLength = shape[last];
            long n = 1;
            for (long d : shape) n *= d;
            this.numel = n;
        }

        /** Stride, in elements, of operand {@code k} along each row. */
        long innerStride(int k) {
            return innerStrides[k];
        }

        /** Visits every element once, row by row, in parallel chunks when the loop is large. */
        void run(RowBody body) {
            long minChunk = numel >= Parallel.PARALLEL_THRESHOLD ? MIN_CHUNK : Math.max(numel, 1);
            Parallel.forRange(numel, minChunk, (start, end) -> runRange(start, end, body));
        }

        /** Visits every element once on the calling thread, in row-major order. */
        void runSerial(RowBody body) {
            if (numel > 0) runRange(0, numel, body);
        }

        private void runRange(long start, long end, RowBody body) {
            StridedCursor cursor = new StridedCursor(outerShape, offsets, outerStrides);
            long[] pos = new long[offsets.length];
            long column = start % rowLength;
            cursor.seek(start / rowLength);
            while (start < end) {
                long length = Math.min(rowLength - column, end - start);
                for (int k = 0; k < pos.length; k++) pos[k] = cursor.position(k) + column * innerStrides[k];
                body.row(pos, length);
                start += length;
                column = 0;
                cursor.advance();
            }
        }
    }

    /** Plans a loop over {@code shape} for operands with the given element offsets and strides. */
    static Plan plan(long[] shape, long[] offsets, long[]... strides) {
        int ops = strides.length;
        long[] dims = new long[shape.length];
        long[][] st = new long[ops][shape.length];
        int rank = 0;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] == 1) continue;
            if (rank > 0 && mergeable(st, rank - 1, strides, i, shape[i])) {
                dims[rank - 1] *= shape[i];
                for (int k = 0; k < ops; k++) st[k][rank - 1] = strides[k][i];
                continue;
            }
            dims[rank] = shape[i];
            for (int k = 0; k < ops; k++) st[k][rank] = strides[k][i];
            rank++;
        }
        if (rank == 0) {
            return new Plan(new long[] {1}, new long[ops][1], offsets);
        }
        long[][] trimmed = new long[ops][];
        for (int k = 0; k < ops; k++) trimmed[k] = Arrays.copyOf(st[k], rank);
        return new Plan(Arrays.copyOf(dims, rank), trimmed, offsets);
    }

    private static boolean mergeable(long[][] merged, int at, long[][] strides, int i, long size) {
        for (int k = 0; k < strides.length; k++) {
            if (merged[k][at] != strides[k][i] * size) return false;
        }
        return true;
    }
}
