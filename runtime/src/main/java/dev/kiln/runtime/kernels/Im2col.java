package dev.kiln.runtime.kernels;

import dev.kiln.runtime.Elements;

import java.lang.foreign.MemorySegment;

/**
 * Unfolds convolution windows into a matrix so that a convolution becomes one GEMM: row {@code (c, i, j)} of
 * the result holds, for every output position, the input pixel that kernel tap {@code (i, j)} of channel
 * {@code c} sees there (zero where it falls in the padding). Works on raw element bytes, so it serves f32 and f64.
 */
final class Im2col {
    /** Geometry of one convolution: input plane size, kernel, stride, padding, dilation and output size. */
    record Geometry(long channels, long h, long w, long kh, long kw, long sh, long sw, long ph, long pw, long dh,
                    long dw, long oh, long ow) {
        long rows() { return channels * kh * kw; }

        long columns() { return oh * ow; }
    }

    private Im2col() {}

    /**
     * Fills {@code col} (rows() x columns(), row-major) from the {@code channels} planes of {@code x} starting at
     * element {@code xOffset}.
     */
    static void fill(MemorySegment x, long xOffset, int bytes, Geometry g, MemorySegment col) {
        long columns = g.columns();
        long minChunk = Math.max(1, Parallel.PARALLEL_THRESHOLD / Math.max(columns, 1));
        Parallel.forRange(g.rows(), minChunk, (start, end) -> {
            for (long r = start; r < end; r++) fillRow(x, xOffset, bytes, g, col, r);
        });
    }

    private static void fillRow(MemorySegment x, long xOffset, int bytes, Geometry g, MemorySegment col, long r) {
        long c = r / (g.kh() * g.kw());
        long i = (r / g.kw()) % g.kh();
        long j = r % g.kw();
        long shiftW = j * g.dw() - g.pw();
        long owLo = Math.min(g.ow(), Math.max(0, Math.ceilDiv(-shiftW, g.sw())));
        long owHi = Math.max(owLo, Math.min(g.ow(), Math.floorDiv(g.w() - 1 - shiftW, g.sw()) + 1));
        long rowBase = r * g.columns();
        for (long oh = 0; oh < g.oh(); oh++) {
            long ih = oh * g.sh() - g.ph() + i * g.dh();
            long dst = rowBase + oh * g.ow();
            if (ih < 0 || ih >= g.h()) {
                zero(col, dst, g.ow(), bytes);
                continue;
            }
            zero(col, dst, owLo, bytes);
            long src = xOffset + (c * g.h() + ih) * g.w() + owLo * g.sw() + shiftW;
            if (g.sw() == 1) {
                MemorySegment.copy(x, src * bytes, col, (dst + owLo) * bytes, (owHi - owLo) * bytes);
            } else {
                for (long ow = owLo; ow < owHi; ow++) {
                    Elements.copyElement(x, src + (ow - owLo) * g.sw(), col, dst + ow, bytes);
                }
            }
            zero(col, dst + owHi, g.ow() - owHi, bytes);
        }
    }

    private static void zero(MemorySegment seg, long start, long count, int bytes) {
        if (count > 0) seg.asSlice(start * bytes, count * bytes).fill((byte) 0);
    }
}
