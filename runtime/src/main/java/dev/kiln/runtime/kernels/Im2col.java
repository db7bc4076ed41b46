package dev.kiln.runtime.kernels;

import dev.kiln.runtime.Elements;

import java.lang.foreign.MemorySegment;

/**
 * Unfolds convolution windows into a matrix so that a convolution becomes one GEMM: row {@code (c, i, j)} of
 * the result holds, for every output position of every image in a batch, the input pixel that kernel tap
 * {@code (i, j)} of channel {@code c} sees there (zero where it falls in the padding). {@link #fold} is the
 * adjoint (col2im): it adds each column entry back onto the pixel it came from. Both serve f32 and f64, working
 * on heap copies of one plane at a time.
 */
final class Im2col {
    /**
     * Geometry of one convolution: input plane size, kernel, stride, padding, dilation and output grid. The
     * output grid may be smaller than the natural convolution output (then only its leading positions exist).
     */
    record Geometry(long channels, long h, long w, long kh, long kw, long sh, long sw, long ph, long pw, long dh,
                    long dw, long oh, long ow) {
        long rows() { return channels * kh * kw; }

        long columns() { return oh * ow; }

        /** First output column whose tap {@code j} lands inside the input (clamped to [0, ow]). */
        long owLo(long j) {
            long shiftW = j * dw - pw;
            return Math.min(ow, Math.max(0, Math.ceilDiv(-shiftW, sw)));
        }

        /** One past the last output column whose tap {@code j} lands inside the input. */
        long owHi(long j) {
            long shiftW = j * dw - pw;
            return Math.max(owLo(j), Math.min(ow, Math.floorDiv(w - 1 - shiftW, sw) + 1));
        }
    }

    private Im2col() {}

    /**
     * Fills {@code col} ({@code rows() x images*columns()}, row-major) from {@code images} images whose
     * {@code channels} planes start at element {@code xOffset + b * imageStride} of {@code x}: image {@code b}
     * occupies columns {@code [b*columns(), (b+1)*columns())}. Each (image, channel) plane is read once onto the
     * heap and its kh*kw rows are built there, by one thread.
     */
    static void fill(MemorySegment x, long xOffset, long imageStride, long images, boolean f64, Geometry g,
                     MemorySegment col) {
        long ld = images * g.columns(), hw = g.h() * g.w(), cols = g.columns();
        long planeWork = Math.max(1, g.kh() * g.kw() * cols);
        Parallel.forRange(images * g.channels(), Math.max(1, Parallel.PARALLEL_THRESHOLD / planeWork), (start, end) -> {
            Object plane = f64 ? new double[(int) hw] : new float[(int) hw];
            Object row = f64 ? new double[(int) cols] : new float[(int) cols];
            for (long t = start; t < end; t++) {
                long b = t / g.channels(), c = t % g.channels();
                long from = xOffset + b * imageStride + c * hw;
                if (f64) MemorySegment.copy(x, Elements.F64, from * 8, (double[]) plane, 0, (int) hw);
                else MemorySegment.copy(x, Elements.F32, from * 4, (float[]) plane, 0, (int) hw);
                for (long i = 0; i < g.kh(); i++) {
                    for (long j = 0; j < g.kw(); j++) {
                        long dst = ((c * g.kh() + i) * g.kw() + j) * ld + b * cols;
                        if (f64) {
                            fillRow((double[]) plane, g, i, j, (double[]) row);
                            MemorySegment.copy((double[]) row, 0, col, Elements.F64, dst * 8, (int) cols);
                        } else {
                            fillRow((float[]) plane, g, i, j, (float[]) row);
                            MemorySegment.copy((float[]) row, 0, col, Elements.F32, dst * 4, (int) cols);
                        }
                    }
                }
            }
        });
    }

    /** Row of tap (i, j): the pixel each output position reads, zero in the padding. */
    private static void fillRow(float[] plane, Geometry g, long i, long j, float[] row) {
        int owLo = (int) g.owLo(j), owHi = (int) g.owHi(j), ow = (int) g.ow(), sw = (int) g.sw();
        for (long oh = 0; oh < g.oh(); oh++) {
            long ih = oh * g.sh() - g.ph() + i * g.dh();
            int dst = (int) oh * ow;
            if (ih < 0 || ih >= g.h()) {
                java.util.Arrays.fill(row, dst, dst + ow, 0f);
                continue;
            }
            int src = (int) (ih * g.w() + j * g.dw() - g.pw());
            java.util.Arrays.fill(row, dst, dst + owLo, 0f);
            // a tap that never lands inside the row (padding at least the input or kernel span) copies nothing;
            // arraycopy would reject its out-of-plane start even for length 0
            if (owHi == owLo) { }
            else if (sw == 1) System.arraycopy(plane, src + owLo, row, dst + owLo, owHi - owLo);
            else for (int o = owLo; o < owHi; o++) row[dst + o] = plane[src + o * sw];
            java.util.Arrays.fill(row, dst + owHi, dst + ow, 0f);
        }
    }

    /** The f64 twin of {@link #fillRow(float[], Geometry, long, long, float[])}. */
    private static void fillRow(double[] plane, Geometry g, long i, long j, double[] row) {
        int owLo = (int) g.owLo(j), owHi = (int) g.owHi(j), ow = (int) g.ow(), sw = (int) g.sw();
        for (long oh = 0; oh < g.oh(); oh++) {
            long ih = oh * g.sh() - g.ph() + i * g.dh();
            int dst = (int) oh * ow;
            if (ih < 0 || ih >= g.h()) {
                java.util.Arrays.fill(row, dst, dst + ow, 0d);
                continue;
            }
            int src = (int) (ih * g.w() + j * g.dw() - g.pw());
            java.util.Arrays.fill(row, dst, dst + owLo, 0d);
            for (int o = owLo; o < owHi; o++) row[dst + o] = plane[src + o * sw];
            java.util.Arrays.fill(row, dst + owHi, dst + ow, 0d);
        }
    }

    /**
     * The adjoint of {@link #fill}: adds every entry of {@code col} ({@code rows() x images*columns()}) onto the
     * input pixel it was read from, in image {@code b}'s planes at {@code xOffset + b * imageStride} of {@code x}.
     * Entries that fell in the padding are dropped. Each (image, channel) plane is accumulated on the heap by
     * one thread.
     */
    static void fold(MemorySegment col, long images, boolean f64, Geometry g, MemorySegment x, long xOffset,
                     long imageStride) {
        long ld = images * g.columns(), hw = g.h() * g.w();
        long planeWork = Math.max(1, g.kh() * g.kw() * g.columns());
        Parallel.forRange(images * g.channels(), Math.max(1, Parallel.PARALLEL_THRESHOLD / planeWork), (start, end) -> {
            Object acc = f64 ? new double[(int) hw] : new float[(int) hw];
            Object row = f64 ? new double[(int) g.columns()] : new float[(int) g.columns()];
            for (long t = start; t < end; t++) {
                long b = t / g.channels(), c = t % g.channels();
                long plane = xOffset + b * imageStride + c * hw;
                if (f64) MemorySegment.copy(x, Elements.F64, plane * 8, (double[]) acc, 0, (int) hw);
                else MemorySegment.copy(x, Elements.F32, plane * 4, (float[]) acc, 0, (int) hw);
                for (long i = 0; i < g.kh(); i++) {
                    for (long j = 0; j < g.kw(); j++) {
                        long src = ((c * g.kh() + i) * g.kw() + j) * ld + b * g.columns();
                        if (f64) {
                            MemorySegment.copy(col, Elements.F64, src * 8, (double[]) row, 0, (int) g.columns());
                            foldRow((double[]) row, g, i, j, (double[]) acc);
                        } else {
                            MemorySegment.copy(col, Elements.F32, src * 4, (float[]) row, 0, (int) g.columns());
                            foldRow((float[]) row, g, i, j, (float[]) acc);
                        }
                    }
                }
                if (f64) MemorySegment.copy((double[]) acc, 0, x, Elements.F64, plane * 8, (int) hw);
                else MemorySegment.copy((float[]) acc, 0, x, Elements.F32, plane * 4, (int) hw);
            }
        });
    }

    /** Adds tap (i, j)'s column row onto the plane. */
    private static void foldRow(float[] row, Geometry g, long i, long j, float[] plane) {
        int owLo = (int) g.owLo(j), owHi = (int) g.owHi(j), ow = (int) g.ow(), sw = (int) g.sw();
        for (long oh = 0; oh < g.oh(); oh++) {
            long ih = oh * g.sh() - g.ph() + i * g.dh();
            if (ih < 0 || ih >= g.h()) continue;
            int dst = (int) (ih * g.w() + j * g.dw() - g.pw()), src = (int) oh * ow;
            if (sw == 1) {
                for (int o = owLo; o < owHi; o++) plane[dst + o] += row[src + o];
            } else {
                for (int o = owLo; o < owHi; o++) plane[dst + o * sw] += row[src + o];
            }
        }
    }

    /** The f64 twin of {@link #foldRow(float[], Geometry, long, long, float[])}. */
    private static void foldRow(double[] row, Geometry g, long i, long j, double[] plane) {
        int owLo = (int) g.owLo(j), owHi = (int) g.owHi(j), ow = (int) g.ow(), sw = (int) g.sw();
        for (long oh = 0; oh < g.oh(); oh++) {
            long ih = oh * g.sh() - g.ph() + i * g.dh();
            if (ih < 0 || ih >= g.h()) continue;
            int dst = (int) (ih * g.w() + j * g.dw() - g.pw()), src = (int) oh * ow;
            for (int o = owLo; o < owHi; o++) plane[dst + o * sw] += row[src + o];
        }
    }
}
