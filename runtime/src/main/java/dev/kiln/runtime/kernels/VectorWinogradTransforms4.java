package dev.kiln.runtime.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * {@link WinogradTransforms} of F(4x4, 3x3) on the Vector API, one tile per lane. With the interpolation points
 * 0, +-1, +-2 and infinity (Lavin and Gray), {@code B^T} holds 0, +-1, +-2, +-4 and -5 and {@code A^T} 0, +-1, +-2,
 * +-4 and +-8, so each 1-D transform of 6 elements is a few additions and multiply-adds by those constants. Each
 * 2-D transform runs as 1-D transforms down the columns into a per-thread buffer of vectors (in L1), then along its
 * rows: the 36 elements of a tile would not fit in registers. Only loaded when {@code jdk.incubator.vector} is
 * present.
 */
final class VectorWinogradTransforms4 implements WinogradTransforms {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Per thread: 36 vectors, the column transforms of one chunk of tiles. */
    private static final FloatVector TWO = FloatVector.broadcast(S, 2f), FOUR = FloatVector.broadcast(S, 4f),
            EIGHT = FloatVector.broadcast(S, 8f), MINUS_FOUR = FloatVector.broadcast(S, -4f), MINUS_FIVE = FloatVector.broadcast(S, -5f);
    private static final ThreadLocal<float[]> COLUMNS = ThreadLocal.withInitial(() -> new float[36 * L]);

    VectorWinogradTransforms4() {}

    @Override
    public int lanes() {
        return L;
    }

    @Override
    public int tile() {
        return 4;
    }

    @Override
    public void input(float[] planes, int base, int planeStride, int wp, int tiles, float[][] v, int rowBase,
                      int panelStride, int g0) {
        float[] r = COLUMNS.get();
        int nr = PackedGemm.NR;
        for (int t = 0; t < tiles; t += L) {
            // columns: r[i][j] = (B^T d)[i][j], d[i][j] = plane (i%4, j%4) at t + (i/4)*wp + j/4
            for (int j = 0; j < 6; j++) {
                int col = base + (j % 4) * planeStride + t + j / 4;
                FloatVector d0 = FloatVector.fromArray(S, planes, col);
                FloatVector d1 = FloatVector.fromArray(S, planes, col + 4 * planeStride);
                FloatVector d2 = FloatVector.fromArray(S, planes, col + 8 * planeStride);
                FloatVector d3 = FloatVector.fromArray(S, planes, col + 12 * planeStride);
                FloatVector d4 = FloatVector.fromArray(S, planes, col + wp);
                FloatVector d5 = FloatVector.fromArray(S, planes, col + 4 * planeStride + wp);
                FloatVector p = d2.fma(MINUS_FOUR, d4), q = d1.fma(MINUS_FOUR, d3), u = d4.sub(d2), w = d3.sub(d1).mul(TWO);
                d0.fma(FOUR, d2.fma(MINUS_FIVE, d4)).intoArray(r, j * L);
                p.add(q).intoArray(r, (6 + j) * L);
                p.sub(q).intoArray(r, (12 + j) * L);
                u.add(w).intoArray(r, (18 + j) * L);
                u.sub(w).intoArray(r, (24 + j) * L);
                d1.fma(FOUR, d3.fma(MINUS_FIVE, d5)).intoArray(r, (30 + j) * L);
            }
            int g = g0 + t, at = rowBase + (g / nr) * panelStride + g % nr;
            // rows: (B^T d) B, position xi = 6 i + j
            for (int i = 0; i < 6; i++) {
                int row = 6 * i * L;
                FloatVector d0 = FloatVector.fromArray(S, r, row), d1 = FloatVector.fromArray(S, r, row + L);
                FloatVector d2 = FloatVector.fromArray(S, r, row + 2 * L), d3 = FloatVector.fromArray(S, r, row + 3 * L);
                FloatVector d4 = FloatVector.fromArray(S, r, row + 4 * L), d5 = FloatVector.fromArray(S, r, row + 5 * L);
                FloatVector p = d2.fma(MINUS_FOUR, d4), q = d1.fma(MINUS_FOUR, d3), u = d4.sub(d2), w = d3.sub(d1).mul(TWO);
                d0.fma(FOUR, d2.fma(MINUS_FIVE, d4)).intoArray(v[6 * i], at);
                p.add(q).intoArray(v[6 * i + 1], at);
                p.sub(q).intoArray(v[6 * i + 2], at);
                u.add(w).intoArray(v[6 * i + 3], at);
                u.sub(w).intoArray(v[6 * i + 4], at);
                d1.fma(FOUR, d3.fma(MINUS_FIVE, d5)).intoArray(v[6 * i + 5], at);
            }
        }
    }

    @Override
    public void output(MemorySegment m, long base, long xiStride, int tiles, float[] q) {
        float[] s = COLUMNS.get();
        long step = xiStride * 4;
        for (int t = 0; t < tiles; t += L) {
            long b = (base + t) * 4;
            // columns: s[r][j] = (A^T M)[r][j], M[i][j] at position 6 i + j
            for (int j = 0; j < 6; j++) {
                long col = b + j * step;
                FloatVector m0 = FloatVector.fromMemorySegment(S, m, col, ORDER), m1 = FloatVector.fromMemorySegment(S, m, col + 6 * step, ORDER);
                FloatVector m2 = FloatVector.fromMemorySegment(S, m, col + 12 * step, ORDER), m3 = FloatVector.fromMemorySegment(S, m, col + 18 * step, ORDER);
                FloatVector m4 = FloatVector.fromMemorySegment(S, m, col + 24 * step, ORDER), m5 = FloatVector.fromMemorySegment(S, m, col + 30 * step, ORDER);
                FloatVector sum12 = m1.add(m2), dif12 = m1.sub(m2), sum34 = m3.add(m4), dif34 = m3.sub(m4);
                m0.add(sum12).add(sum34).intoArray(s, j * L);
                dif34.fma(TWO, dif12).intoArray(s, (6 + j) * L);
                sum34.fma(FOUR, sum12).intoArray(s, (12 + j) * L);
                dif34.fma(EIGHT, dif12.add(m5)).intoArray(s, (18 + j) * L);
            }
            // rows: (A^T M) A, output (r, c) to q[(4 r + c) * tiles + t]
            for (int r = 0; r < 4; r++) {
                int row = 6 * r * L;
                FloatVector m0 = FloatVector.fromArray(S, s, row), m1 = FloatVector.fromArray(S, s, row + L);
                FloatVector m2 = FloatVector.fromArray(S, s, row + 2 * L), m3 = FloatVector.fromArray(S, s, row + 3 * L);
                FloatVector m4 = FloatVector.fromArray(S, s, row + 4 * L), m5 = FloatVector.fromArray(S, s, row + 5 * L);
                FloatVector sum12 = m1.add(m2), dif12 = m1.sub(m2), sum34 = m3.add(m4), dif34 = m3.sub(m4);
                int out = 4 * r * tiles + t;
                m0.add(sum12).add(sum34).intoArray(q, out);
                dif34.fma(TWO, dif12).intoArray(q, out + tiles);
                sum34.fma(FOUR, sum12).intoArray(q, out + 2 * tiles);
                dif34.fma(EIGHT, dif12.add(m5)).intoArray(q, out + 3 * tiles);
            }
        }
    }


    @Override
    public int interleave(float[] q, int tiles, int r, int t0, int n, MemorySegment out, long at) {
        int first = 4 * r * tiles + t0, i = 0;
        for (; i + L <= n; i += L) zip4(q, first + i, tiles, out, at + 4L * i);
        if (i < n && i > 0) {
            zip4(q, first + n - L, tiles, out, at + 4L * (n - L));   // overlaps the previous vector
            i = n;
        } else if (i < n && first + L <= q.length - 3 * tiles) {
            // fewer tiles than lanes (a 56-wide output has 14 tiles of 4): zipped whole into a buffer, then copied
            float[] row = COLUMNS.get();
            zip4(q, first, tiles, row);
            MemorySegment.copy(row, 0, out, java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, at * 4, 4 * n);
            i = n;
        }
        return i;
    }

    /** Four vectors of outputs 0..3 of L tiles, interleaved into 4 L floats: tile by tile, its four outputs. */
    private static void zip4(float[] q, int from, int tiles, MemorySegment out, long at) {
        FloatVector x0 = FloatVector.fromArray(S, q, from), x1 = FloatVector.fromArray(S, q, from + tiles);
        FloatVector x2 = FloatVector.fromArray(S, q, from + 2 * tiles), x3 = FloatVector.fromArray(S, q, from + 3 * tiles);
        // (x0, x2) and (x1, x3) zipped, then the two zipped: x0[i], x1[i], x2[i], x3[i]
        FloatVector e0 = x0.rearrange(VectorZips.LOW, x2), e1 = x0.rearrange(VectorZips.HIGH, x2);
        FloatVector f0 = x1.rearrange(VectorZips.LOW, x3), f1 = x1.rearrange(VectorZips.HIGH, x3);
        long b = at * 4;
        e0.rearrange(VectorZips.LOW, f0).intoMemorySegment(out, b, ORDER);
        e0.rearrange(VectorZips.HIGH, f0).intoMemorySegment(out, b + 4L * L, ORDER);
        e1.rearrange(VectorZips.LOW, f1).intoMemorySegment(out, b + 8L * L, ORDER);
        e1.rearrange(VectorZips.HIGH, f1).intoMemorySegment(out, b + 12L * L, ORDER);
    }

    /** {@link #zip4} into the first 4 L floats of {@code row}. */
    private static void zip4(float[] q, int from, int tiles, float[] row) {
        FloatVector x0 = FloatVector.fromArray(S, q, from), x1 = FloatVector.fromArray(S, q, from + tiles);
        FloatVector x2 = FloatVector.fromArray(S, q, from + 2 * tiles), x3 = FloatVector.fromArray(S, q, from + 3 * tiles);
        FloatVector e0 = x0.rearrange(VectorZips.LOW, x2), e1 = x0.rearrange(VectorZips.HIGH, x2);
        FloatVector f0 = x1.rearrange(VectorZips.LOW, x3), f1 = x1.rearrange(VectorZips.HIGH, x3);
        e0.rearrange(VectorZips.LOW, f0).intoArray(row, 0);
        e0.rearrange(VectorZips.HIGH, f0).intoArray(row, L);
        e1.rearrange(VectorZips.LOW, f1).intoArray(row, 2 * L);
        e1.rearrange(VectorZips.HIGH, f1).intoArray(row, 3 * L);
    }
}
