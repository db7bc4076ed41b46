package dev.kiln.runtime.kernels;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static dev.kiln.runtime.Elements.F32;
import static dev.kiln.runtime.Elements.F64;

/**
 * {@link SmallGemm} on the Vector API ({@code SPECIES_PREFERRED}, fused multiply-add), register-blocked so that at
 * most eight accumulators are live (AVX2 has 16 vector registers; the loads need the rest), twelve in the float
 * {@code B[k,n]} tiles when the vectors hold 16 floats (AVX-512, 32 registers). With B transposed
 * ({@code [n,k]}, the nn.Linear weight) each output is a dot product along k, its lanes summed at the end in the
 * order {@link VectorLanes} fixes (so a call gives the same bits in every JIT tier);
 * tiles of 4x2, 2x4 and 1x4 (rows of A x rows of B) share loads, so B is streamed once per four rows of A.
 * Otherwise ({@code B[k,n]}) tiles of rows of C are accumulated along k, broadcasting A's elements: in float, 4
 * rows x 3 vectors (12 accumulators, AVX-512 only) or 4 x 2, 2 x 4 and 1 x 4, each B vector loaded once per k step
 * for all rows of the tile; the n tail is a masked last vector of the last tile, and only tiles that reach past n
 * use masked loads (those are slower in the inner loop). Other tails (k with B transposed, n in double) are scalar
 * loops. Only loaded when {@code jdk.incubator.vector} is present, so nothing else in the runtime may refer to
 * this class directly.
 */
final class VectorSmallGemm implements SmallGemm {
    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> DS = DoubleVector.SPECIES_PREFERRED;
    private static final int FW = FS.length();
    private static final int DW = DS.length();
    /** Whether twelve float accumulators fit in registers (AVX-512: 32 vector registers, 16 floats each). */
    private static final boolean WIDE = FW >= 16;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    VectorSmallGemm() {}

    @Override
    public void sgemm(int m, int n, int k, MemorySegment a, int lda, MemorySegment b, int ldb, boolean transB,
                      MemorySegment c, int ldc) {
        sgemmTiles(m, n, k, a, lda, b, ldb, transB, c, ldc);
    }

    @Override
    public void dgemm(int m, int n, int k, MemorySegment a, int lda, MemorySegment b, int ldb, boolean transB,
                      MemorySegment c, int ldc) {
        dgemmTiles(m, n, k, a, lda, b, ldb, transB, c, ldc);
    }

    // ------------------------------------------------------------------ float

    /**
     * Dispatches float row tiles: four rows, then two, then one. With B transposed the tiles cover
     * {@code [0, kb)} of k and one extra pass adds the scalar tail {@code [kb, k)}, which keeps the tile methods
     * small enough for C2 to inline every vector operation (a vector that is not inlined is allocated). No vector
     * crosses a method boundary: every tile method builds its own mask and accumulators.
     */
    private static void sgemmTiles(int m, int n, int k, MemorySegment a, long lda, MemorySegment b, long ldb,
                                   boolean transB, MemorySegment c, long ldc) {
        int i = 0;
        if (transB) {
            int kb = FS.loopBound(k);
            for (; i + 4 <= m; i += 4) sNT4(i, n, kb, a, lda, b, ldb, c, ldc);
            for (; i + 2 <= m; i += 2) sNT2(i, n, kb, a, lda, b, ldb, c, ldc);
            if (i < m) sNT1(i, n, kb, a, lda, b, ldb, c, ldc);
            if (kb < k) sNTTail(m, n, k, kb, a, lda, b, ldb, c, ldc);
        } else {
            for (; i + 4 <= m; i += 4) sNNRows4(i, n, k, a, lda, b, ldb, c, ldc);
            for (; i + 2 <= m; i += 2) sNNRows2(i, n, k, a, lda, b, ldb, c, ldc);
            if (i < m) sNNRow1(i, n, k, a, lda, b, ldb, c, ldc);
        }
    }

    /** Adds {@code sum_{p in [kb, k)} a[i,p] * b[j,p]} to every element of C (the part the vector loops left). */
    private static void sNTTail(int m, int n, int k, int kb, MemorySegment a, long lda, MemorySegment b, long ldb,
                                MemorySegment c, long ldc) {
        for (long i = 0; i < m; i++) {
            for (long j = 0; j < n; j++) {
                float s = c.getAtIndex(F32, i * ldc + j);
                for (long p = kb; p < k; p++) s += a.getAtIndex(F32, i * lda + p) * b.getAtIndex(F32, j * ldb + p);
                c.setAtIndex(F32, i * ldc + j, s);
            }
        }
    }

    /** Four rows of A against two rows of B at a time (8 accumulators), so B is streamed once per 4 rows. */
    private static void sNT4(int i, int n, int kb, MemorySegment a, long lda, MemorySegment b, long ldb,
                             MemorySegment c, long ldc) {
        float[] lanes = VectorLanes.floats();
        long a0 = i * lda * 4L, a1 = a0 + lda * 4L, a2 = a1 + lda * 4L, a3 = a2 + lda * 4L;
        long c0 = i * ldc * 4L, c1 = c0 + ldc * 4L, c2 = c1 + ldc * 4L, c3 = c2 + ldc * 4L;
        int j = 0;
        for (; j + 2 <= n; j += 2) {
            long b0 = j * ldb * 4L, b1 = b0 + ldb * 4L;
            FloatVector z = FloatVector.zero(FS);
            FloatVector s00 = z, s01 = z, s10 = z, s11 = z, s20 = z, s21 = z, s30 = z, s31 = z;
            for (long p = 0; p < kb; p += FW) {
                long o = p * 4L;
                FloatVector y0 = FloatVector.fromMemorySegment(FS, b, b0 + o, ORDER);
                FloatVector y1 = FloatVector.fromMemorySegment(FS, b, b1 + o, ORDER);
                FloatVector x = FloatVector.fromMemorySegment(FS, a, a0 + o, ORDER);
                s00 = x.fma(y0, s00);
                s01 = x.fma(y1, s01);
                x = FloatVector.fromMemorySegment(FS, a, a1 + o, ORDER);
                s10 = x.fma(y0, s10);
                s11 = x.fma(y1, s11);
                x = FloatVector.fromMemorySegment(FS, a, a2 + o, ORDER);
                s20 = x.fma(y0, s20);
                s21 = x.fma(y1, s21);
                x = FloatVector.fromMemorySegment(FS, a, a3 + o, ORDER);
                s30 = x.fma(y0, s30);
                s31 = x.fma(y1, s31);
            }
            long o = (long) j * 4L;
            s00.intoArray(lanes, 0);
            s01.intoArray(lanes, FW);
            s10.intoArray(lanes, 2 * FW);
            s11.intoArray(lanes, 3 * FW);
            s20.intoArray(lanes, 4 * FW);
            s21.intoArray(lanes, 5 * FW);
            s30.intoArray(lanes, 6 * FW);
            s31.intoArray(lanes, 7 * FW);
            c.set(F32, c0 + o, VectorLanes.sum(lanes, 0));
            c.set(F32, c0 + o + 4L, VectorLanes.sum(lanes, FW));
            c.set(F32, c1 + o, VectorLanes.sum(lanes, 2 * FW));
            c.set(F32, c1 + o + 4L, VectorLanes.sum(lanes, 3 * FW));
            c.set(F32, c2 + o, VectorLanes.sum(lanes, 4 * FW));
            c.set(F32, c2 + o + 4L, VectorLanes.sum(lanes, 5 * FW));
            c.set(F32, c3 + o, VectorLanes.sum(lanes, 6 * FW));
            c.set(F32, c3 + o + 4L, VectorLanes.sum(lanes, 7 * FW));
        }
        if (j < n) sNT4x1(i, j, kb, a, lda, b, ldb, c, ldc);
    }

    /** Column j of rows i..i+3 (4 accumulators). */
    private static void sNT4x1(int i, int j, int kb, MemorySegment a, long lda, MemorySegment b, long ldb,
                               MemorySegment c, long ldc) {
        float[] lanes = VectorLanes.floats();
        long a0 = i * lda * 4L, a1 = a0 + lda * 4L, a2 = a1 + lda * 4L, a3 = a2 + lda * 4L;
        long b0 = j * ldb * 4L;
        FloatVector z = FloatVector.zero(FS);
        FloatVector s0 = z, s1 = z, s2 = z, s3 = z;
        for (long p = 0; p < kb; p += FW) {
            long o = p * 4L;
            FloatVector y = FloatVector.fromMemorySegment(FS, b, b0 + o, ORDER);
            s0 = FloatVector.fromMemorySegment(FS, a, a0 + o, ORDER).fma(y, s0);
            s1 = FloatVector.fromMemorySegment(FS, a, a1 + o, ORDER).fma(y, s1);
            s2 = FloatVector.fromMemorySegment(FS, a, a2 + o, ORDER).fma(y, s2);
            s3 = FloatVector.fromMemorySegment(FS, a, a3 + o, ORDER).fma(y, s3);
        }
        long o = (i * ldc + j) * 4L;
        s0.intoArray(lanes, 0);
        s1.intoArray(lanes, FW);
        s2.intoArray(lanes, 2 * FW);
        s3.intoArray(lanes, 3 * FW);
        c.set(F32, o, VectorLanes.sum(lanes, 0));
        c.set(F32, o + ldc * 4L, VectorLanes.sum(lanes, FW));
        c.set(F32, o + 2 * ldc * 4L, VectorLanes.sum(lanes, 2 * FW));
        c.set(F32, o + 3 * ldc * 4L, VectorLanes.sum(lanes, 3 * FW));
    }

    /** Two rows of A against four rows of B at a time (8 accumulators). */
    private static void sNT2(int i, int n, int kb, MemorySegment a, long lda, MemorySegment b, long ldb,
                             MemorySegment c, long ldc) {
        float[] lanes = VectorLanes.floats();
        long a0 = i * lda * 4L, a1 = a0 + lda * 4L;
        long c0 = i * ldc * 4L, c1 = c0 + ldc * 4L;
        int j = 0;
        for (; j + 4 <= n; j += 4) {
            long b0 = j * ldb * 4L, b1 = b0 + ldb * 4L, b2 = b1 + ldb * 4L, b3 = b2 + ldb * 4L;
            FloatVector z = FloatVector.zero(FS);
            FloatVector s00 = z, s01 = z, s02 = z, s03 = z, s10 = z, s11 = z, s12 = z, s13 = z;
            for (long p = 0; p < kb; p += FW) {
                long o = p * 4L;
                FloatVector x0 = FloatVector.fromMemorySegment(FS, a, a0 + o, ORDER);
                FloatVector x1 = FloatVector.fromMemorySegment(FS, a, a1 + o, ORDER);
                FloatVector y = FloatVector.fromMemorySegment(FS, b, b0 + o, ORDER);
                s00 = x0.fma(y, s00);
                s10 = x1.fma(y, s10);
                y = FloatVector.fromMemorySegment(FS, b, b1 + o, ORDER);
                s01 = x0.fma(y, s01);
                s11 = x1.fma(y, s11);
                y = FloatVector.fromMemorySegment(FS, b, b2 + o, ORDER);
                s02 = x0.fma(y, s02);
                s12 = x1.fma(y, s12);
                y = FloatVector.fromMemorySegment(FS, b, b3 + o, ORDER);
                s03 = x0.fma(y, s03);
                s13 = x1.fma(y, s13);
            }
            long o = (long) j * 4L;
            s00.intoArray(lanes, 0);
            s01.intoArray(lanes, FW);
            s02.intoArray(lanes, 2 * FW);
            s03.intoArray(lanes, 3 * FW);
            s10.intoArray(lanes, 4 * FW);
            s11.intoArray(lanes, 5 * FW);
            s12.intoArray(lanes, 6 * FW);
            s13.intoArray(lanes, 7 * FW);
            c.set(F32, c0 + o, VectorLanes.sum(lanes, 0));
            c.set(F32, c0 + o + 4L, VectorLanes.sum(lanes, FW));
            c.set(F32, c0 + o + 2 * 4L, VectorLanes.sum(lanes, 2 * FW));
            c.set(F32, c0 + o + 3 * 4L, VectorLanes.sum(lanes, 3 * FW));
            c.set(F32, c1 + o, VectorLanes.sum(lanes, 4 * FW));
            c.set(F32, c1 + o + 4L, VectorLanes.sum(lanes, 5 * FW));
            c.set(F32, c1 + o + 2 * 4L, VectorLanes.sum(lanes, 6 * FW));
            c.set(F32, c1 + o + 3 * 4L, VectorLanes.sum(lanes, 7 * FW));
        }
        for (; j < n; j++) sNT2x1(i, j, kb, a, lda, b, ldb, c, ldc);
    }

    /** Column j of rows i, i+1 (2 accumulators). */
    private static void sNT2x1(int i, int j, int kb, MemorySegment a, long lda, MemorySegment b, long ldb,
                               MemorySegment c, long ldc) {
        float[] lanes = VectorLanes.floats();
        long a0 = i * lda * 4L, a1 = a0 + lda * 4L, b0 = j * ldb * 4L;
        FloatVector z = FloatVector.zero(FS);
        FloatVector s0 = z, s1 = z;
        for (long p = 0; p < kb; p += FW) {
            long o = p * 4L;
            FloatVector y = FloatVector.fromMemorySegment(FS, b, b0 + o, ORDER);
            s0 = FloatVector.fromMemorySegment(FS, a, a0 + o, ORDER).fma(y, s0);
            s1 = FloatVector.fromMemorySegment(FS, a, a1 + o, ORDER).fma(y, s1);
        }
        long o = (i * ldc + j) * 4L;
        s0.intoArray(lanes, 0);
        s1.intoArray(lanes, FW);
        c.set(F32, o, VectorLanes.sum(lanes, 0));
        c.set(F32, o + ldc * 4L, VectorLanes.sum(lanes, FW));
    }

    /** One row of A against four rows of B at a time: four independent dot products sharing A's loads. */
    private static void sNT1(int i, int n, int kb, MemorySegment a, long lda, MemorySegment b, long ldb,
                             MemorySegment c, long ldc) {
        float[] lanes = VectorLanes.floats();
        long a0 = i * lda * 4L, c0 = i * ldc * 4L;
        int j = 0;
        for (; j + 4 <= n; j += 4) {
            long b0 = j * ldb * 4L, b1 = b0 + ldb * 4L, b2 = b1 + ldb * 4L, b3 = b2 + ldb * 4L;
            FloatVector z = FloatVector.zero(FS);
            FloatVector s0 = z, s1 = z, s2 = z, s3 = z;
            for (long p = 0; p < kb; p += FW) {
                long o = p * 4L;
                FloatVector x = FloatVector.fromMemorySegment(FS, a, a0 + o, ORDER);
                s0 = x.fma(FloatVector.fromMemorySegment(FS, b, b0 + o, ORDER), s0);
                s1 = x.fma(FloatVector.fromMemorySegment(FS, b, b1 + o, ORDER), s1);
                s2 = x.fma(FloatVector.fromMemorySegment(FS, b, b2 + o, ORDER), s2);
                s3 = x.fma(FloatVector.fromMemorySegment(FS, b, b3 + o, ORDER), s3);
            }
            long o = c0 + (long) j * 4L;
            s0.intoArray(lanes, 0);
            s1.intoArray(lanes, FW);
            s2.intoArray(lanes, 2 * FW);
            s3.intoArray(lanes, 3 * FW);
            c.set(F32, o, VectorLanes.sum(lanes, 0));
            c.set(F32, o + 4L, VectorLanes.sum(lanes, FW));
            c.set(F32, o + 2 * 4L, VectorLanes.sum(lanes, 2 * FW));
            c.set(F32, o + 3 * 4L, VectorLanes.sum(lanes, 3 * FW));
        }
        for (; j < n; j++) sNT1x1(i, j, kb, a, lda, b, ldb, c, ldc);
    }

    /** One dot product, two accumulators. */
    private static void sNT1x1(int i, int j, int kb, MemorySegment a, long lda, MemorySegment b, long ldb,
                               MemorySegment c, long ldc) {
        float[] lanes = VectorLanes.floats();
        long a0 = i * lda * 4L, b0 = j * ldb * 4L;
        FloatVector s = FloatVector.zero(FS), t = s;
        long p = 0;
        for (; p + 2 * FW <= kb; p += 2 * FW) {
            long o = p * 4L;
            s = FloatVector.fromMemorySegment(FS, a, a0 + o, ORDER).fma(FloatVector.fromMemorySegment(FS, b, b0 + o, ORDER), s);
            t = FloatVector.fromMemorySegment(FS, a, a0 + o + FW * 4L, ORDER)
                    .fma(FloatVector.fromMemorySegment(FS, b, b0 + o + FW * 4L, ORDER), t);
        }
        if (p < kb) {
            s = FloatVector.fromMemorySegment(FS, a, a0 + p * 4L, ORDER).fma(FloatVector.fromMemorySegment(FS, b, b0 + p * 4L, ORDER), s);
        }
        s.add(t).intoArray(lanes, 0);
        c.set(F32, (i * ldc + j) * 4L, VectorLanes.sum(lanes, 0));
    }

    /**
     * Column tiles of rows i..i+3 of C: three vectors wide where twelve accumulators fit (AVX-512, 32 registers),
     * else two; the n tail is the masked last vector of the last tile. Widths are chosen so that no tile of one
     * vector remains unless n fits in one vector (one-vector tiles leave the FMA pipes half idle).
     */
    private static void sNNRows4(int i, int n, int k, MemorySegment a, long lda, MemorySegment b, long ldb,
                                 MemorySegment c, long ldc) {
        int j = 0;
        if (WIDE) {
            int full = n / FW, t3 = full / 3, left = full - 3 * t3 + (full * FW < n ? 1 : 0);
            if (left == 1 && t3 > 0) t3--;
            j = 3 * FW * t3;
            if (j > 0) sNN4x3(i, 0, j, k, a, lda, b, ldb, c, ldc);
        }
        int j2 = j + 2 * FW * ((n - j) / (2 * FW));
        if (j2 > j) sNN4x2(i, j, j2, k, a, lda, b, ldb, c, ldc);
        j = j2;
        if (n - j > FW) sNN4x2m(i, j, n, k, a, lda, b, ldb, c, ldc);
        else if (j < n) sNN4x1(i, j, n, k, a, lda, b, ldb, c, ldc);
    }

    /** Rows i..i+3, columns [j0, j1) in tiles of three vectors (12 accumulators), all inside n. */
    private static void sNN4x3(int i, int j0, int j1, int k, MemorySegment a, long lda, MemorySegment b, long ldb,
                               MemorySegment c, long ldc) {
        for (int j = j0; j < j1; j += 3 * FW) {
            long a0 = i * lda * 4L, a1 = a0 + lda * 4L, a2 = a1 + lda * 4L, a3 = a2 + lda * 4L;
            long rowB = ldb * 4L, v = FW * 4L, bp = j * 4L;
            FloatVector z = FloatVector.zero(FS);
            FloatVector s00 = z, s01 = z, s02 = z, s10 = z, s11 = z, s12 = z;
            FloatVector s20 = z, s21 = z, s22 = z, s30 = z, s31 = z, s32 = z;
            for (long o = 0, end = k * 4L; o < end; o += 4L, bp += rowB) {
                FloatVector y0 = FloatVector.fromMemorySegment(FS, b, bp, ORDER);
                FloatVector y1 = FloatVector.fromMemorySegment(FS, b, bp + v, ORDER);
                FloatVector y2 = FloatVector.fromMemorySegment(FS, b, bp + 2 * v, ORDER);
                FloatVector x = FloatVector.broadcast(FS, a.get(F32, a0 + o));
                s00 = x.fma(y0, s00);
                s01 = x.fma(y1, s01);
                s02 = x.fma(y2, s02);
                x = FloatVector.broadcast(FS, a.get(F32, a1 + o));
                s10 = x.fma(y0, s10);
                s11 = x.fma(y1, s11);
                s12 = x.fma(y2, s12);
                x = FloatVector.broadcast(FS, a.get(F32, a2 + o));
                s20 = x.fma(y0, s20);
                s21 = x.fma(y1, s21);
                s22 = x.fma(y2, s22);
                x = FloatVector.broadcast(FS, a.get(F32, a3 + o));
                s30 = x.fma(y0, s30);
                s31 = x.fma(y1, s31);
                s32 = x.fma(y2, s32);
            }
            long rowC = ldc * 4L, c0 = (i * ldc + j) * 4L, c1 = c0 + rowC, c2 = c1 + rowC, c3 = c2 + rowC;
            s00.intoMemorySegment(c, c0, ORDER);
            s01.intoMemorySegment(c, c0 + v, ORDER);
            s02.intoMemorySegment(c, c0 + 2 * v, ORDER);
            s10.intoMemorySegment(c, c1, ORDER);
            s11.intoMemorySegment(c, c1 + v, ORDER);
            s12.intoMemorySegment(c, c1 + 2 * v, ORDER);
            s20.intoMemorySegment(c, c2, ORDER);
            s21.intoMemorySegment(c, c2 + v, ORDER);
            s22.intoMemorySegment(c, c2 + 2 * v, ORDER);
            s30.intoMemorySegment(c, c3, ORDER);
            s31.intoMemorySegment(c, c3 + v, ORDER);
            s32.intoMemorySegment(c, c3 + 2 * v, ORDER);
        }
    }

    /** Rows i..i+3, columns [j0, j1) in tiles of two vectors (8 accumulators), all inside n. */
    private static void sNN4x2(int i, int j0, int j1, int k, MemorySegment a, long lda, MemorySegment b, long ldb,
                               MemorySegment c, long ldc) {
        for (int j = j0; j < j1; j += 2 * FW) {
            long a0 = i * lda * 4L, a1 = a0 + lda * 4L, a2 = a1 + lda * 4L, a3 = a2 + lda * 4L;
            long rowB = ldb * 4L, v = FW * 4L, bp = j * 4L;
            FloatVector z = FloatVector.zero(FS);
            FloatVector s00 = z, s01 = z, s10 = z, s11 = z, s20 = z, s21 = z, s30 = z, s31 = z;
            for (long o = 0, end = k * 4L; o < end; o += 4L, bp += rowB) {
                FloatVector y0 = FloatVector.fromMemorySegment(FS, b, bp, ORDER);
                FloatVector y1 = FloatVector.fromMemorySegment(FS, b, bp + v, ORDER);
                FloatVector x = FloatVector.broadcast(FS, a.get(F32, a0 + o));
                s00 = x.fma(y0, s00);
                s01 = x.fma(y1, s01);
                x = FloatVector.broadcast(FS, a.get(F32, a1 + o));
                s10 = x.fma(y0, s10);
                s11 = x.fma(y1, s11);
                x = FloatVector.broadcast(FS, a.get(F32, a2 + o));
                s20 = x.fma(y0, s20);
                s21 = x.fma(y1, s21);
                x = FloatVector.broadcast(FS, a.get(F32, a3 + o));
                s30 = x.fma(y0, s30);
                s31 = x.fma(y1, s31);
            }
            long rowC = ldc * 4L, c0 = (i * ldc + j) * 4L, c1 = c0 + rowC, c2 = c1 + rowC, c3 = c2 + rowC;
            s00.intoMemorySegment(c, c0, ORDER);
            s01.intoMemorySegment(c, c0 + v, ORDER);
            s10.intoMemorySegment(c, c1, ORDER);
            s11.intoMemorySegment(c, c1 + v, ORDER);
            s20.intoMemorySegment(c, c2, ORDER);
            s21.intoMemorySegment(c, c2 + v, ORDER);
            s30.intoMemorySegment(c, c3, ORDER);
            s31.intoMemorySegment(c, c3 + v, ORDER);
        }
    }

    /** Rows i..i+3, columns [j, n) with n - j in (FW, 2*FW] (8 accumulators): the second vector is masked to n. */
    private static void sNN4x2m(int i, int j, int n, int k, MemorySegment a, long lda, MemorySegment b, long ldb,
                                MemorySegment c, long ldc) {
        VectorMask<Float> mk = FS.indexInRange(j + FW, n);
        long a0 = i * lda * 4L, a1 = a0 + lda * 4L, a2 = a1 + lda * 4L, a3 = a2 + lda * 4L;
        long rowB = ldb * 4L, v = FW * 4L, bp = j * 4L;
        FloatVector z = FloatVector.zero(FS);
        FloatVector s00 = z, s01 = z, s10 = z, s11 = z, s20 = z, s21 = z, s30 = z, s31 = z;
        for (long o = 0, end = k * 4L; o < end; o += 4L, bp += rowB) {
            FloatVector y0 = FloatVector.fromMemorySegment(FS, b, bp, ORDER);
            FloatVector y1 = FloatVector.fromMemorySegment(FS, b, bp + v, ORDER, mk);
            FloatVector x = FloatVector.broadcast(FS, a.get(F32, a0 + o));
            s00 = x.fma(y0, s00);
            s01 = x.fma(y1, s01);
            x = FloatVector.broadcast(FS, a.get(F32, a1 + o));
            s10 = x.fma(y0, s10);
            s11 = x.fma(y1, s11);
            x = FloatVector.broadcast(FS, a.get(F32, a2 + o));
            s20 = x.fma(y0, s20);
            s21 = x.fma(y1, s21);
            x = FloatVector.broadcast(FS, a.get(F32, a3 + o));
            s30 = x.fma(y0, s30);
            s31 = x.fma(y1, s31);
        }
        long rowC = ldc * 4L, c0 = (i * ldc + j) * 4L, c1 = c0 + rowC, c2 = c1 + rowC, c3 = c2 + rowC;
        s00.intoMemorySegment(c, c0, ORDER);
        s01.intoMemorySegment(c, c0 + v, ORDER, mk);
        s10.intoMemorySegment(c, c1, ORDER);
        s11.intoMemorySegment(c, c1 + v, ORDER, mk);
        s20.intoMemorySegment(c, c2, ORDER);
        s21.intoMemorySegment(c, c2 + v, ORDER, mk);
        s30.intoMemorySegment(c, c3, ORDER);
        s31.intoMemorySegment(c, c3 + v, ORDER, mk);
    }

    /** Rows i..i+3, columns [j, min(j+FW, n)) (4 accumulators, one masked vector). */
    private static void sNN4x1(int i, int j, int n, int k, MemorySegment a, long lda, MemorySegment b, long ldb,
                               MemorySegment c, long ldc) {
        VectorMask<Float> mk = FS.indexInRange(j, n);
        long a0 = i * lda * 4L, a1 = a0 + lda * 4L, a2 = a1 + lda * 4L, a3 = a2 + lda * 4L;
        long rowB = ldb * 4L, bp = j * 4L;
        FloatVector z = FloatVector.zero(FS);
        FloatVector s0 = z, s1 = z, s2 = z, s3 = z;
        for (long o = 0, end = k * 4L; o < end; o += 4L, bp += rowB) {
            FloatVector y = FloatVector.fromMemorySegment(FS, b, bp, ORDER, mk);
            s0 = FloatVector.broadcast(FS, a.get(F32, a0 + o)).fma(y, s0);
            s1 = FloatVector.broadcast(FS, a.get(F32, a1 + o)).fma(y, s1);
            s2 = FloatVector.broadcast(FS, a.get(F32, a2 + o)).fma(y, s2);
            s3 = FloatVector.broadcast(FS, a.get(F32, a3 + o)).fma(y, s3);
        }
        long rowC = ldc * 4L, c0 = (i * ldc + j) * 4L;
        s0.intoMemorySegment(c, c0, ORDER, mk);
        s1.intoMemorySegment(c, c0 + rowC, ORDER, mk);
        s2.intoMemorySegment(c, c0 + 2 * rowC, ORDER, mk);
        s3.intoMemorySegment(c, c0 + 3 * rowC, ORDER, mk);
    }

    /** Column tiles of rows i, i+1: four vectors wide (8 accumulators), then two, then one; the tail is masked. */
    private static void sNNRows2(int i, int n, int k, MemorySegment a, long lda, MemorySegment b, long ldb,
                                 MemorySegment c, long ldc) {
        int j = 4 * FW * (n / (4 * FW));
        if (j > 0) sNN2x4(i, 0, j, k, a, lda, b, ldb, c, ldc);
        for (; n - j > FW; j += 2 * FW) sNN2x2(i, j, n, k, a, lda, b, ldb, c, ldc);
        if (j < n) sNN2x1(i, j, n, k, a, lda, b, ldb, c, ldc);
    }

    /** Rows i, i+1, columns [j0, j1) in tiles of four vectors (8 accumulators), all inside n. */
    private static void sNN2x4(int i, int j0, int j1, int k, MemorySegment a, long lda, MemorySegment b, long ldb,
                               MemorySegment c, long ldc) {
        for (int j = j0; j < j1; j += 4 * FW) {
            long a0 = i * lda * 4L, a1 = a0 + lda * 4L;
            long rowB = ldb * 4L, v = FW * 4L, bp = j * 4L;
            FloatVector z = FloatVector.zero(FS);
            FloatVector s00 = z, s01 = z, s02 = z, s03 = z, s10 = z, s11 = z, s12 = z, s13 = z;
            for (long o = 0, end = k * 4L; o < end; o += 4L, bp += rowB) {
                FloatVector x0 = FloatVector.broadcast(FS, a.get(F32, a0 + o));
                FloatVector x1 = FloatVector.broadcast(FS, a.get(F32, a1 + o));
                FloatVector y = FloatVector.fromMemorySegment(FS, b, bp, ORDER);
                s00 = x0.fma(y, s00);
                s10 = x1.fma(y, s10);
                y = FloatVector.fromMemorySegment(FS, b, bp + v, ORDER);
                s01 = x0.fma(y, s01);
                s11 = x1.fma(y, s11);
                y = FloatVector.fromMemorySegment(FS, b, bp + 2 * v, ORDER);
                s02 = x0.fma(y, s02);
                s12 = x1.fma(y, s12);
                y = FloatVector.fromMemorySegment(FS, b, bp + 3 * v, ORDER);
                s03 = x0.fma(y, s03);
                s13 = x1.fma(y, s13);
            }
            long c0 = (i * ldc + j) * 4L, c1 = c0 + ldc * 4L;
            s00.intoMemorySegment(c, c0, ORDER);
            s01.intoMemorySegment(c, c0 + v, ORDER);
            s02.intoMemorySegment(c, c0 + 2 * v, ORDER);
            s03.intoMemorySegment(c, c0 + 3 * v, ORDER);
            s10.intoMemorySegment(c, c1, ORDER);
            s11.intoMemorySegment(c, c1 + v, ORDER);
            s12.intoMemorySegment(c, c1 + 2 * v, ORDER);
            s13.intoMemorySegment(c, c1 + 3 * v, ORDER);
        }
    }

    /** Rows i, i+1, columns [j, j+2*FW) (4 accumulators); the second vector is masked to n. */
    private static void sNN2x2(int i, int j, int n, int k, MemorySegment a, long lda, MemorySegment b, long ldb,
                               MemorySegment c, long ldc) {
        VectorMask<Float> mk = FS.indexInRange(j + FW, n);
        long a0 = i * lda * 4L, a1 = a0 + lda * 4L;
        long rowB = ldb * 4L, v = FW * 4L, bp = j * 4L;
        FloatVector z = FloatVector.zero(FS);
        FloatVector s00 = z, s01 = z, s10 = z, s11 = z;
        for (long o = 0, end = k * 4L; o < end; o += 4L, bp += rowB) {
            FloatVector x0 = FloatVector.broadcast(FS, a.get(F32, a0 + o));
            FloatVector x1 = FloatVector.broadcast(FS, a.get(F32, a1 + o));
            FloatVector y0 = FloatVector.fromMemorySegment(FS, b, bp, ORDER);
            FloatVector y1 = FloatVector.fromMemorySegment(FS, b, bp + v, ORDER, mk);
            s00 = x0.fma(y0, s00);
            s01 = x0.fma(y1, s01);
            s10 = x1.fma(y0, s10);
            s11 = x1.fma(y1, s11);
        }
        long c0 = (i * ldc + j) * 4L, c1 = c0 + ldc * 4L;
        s00.intoMemorySegment(c, c0, ORDER);
        s01.intoMemorySegment(c, c0 + v, ORDER, mk);
        s10.intoMemorySegment(c, c1, ORDER);
        s11.intoMemorySegment(c, c1 + v, ORDER, mk);
    }

    /** Rows i, i+1, columns [j, min(j+FW, n)) (2 accumulators, one masked vector). */
    private static void sNN2x1(int i, int j, int n, int k, MemorySegment a, long lda, MemorySegment b, long ldb,
                               MemorySegment c, long ldc) {
        VectorMask<Float> mk = FS.indexInRange(j, n);
        long a0 = i * lda * 4L, a1 = a0 + lda * 4L;
        long rowB = ldb * 4L, bp = j * 4L;
        FloatVector s0 = FloatVector.zero(FS), s1 = s0;
        for (long o = 0, end = k * 4L; o < end; o += 4L, bp += rowB) {
            FloatVector y = FloatVector.fromMemorySegment(FS, b, bp, ORDER, mk);
            s0 = FloatVector.broadcast(FS, a.get(F32, a0 + o)).fma(y, s0);
            s1 = FloatVector.broadcast(FS, a.get(F32, a1 + o)).fma(y, s1);
        }
        long c0 = (i * ldc + j) * 4L;
        s0.intoMemorySegment(c, c0, ORDER, mk);
        s1.intoMemorySegment(c, c0 + ldc * 4L, ORDER, mk);
    }

    /** Columns of row i: four vectors wide (the fourth masked to n), then one masked vector at a time. */
    private static void sNNRow1(int i, int n, int k, MemorySegment a, long lda, MemorySegment b, long ldb,
                                MemorySegment c, long ldc) {
        int j = 4 * FW * (n / (4 * FW));
        if (j > 0) sNN1x4(i, 0, j, k, a, lda, b, ldb, c, ldc);
        for (; j < n; j += FW) sNN1x1(i, j, n, k, a, lda, b, ldb, c, ldc);
    }

    /** Row i, columns [j0, j1) in tiles of four vectors (4 accumulators), all inside n. */
    private static void sNN1x4(int i, int j0, int j1, int k, MemorySegment a, long lda, MemorySegment b, long ldb,
                               MemorySegment c, long ldc) {
        for (int j = j0; j < j1; j += 4 * FW) {
            long a0 = i * lda * 4L, rowB = ldb * 4L, v = FW * 4L, bp = j * 4L;
            FloatVector z = FloatVector.zero(FS);
            FloatVector s0 = z, s1 = z, s2 = z, s3 = z;
            for (long o = 0, end = k * 4L; o < end; o += 4L, bp += rowB) {
                FloatVector x = FloatVector.broadcast(FS, a.get(F32, a0 + o));
                s0 = x.fma(FloatVector.fromMemorySegment(FS, b, bp, ORDER), s0);
                s1 = x.fma(FloatVector.fromMemorySegment(FS, b, bp + v, ORDER), s1);
                s2 = x.fma(FloatVector.fromMemorySegment(FS, b, bp + 2 * v, ORDER), s2);
                s3 = x.fma(FloatVector.fromMemorySegment(FS, b, bp + 3 * v, ORDER), s3);
            }
            long c0 = (i * ldc + j) * 4L;
            s0.intoMemorySegment(c, c0, ORDER);
            s1.intoMemorySegment(c, c0 + v, ORDER);
            s2.intoMemorySegment(c, c0 + 2 * v, ORDER);
            s3.intoMemorySegment(c, c0 + 3 * v, ORDER);
        }
    }

    /** Row i, columns [j, min(j+FW, n)) (one masked vector). */
    private static void sNN1x1(int i, int j, int n, int k, MemorySegment a, long lda, MemorySegment b, long ldb,
                               MemorySegment c, long ldc) {
        VectorMask<Float> mk = FS.indexInRange(j, n);
        long a0 = i * lda * 4L, rowB = ldb * 4L, bp = j * 4L;
        FloatVector s = FloatVector.zero(FS);
        for (long o = 0, end = k * 4L; o < end; o += 4L, bp += rowB) {
            FloatVector y = FloatVector.fromMemorySegment(FS, b, bp, ORDER, mk);
            s = FloatVector.broadcast(FS, a.get(F32, a0 + o)).fma(y, s);
        }
        s.intoMemorySegment(c, (i * ldc + j) * 4L, ORDER, mk);
    }

    // ------------------------------------------------------------------ double

    /**
     * Dispatches double row tiles: four rows, then two, then one. With B transposed the tiles cover
     * {@code [0, kb)} of k and one extra pass adds the scalar tail {@code [kb, k)}, which keeps the tile methods
     * small enough for C2 to inline every vector operation (a vector that is not inlined is allocated).
     */
    private static void dgemmTiles(int m, int n, int k, MemorySegment a, long lda, MemorySegment b, long ldb,
                                   boolean transB, MemorySegment c, long ldc) {
        int i = 0;
        if (transB) {
            int kb = DS.loopBound(k);
            for (; i + 4 <= m; i += 4) dNT4(i, n, kb, a, lda, b, ldb, c, ldc);
            for (; i + 2 <= m; i += 2) dNT2(i, n, kb, a, lda, b, ldb, c, ldc);
            if (i < m) dNT1(i, n, kb, a, lda, b, ldb, c, ldc);
            if (kb < k) dNTTail(m, n, k, kb, a, lda, b, ldb, c, ldc);
        } else {
            for (; i + 4 <= m; i += 4) dNN4(i, n, k, a, lda, b, ldb, c, ldc);
            for (; i + 2 <= m; i += 2) dNN2(i, n, k, a, lda, b, ldb, c, ldc);
            if (i < m) dNN1(i, 0, n, k, a, lda, b, ldb, c, ldc);
        }
    }

    /** Adds {@code sum_{p in [kb, k)} a[i,p] * b[j,p]} to every element of C (the part the vector loops left). */
    private static void dNTTail(int m, int n, int k, int kb, MemorySegment a, long lda, MemorySegment b, long ldb,
                                MemorySegment c, long ldc) {
        for (long i = 0; i < m; i++) {
            for (long j = 0; j < n; j++) {
                double s = c.getAtIndex(F64, i * ldc + j);
                for (long p = kb; p < k; p++) s += a.getAtIndex(F64, i * lda + p) * b.getAtIndex(F64, j * ldb + p);
                c.setAtIndex(F64, i * ldc + j, s);
            }
        }
    }

    /** Four rows of A against two rows of B at a time (8 accumulators), so B is streamed once per 4 rows. */
    private static void dNT4(int i, int n, int kb, MemorySegment a, long lda, MemorySegment b, long ldb,
                             MemorySegment c, long ldc) {
        double[] lanes = VectorLanes.doubles();
        long a0 = i * lda * 8L, a1 = a0 + lda * 8L, a2 = a1 + lda * 8L, a3 = a2 + lda * 8L;
        long c0 = i * ldc * 8L, c1 = c0 + ldc * 8L, c2 = c1 + ldc * 8L, c3 = c2 + ldc * 8L;
        int j = 0;
        for (; j + 2 <= n; j += 2) {
            long b0 = j * ldb * 8L, b1 = b0 + ldb * 8L;
            DoubleVector z = DoubleVector.zero(DS);
            DoubleVector s00 = z, s01 = z, s10 = z, s11 = z, s20 = z, s21 = z, s30 = z, s31 = z;
            for (long p = 0; p < kb; p += DW) {
                long o = p * 8L;
                DoubleVector y0 = DoubleVector.fromMemorySegment(DS, b, b0 + o, ORDER);
                DoubleVector y1 = DoubleVector.fromMemorySegment(DS, b, b1 + o, ORDER);
                DoubleVector x = DoubleVector.fromMemorySegment(DS, a, a0 + o, ORDER);
                s00 = x.fma(y0, s00);
                s01 = x.fma(y1, s01);
                x = DoubleVector.fromMemorySegment(DS, a, a1 + o, ORDER);
                s10 = x.fma(y0, s10);
                s11 = x.fma(y1, s11);
                x = DoubleVector.fromMemorySegment(DS, a, a2 + o, ORDER);
                s20 = x.fma(y0, s20);
                s21 = x.fma(y1, s21);
                x = DoubleVector.fromMemorySegment(DS, a, a3 + o, ORDER);
                s30 = x.fma(y0, s30);
                s31 = x.fma(y1, s31);
            }
            long o = (long) j * 8L;
            s00.intoArray(lanes, 0);
            s01.intoArray(lanes, DW);
            s10.intoArray(lanes, 2 * DW);
            s11.intoArray(lanes, 3 * DW);
            s20.intoArray(lanes, 4 * DW);
            s21.intoArray(lanes, 5 * DW);
            s30.intoArray(lanes, 6 * DW);
            s31.intoArray(lanes, 7 * DW);
            c.set(F64, c0 + o, VectorLanes.sum(lanes, 0));
            c.set(F64, c0 + o + 8L, VectorLanes.sum(lanes, DW));
            c.set(F64, c1 + o, VectorLanes.sum(lanes, 2 * DW));
            c.set(F64, c1 + o + 8L, VectorLanes.sum(lanes, 3 * DW));
            c.set(F64, c2 + o, VectorLanes.sum(lanes, 4 * DW));
            c.set(F64, c2 + o + 8L, VectorLanes.sum(lanes, 5 * DW));
            c.set(F64, c3 + o, VectorLanes.sum(lanes, 6 * DW));
            c.set(F64, c3 + o + 8L, VectorLanes.sum(lanes, 7 * DW));
        }
        if (j < n) dNT4x1(i, j, kb, a, lda, b, ldb, c, ldc);
    }

    /** Column j of rows i..i+3 (4 accumulators). */
    private static void dNT4x1(int i, int j, int kb, MemorySegment a, long lda, MemorySegment b, long ldb,
                               MemorySegment c, long ldc) {
        double[] lanes = VectorLanes.doubles();
        long a0 = i * lda * 8L, a1 = a0 + lda * 8L, a2 = a1 + lda * 8L, a3 = a2 + lda * 8L;
        long b0 = j * ldb * 8L;
        DoubleVector z = DoubleVector.zero(DS);
        DoubleVector s0 = z, s1 = z, s2 = z, s3 = z;
        for (long p = 0; p < kb; p += DW) {
            long o = p * 8L;
            DoubleVector y = DoubleVector.fromMemorySegment(DS, b, b0 + o, ORDER);
            s0 = DoubleVector.fromMemorySegment(DS, a, a0 + o, ORDER).fma(y, s0);
            s1 = DoubleVector.fromMemorySegment(DS, a, a1 + o, ORDER).fma(y, s1);
            s2 = DoubleVector.fromMemorySegment(DS, a, a2 + o, ORDER).fma(y, s2);
            s3 = DoubleVector.fromMemorySegment(DS, a, a3 + o, ORDER).fma(y, s3);
        }
        long o = (i * ldc + j) * 8L;
        s0.intoArray(lanes, 0);
        s1.intoArray(lanes, DW);
        s2.intoArray(lanes, 2 * DW);
        s3.intoArray(lanes, 3 * DW);
        c.set(F64, o, VectorLanes.sum(lanes, 0));
        c.set(F64, o + ldc * 8L, VectorLanes.sum(lanes, DW));
        c.set(F64, o + 2 * ldc * 8L, VectorLanes.sum(lanes, 2 * DW));
        c.set(F64, o + 3 * ldc * 8L, VectorLanes.sum(lanes, 3 * DW));
    }

    /** Two rows of A against four rows of B at a time (8 accumulators). */
    private static void dNT2(int i, int n, int kb, MemorySegment a, long lda, MemorySegment b, long ldb,
                             MemorySegment c, long ldc) {
        double[] lanes = VectorLanes.doubles();
        long a0 = i * lda * 8L, a1 = a0 + lda * 8L;
        long c0 = i * ldc * 8L, c1 = c0 + ldc * 8L;
        int j = 0;
        for (; j + 4 <= n; j += 4) {
            long b0 = j * ldb * 8L, b1 = b0 + ldb * 8L, b2 = b1 + ldb * 8L, b3 = b2 + ldb * 8L;
            DoubleVector z = DoubleVector.zero(DS);
            DoubleVector s00 = z, s01 = z, s02 = z, s03 = z, s10 = z, s11 = z, s12 = z, s13 = z;
            for (long p = 0; p < kb; p += DW) {
                long o = p * 8L;
                DoubleVector x0 = DoubleVector.fromMemorySegment(DS, a, a0 + o, ORDER);
                DoubleVector x1 = DoubleVector.fromMemorySegment(DS, a, a1 + o, ORDER);
                DoubleVector y = DoubleVector.fromMemorySegment(DS, b, b0 + o, ORDER);
                s00 = x0.fma(y, s00);
                s10 = x1.fma(y, s10);
                y = DoubleVector.fromMemorySegment(DS, b, b1 + o, ORDER);
                s01 = x0.fma(y, s01);
                s11 = x1.fma(y, s11);
                y = DoubleVector.fromMemorySegment(DS, b, b2 + o, ORDER);
                s02 = x0.fma(y, s02);
                s12 = x1.fma(y, s12);
                y = DoubleVector.fromMemorySegment(DS, b, b3 + o, ORDER);
                s03 = x0.fma(y, s03);
                s13 = x1.fma(y, s13);
            }
            long o = (long) j * 8L;
            s00.intoArray(lanes, 0);
            s01.intoArray(lanes, DW);
            s02.intoArray(lanes, 2 * DW);
            s03.intoArray(lanes, 3 * DW);
            s10.intoArray(lanes, 4 * DW);
            s11.intoArray(lanes, 5 * DW);
            s12.intoArray(lanes, 6 * DW);
            s13.intoArray(lanes, 7 * DW);
            c.set(F64, c0 + o, VectorLanes.sum(lanes, 0));
            c.set(F64, c0 + o + 8L, VectorLanes.sum(lanes, DW));
            c.set(F64, c0 + o + 2 * 8L, VectorLanes.sum(lanes, 2 * DW));
            c.set(F64, c0 + o + 3 * 8L, VectorLanes.sum(lanes, 3 * DW));
            c.set(F64, c1 + o, VectorLanes.sum(lanes, 4 * DW));
            c.set(F64, c1 + o + 8L, VectorLanes.sum(lanes, 5 * DW));
            c.set(F64, c1 + o + 2 * 8L, VectorLanes.sum(lanes, 6 * DW));
            c.set(F64, c1 + o + 3 * 8L, VectorLanes.sum(lanes, 7 * DW));
        }
        for (; j < n; j++) dNT2x1(i, j, kb, a, lda, b, ldb, c, ldc);
    }

    /** Column j of rows i, i+1 (2 accumulators). */
    private static void dNT2x1(int i, int j, int kb, MemorySegment a, long lda, MemorySegment b, long ldb,
                               MemorySegment c, long ldc) {
        double[] lanes = VectorLanes.doubles();
        long a0 = i * lda * 8L, a1 = a0 + lda * 8L, b0 = j * ldb * 8L;
        DoubleVector z = DoubleVector.zero(DS);
        DoubleVector s0 = z, s1 = z;
        for (long p = 0; p < kb; p += DW) {
            long o = p * 8L;
            DoubleVector y = DoubleVector.fromMemorySegment(DS, b, b0 + o, ORDER);
            s0 = DoubleVector.fromMemorySegment(DS, a, a0 + o, ORDER).fma(y, s0);
            s1 = DoubleVector.fromMemorySegment(DS, a, a1 + o, ORDER).fma(y, s1);
        }
        long o = (i * ldc + j) * 8L;
        s0.intoArray(lanes, 0);
        s1.intoArray(lanes, DW);
        c.set(F64, o, VectorLanes.sum(lanes, 0));
        c.set(F64, o + ldc * 8L, VectorLanes.sum(lanes, DW));
    }

    /** One row of A against four rows of B at a time: four independent dot products sharing A's loads. */
    private static void dNT1(int i, int n, int kb, MemorySegment a, long lda, MemorySegment b, long ldb,
                             MemorySegment c, long ldc) {
        double[] lanes = VectorLanes.doubles();
        long a0 = i * lda * 8L, c0 = i * ldc * 8L;
        int j = 0;
        for (; j + 4 <= n; j += 4) {
            long b0 = j * ldb * 8L, b1 = b0 + ldb * 8L, b2 = b1 + ldb * 8L, b3 = b2 + ldb * 8L;
            DoubleVector z = DoubleVector.zero(DS);
            DoubleVector s0 = z, s1 = z, s2 = z, s3 = z;
            for (long p = 0; p < kb; p += DW) {
                long o = p * 8L;
                DoubleVector x = DoubleVector.fromMemorySegment(DS, a, a0 + o, ORDER);
                s0 = x.fma(DoubleVector.fromMemorySegment(DS, b, b0 + o, ORDER), s0);
                s1 = x.fma(DoubleVector.fromMemorySegment(DS, b, b1 + o, ORDER), s1);
                s2 = x.fma(DoubleVector.fromMemorySegment(DS, b, b2 + o, ORDER), s2);
                s3 = x.fma(DoubleVector.fromMemorySegment(DS, b, b3 + o, ORDER), s3);
            }
            long o = c0 + (long) j * 8L;
            s0.intoArray(lanes, 0);
            s1.intoArray(lanes, DW);
            s2.intoArray(lanes, 2 * DW);
            s3.intoArray(lanes, 3 * DW);
            c.set(F64, o, VectorLanes.sum(lanes, 0));
            c.set(F64, o + 8L, VectorLanes.sum(lanes, DW));
            c.set(F64, o + 2 * 8L, VectorLanes.sum(lanes, 2 * DW));
            c.set(F64, o + 3 * 8L, VectorLanes.sum(lanes, 3 * DW));
        }
        for (; j < n; j++) dNT1x1(i, j, kb, a, lda, b, ldb, c, ldc);
    }

    /** One dot product, two accumulators. */
    private static void dNT1x1(int i, int j, int kb, MemorySegment a, long lda, MemorySegment b, long ldb,
                               MemorySegment c, long ldc) {
        double[] lanes = VectorLanes.doubles();
        long a0 = i * lda * 8L, b0 = j * ldb * 8L;
        DoubleVector s = DoubleVector.zero(DS), t = s;
        long p = 0;
        for (; p + 2 * DW <= kb; p += 2 * DW) {
            long o = p * 8L;
            s = DoubleVector.fromMemorySegment(DS, a, a0 + o, ORDER).fma(DoubleVector.fromMemorySegment(DS, b, b0 + o, ORDER), s);
            t = DoubleVector.fromMemorySegment(DS, a, a0 + o + DW * 8L, ORDER)
                    .fma(DoubleVector.fromMemorySegment(DS, b, b0 + o + DW * 8L, ORDER), t);
        }
        if (p < kb) {
            s = DoubleVector.fromMemorySegment(DS, a, a0 + p * 8L, ORDER).fma(DoubleVector.fromMemorySegment(DS, b, b0 + p * 8L, ORDER), s);
        }
        s.add(t).intoArray(lanes, 0);
        c.set(F64, (i * ldc + j) * 8L, VectorLanes.sum(lanes, 0));
    }

    /** Four rows of C, two vectors wide (8 accumulators): each B row segment is loaded once for four rows. */
    private static void dNN4(int i, int n, int k, MemorySegment a, long lda, MemorySegment b, long ldb,
                             MemorySegment c, long ldc) {
        long a0 = i * lda * 8L, a1 = a0 + lda * 8L, a2 = a1 + lda * 8L, a3 = a2 + lda * 8L;
        long c0 = i * ldc * 8L, c1 = c0 + ldc * 8L, c2 = c1 + ldc * 8L, c3 = c2 + ldc * 8L;
        long rowB = ldb * 8L, v = DW * 8L;
        int j = 0;
        for (; j + 2 * DW <= n; j += 2 * DW) {
            long jo = (long) j * 8L;
            DoubleVector z = DoubleVector.zero(DS);
            DoubleVector s00 = z, s01 = z, s10 = z, s11 = z, s20 = z, s21 = z, s30 = z, s31 = z;
            long bp = jo;
            for (long p = 0; p < k; p++, bp += rowB) {
                DoubleVector y0 = DoubleVector.fromMemorySegment(DS, b, bp, ORDER), y1 = DoubleVector.fromMemorySegment(DS, b, bp + v, ORDER);
                long o = p * 8L;
                DoubleVector x = DoubleVector.broadcast(DS, a.get(F64, a0 + o));
                s00 = x.fma(y0, s00);
                s01 = x.fma(y1, s01);
                x = DoubleVector.broadcast(DS, a.get(F64, a1 + o));
                s10 = x.fma(y0, s10);
                s11 = x.fma(y1, s11);
                x = DoubleVector.broadcast(DS, a.get(F64, a2 + o));
                s20 = x.fma(y0, s20);
                s21 = x.fma(y1, s21);
                x = DoubleVector.broadcast(DS, a.get(F64, a3 + o));
                s30 = x.fma(y0, s30);
                s31 = x.fma(y1, s31);
            }
            s00.intoMemorySegment(c, c0 + jo, ORDER);
            s01.intoMemorySegment(c, c0 + jo + v, ORDER);
            s10.intoMemorySegment(c, c1 + jo, ORDER);
            s11.intoMemorySegment(c, c1 + jo + v, ORDER);
            s20.intoMemorySegment(c, c2 + jo, ORDER);
            s21.intoMemorySegment(c, c2 + jo + v, ORDER);
            s30.intoMemorySegment(c, c3 + jo, ORDER);
            s31.intoMemorySegment(c, c3 + jo + v, ORDER);
        }
        if (j < n) {
            for (int r = 0; r < 4; r++) dNN1(i + r, j, n, k, a, lda, b, ldb, c, ldc);
        }
    }

    /** Two rows of C, four vectors wide (8 accumulators). */
    private static void dNN2(int i, int n, int k, MemorySegment a, long lda, MemorySegment b, long ldb,
                             MemorySegment c, long ldc) {
        long a0 = i * lda * 8L, a1 = a0 + lda * 8L;
        long c0 = i * ldc * 8L, c1 = c0 + ldc * 8L;
        long rowB = ldb * 8L, v = DW * 8L;
        int j = 0;
        for (; j + 4 * DW <= n; j += 4 * DW) {
            long jo = (long) j * 8L;
            DoubleVector z = DoubleVector.zero(DS);
            DoubleVector s00 = z, s01 = z, s02 = z, s03 = z, s10 = z, s11 = z, s12 = z, s13 = z;
            long bp = jo;
            for (long p = 0; p < k; p++, bp += rowB) {
                long o = p * 8L;
                DoubleVector x0 = DoubleVector.broadcast(DS, a.get(F64, a0 + o)), x1 = DoubleVector.broadcast(DS, a.get(F64, a1 + o));
                DoubleVector y = DoubleVector.fromMemorySegment(DS, b, bp, ORDER);
                s00 = x0.fma(y, s00);
                s10 = x1.fma(y, s10);
                y = DoubleVector.fromMemorySegment(DS, b, bp + v, ORDER);
                s01 = x0.fma(y, s01);
                s11 = x1.fma(y, s11);
                y = DoubleVector.fromMemorySegment(DS, b, bp + 2 * v, ORDER);
                s02 = x0.fma(y, s02);
                s12 = x1.fma(y, s12);
                y = DoubleVector.fromMemorySegment(DS, b, bp + 3 * v, ORDER);
                s03 = x0.fma(y, s03);
                s13 = x1.fma(y, s13);
            }
            s00.intoMemorySegment(c, c0 + jo, ORDER);
            s01.intoMemorySegment(c, c0 + jo + v, ORDER);
            s02.intoMemorySegment(c, c0 + jo + 2 * v, ORDER);
            s03.intoMemorySegment(c, c0 + jo + 3 * v, ORDER);
            s10.intoMemorySegment(c, c1 + jo, ORDER);
            s11.intoMemorySegment(c, c1 + jo + v, ORDER);
            s12.intoMemorySegment(c, c1 + jo + 2 * v, ORDER);
            s13.intoMemorySegment(c, c1 + jo + 3 * v, ORDER);
        }
        if (j < n) {
            dNN1(i, j, n, k, a, lda, b, ldb, c, ldc);
            dNN1(i + 1, j, n, k, a, lda, b, ldb, c, ldc);
        }
    }

    /** Columns {@code [j0, n)} of row i of C: four vectors wide, then one vector, then scalar columns. */
    private static void dNN1(int i, int j0, int n, int k, MemorySegment a, long lda, MemorySegment b, long ldb,
                             MemorySegment c, long ldc) {
        long a0 = i * lda * 8L, c0 = i * ldc * 8L;
        long rowB = ldb * 8L, v = DW * 8L;
        int j = j0;
        for (; j + 4 * DW <= n; j += 4 * DW) {
            long jo = (long) j * 8L;
            DoubleVector z = DoubleVector.zero(DS);
            DoubleVector s0 = z, s1 = z, s2 = z, s3 = z;
            long bp = jo;
            for (long p = 0; p < k; p++, bp += rowB) {
                DoubleVector x = DoubleVector.broadcast(DS, a.get(F64, a0 + p * 8L));
                s0 = x.fma(DoubleVector.fromMemorySegment(DS, b, bp, ORDER), s0);
                s1 = x.fma(DoubleVector.fromMemorySegment(DS, b, bp + v, ORDER), s1);
                s2 = x.fma(DoubleVector.fromMemorySegment(DS, b, bp + 2 * v, ORDER), s2);
                s3 = x.fma(DoubleVector.fromMemorySegment(DS, b, bp + 3 * v, ORDER), s3);
            }
            s0.intoMemorySegment(c, c0 + jo, ORDER);
            s1.intoMemorySegment(c, c0 + jo + v, ORDER);
            s2.intoMemorySegment(c, c0 + jo + 2 * v, ORDER);
            s3.intoMemorySegment(c, c0 + jo + 3 * v, ORDER);
        }
        if (j + DW <= n) j = dNN1x1(i, j, n, k, a, lda, b, ldb, c, ldc);
        if (j < n) dNNScalar(i, j, n, k, a, lda, b, ldb, c, ldc);
    }

    /** One-vector column blocks of row i from column j while a whole vector fits; returns the next column. */
    private static int dNN1x1(int i, int j, int n, int k, MemorySegment a, long lda, MemorySegment b, long ldb,
                              MemorySegment c, long ldc) {
        long a0 = i * lda * 8L, c0 = i * ldc * 8L, rowB = ldb * 8L;
        for (; j + DW <= n; j += DW) {
            long jo = (long) j * 8L;
            DoubleVector s = DoubleVector.zero(DS);
            long bp = jo;
            for (long p = 0; p < k; p++, bp += rowB) {
                s = DoubleVector.broadcast(DS, a.get(F64, a0 + p * 8L)).fma(DoubleVector.fromMemorySegment(DS, b, bp, ORDER), s);
            }
            s.intoMemorySegment(c, c0 + jo, ORDER);
        }
        return j;
    }

    /** Columns {@code [j, n)} of row i (fewer than a vector), each a scalar dot product down a column of B. */
    private static void dNNScalar(int i, int j, int n, int k, MemorySegment a, long lda, MemorySegment b, long ldb,
                                  MemorySegment c, long ldc) {
        for (; j < n; j++) {
            double s = 0;
            for (long p = 0; p < k; p++) s += a.getAtIndex(F64, i * lda + p) * b.getAtIndex(F64, p * ldb + j);
            c.setAtIndex(F64, i * ldc + j, s);
        }
    }
}
