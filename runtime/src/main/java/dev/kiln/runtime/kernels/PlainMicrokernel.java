package dev.kiln.runtime.kernels;

import java.lang.foreign.MemorySegment;

import static dev.kiln.runtime.Elements.F32;

/**
 * The plain-Java {@link Microkernel}, used when the Vector API is absent: a 4 x 8 tile computed one element at a
 * time as a dot product over the packed panels. Correct and allocation-free, not fast; large GEMMs then go to
 * OpenBLAS when it is present.
 */
final class PlainMicrokernel implements Microkernel {
    static final int MR = 4, NR = 8;

    @Override
    public int mr() { return MR; }

    @Override
    public int nr() { return NR; }

    @Override
    public void tile(int kc, float[] a, int ao, float[] b, int bo, MemorySegment c, long co, long ldcBytes,
                     boolean accumulate) {
        for (int r = 0; r < MR; r++) {
            for (int j = 0; j < NR; j++) {
                long at = co + r * ldcBytes + j * 4L;
                float s = accumulate ? c.get(F32, at) : 0f;
                for (int p = 0; p < kc; p++) s += a[ao + p * MR + r] * b[bo + p * NR + j];
                c.set(F32, at, s);
            }
        }
    }

    @Override
    public void packRows(MemorySegment src, long from, long strideBytes, int rows, int kc, float[] dst, int to) {
        for (int p = 0; p < kc; p++) {
            int at = to + p * MR;
            for (int r = 0; r < rows; r++) dst[at + r] = src.get(F32, from + r * strideBytes + p * 4L);
            for (int r = rows; r < MR; r++) dst[at + r] = 0f;
        }
    }

    @Override
    public void packPanel(MemorySegment src, long from, long strideBytes, int rows, int cols, float[] dst, int to) {
        for (int p = 0; p < rows; p++) {
            long row = from + p * strideBytes;
            int at = to + p * NR;
            for (int j = 0; j < cols; j++) dst[at + j] = src.get(F32, row + j * 4L);
            for (int j = cols; j < NR; j++) dst[at + j] = 0f;
        }
    }
}
