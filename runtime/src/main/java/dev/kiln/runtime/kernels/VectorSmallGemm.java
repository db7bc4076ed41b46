package dev.kiln.runtime.kernels;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static dev.kiln.runtime.Elements.F32;
import static dev.kiln.runtime.Elements.F64;
import static jdk.incubator.vector.VectorOperators.ADD;

/**
 * {@link SmallGemm} on the Vector API ({@code SPECIES_PREFERRED}, fused multiply-add), register-blocked so that at
 * most eight accumulators are live (AVX2 has 16 vector registers; the loads need the rest). With B transposed
 * ({@code [n,k]}, the nn.Linear weight) each output is a dot product along k, reduced across lanes at the end;
 * tiles of 4x2, 2x4 and 1x4 (rows of A x rows of B) share loads, so B is streamed once per four rows of A.
 * Otherwise ({@code B[k,n]}) tiles of rows of C are accumulated along n, broadcasting A's elements. The tails (k
 * or n not a multiple of the vector length) are scalar loops. Only loaded when {@code jdk.incubator.vector} is
 * present, so nothing else in the runtime may refer to this class directly.
 */
final class VectorSmallGemm implements SmallGemm {
    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> DS = DoubleVector.SPECIES_PREFERRED;
    private static final int FW = FS.length();
    private static final int DW = DS.length();
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

    /** Dispatches float row tiles: four rows, then two, then one. */
    private static void sgemmTiles(int m, int n, int k, MemorySegment a, long lda, MemorySegment b, long ldb,
                              boolean transB, MemorySegment c, long ldc) {
        int i = 0;
        if (transB) {
            int kb = FS.loopBound(k);
            for (; i + 4 <= m; i += 4) sNT4(i, n, k, kb, a, lda, b, ldb, c, ldc);
            for (; i + 2 <= m; i += 2) sNT2(i, n, k, kb, a, lda, b, ldb, c, ldc);
            if (i < m) sNT1(i, n, k, kb, a, lda, b, ldb, c, ldc);
        } else {
            for (; i + 4 <= m; i += 4) sNN4(i, n, k, a, lda, b, ldb, c, ldc);
            for (; i + 2 <= m; i += 2) sNN2(i, n, k, a, lda, b, ldb, c, ldc);
            if (i < m) sNN1(i, 0, n, k, a, lda, b, ldb, c, ldc);
        }
    }

    private static FloatVector sLoad(MemorySegment s, long byteOffset) {
        return FloatVector.fromMemorySegment(FS, s, byteOffset, ORDER);
    }

    /** The scalar part {@code [kb, k)} of the dot product of two rows starting at the given byte offsets. */
    private static float sDotTail(MemorySegment a, long aRow, MemorySegment b, long bRow, int kb, int k) {
        float s = 0;
        for (long p = kb; p < k; p++) s += a.get(F32, aRow + p * 4L) * b.get(F32, bRow + p * 4L);
        return s;
    }

    /** Four rows of A against two rows of B at a time (8 accumulators), so B is streamed once per 4 rows. */
    private static void sNT4(int i, int n, int k, int kb, MemorySegment a, long lda, MemorySegment b, long ldb,
                             MemorySegment c, long ldc) {
        long a0 = i * lda * 4L, a1 = a0 + lda * 4L, a2 = a1 + lda * 4L, a3 = a2 + lda * 4L;
        long c0 = i * ldc * 4L, c1 = c0 + ldc * 4L, c2 = c1 + ldc * 4L, c3 = c2 + ldc * 4L;
        int j = 0;
        for (; j + 2 <= n; j += 2) {
            long b0 = j * ldb * 4L, b1 = b0 + ldb * 4L;
            FloatVector z = FloatVector.zero(FS);
            FloatVector s00 = z, s01 = z, s10 = z, s11 = z, s20 = z, s21 = z, s30 = z, s31 = z;
            for (long p = 0; p < kb; p += FW) {
                long o = p * 4L;
                FloatVector y0 = sLoad(b, b0 + o), y1 = sLoad(b, b1 + o);
                FloatVector x = sLoad(a, a0 + o);
                s00 = x.fma(y0, s00);
                s01 = x.fma(y1, s01);
                x = sLoad(a, a1 + o);
                s10 = x.fma(y0, s10);
                s11 = x.fma(y1, s11);
                x = sLoad(a, a2 + o);
                s20 = x.fma(y0, s20);
                s21 = x.fma(y1, s21);
                x = sLoad(a, a3 + o);
                s30 = x.fma(y0, s30);
                s31 = x.fma(y1, s31);
            }
            long o = (long) j * 4L;
            c.set(F32, c0 + o, s00.reduceLanes(ADD) + sDotTail(a, a0, b, b0, kb, k));
            c.set(F32, c0 + o + 4L, s01.reduceLanes(ADD) + sDotTail(a, a0, b, b1, kb, k));
            c.set(F32, c1 + o, s10.reduceLanes(ADD) + sDotTail(a, a1, b, b0, kb, k));
            c.set(F32, c1 + o + 4L, s11.reduceLanes(ADD) + sDotTail(a, a1, b, b1, kb, k));
            c.set(F32, c2 + o, s20.reduceLanes(ADD) + sDotTail(a, a2, b, b0, kb, k));
            c.set(F32, c2 + o + 4L, s21.reduceLanes(ADD) + sDotTail(a, a2, b, b1, kb, k));
            c.set(F32, c3 + o, s30.reduceLanes(ADD) + sDotTail(a, a3, b, b0, kb, k));
            c.set(F32, c3 + o + 4L, s31.reduceLanes(ADD) + sDotTail(a, a3, b, b1, kb, k));
        }
        if (j < n) {
            long b0 = j * ldb * 4L;
            FloatVector z = FloatVector.zero(FS);
            FloatVector s0 = z, s1 = z, s2 = z, s3 = z;
            for (long p = 0; p < kb; p += FW) {
                long o = p * 4L;
                FloatVector y = sLoad(b, b0 + o);
                s0 = sLoad(a, a0 + o).fma(y, s0);
                s1 = sLoad(a, a1 + o).fma(y, s1);
                s2 = sLoad(a, a2 + o).fma(y, s2);
                s3 = sLoad(a, a3 + o).fma(y, s3);
            }
            long o = (long) j * 4L;
            c.set(F32, c0 + o, s0.reduceLanes(ADD) + sDotTail(a, a0, b, b0, kb, k));
            c.set(F32, c1 + o, s1.reduceLanes(ADD) + sDotTail(a, a1, b, b0, kb, k));
            c.set(F32, c2 + o, s2.reduceLanes(ADD) + sDotTail(a, a2, b, b0, kb, k));
            c.set(F32, c3 + o, s3.reduceLanes(ADD) + sDotTail(a, a3, b, b0, kb, k));
        }
    }

    /** Two rows of A against four rows of B at a time (8 accumulators). */
    private static void sNT2(int i, int n, int k, int kb, MemorySegment a, long lda, MemorySegment b, long ldb,
                             MemorySegment c, long ldc) {
        long a0 = i * lda * 4L, a1 = a0 + lda * 4L;
        long c0 = i * ldc * 4L, c1 = c0 + ldc * 4L;
        int j = 0;
        for (; j + 4 <= n; j += 4) {
            long b0 = j * ldb * 4L, b1 = b0 + ldb * 4L, b2 = b1 + ldb * 4L, b3 = b2 + ldb * 4L;
            FloatVector z = FloatVector.zero(FS);
            FloatVector s00 = z, s01 = z, s02 = z, s03 = z, s10 = z, s11 = z, s12 = z, s13 = z;
            for (long p = 0; p < kb; p += FW) {
                long o = p * 4L;
                FloatVector x0 = sLoad(a, a0 + o), x1 = sLoad(a, a1 + o);
                FloatVector y = sLoad(b, b0 + o);
                s00 = x0.fma(y, s00);
                s10 = x1.fma(y, s10);
                y = sLoad(b, b1 + o);
                s01 = x0.fma(y, s01);
                s11 = x1.fma(y, s11);
                y = sLoad(b, b2 + o);
                s02 = x0.fma(y, s02);
                s12 = x1.fma(y, s12);
                y = sLoad(b, b3 + o);
                s03 = x0.fma(y, s03);
                s13 = x1.fma(y, s13);
            }
            long o = (long) j * 4L;
            c.set(F32, c0 + o, s00.reduceLanes(ADD) + sDotTail(a, a0, b, b0, kb, k));
            c.set(F32, c0 + o + 4L, s01.reduceLanes(ADD) + sDotTail(a, a0, b, b1, kb, k));
            c.set(F32, c0 + o + 2 * 4L, s02.reduceLanes(ADD) + sDotTail(a, a0, b, b2, kb, k));
            c.set(F32, c0 + o + 3 * 4L, s03.reduceLanes(ADD) + sDotTail(a, a0, b, b3, kb, k));
            c.set(F32, c1 + o, s10.reduceLanes(ADD) + sDotTail(a, a1, b, b0, kb, k));
            c.set(F32, c1 + o + 4L, s11.reduceLanes(ADD) + sDotTail(a, a1, b, b1, kb, k));
            c.set(F32, c1 + o + 2 * 4L, s12.reduceLanes(ADD) + sDotTail(a, a1, b, b2, kb, k));
            c.set(F32, c1 + o + 3 * 4L, s13.reduceLanes(ADD) + sDotTail(a, a1, b, b3, kb, k));
        }
        for (; j < n; j++) {
            long b0 = j * ldb * 4L;
            FloatVector z = FloatVector.zero(FS);
            FloatVector s0 = z, s1 = z;
            for (long p = 0; p < kb; p += FW) {
                long o = p * 4L;
                FloatVector y = sLoad(b, b0 + o);
                s0 = sLoad(a, a0 + o).fma(y, s0);
                s1 = sLoad(a, a1 + o).fma(y, s1);
            }
            long o = (long) j * 4L;
            c.set(F32, c0 + o, s0.reduceLanes(ADD) + sDotTail(a, a0, b, b0, kb, k));
            c.set(F32, c1 + o, s1.reduceLanes(ADD) + sDotTail(a, a1, b, b0, kb, k));
        }
    }

    /** One row of A against four rows of B at a time: four independent dot products sharing A's loads. */
    private static void sNT1(int i, int n, int k, int kb, MemorySegment a, long lda, MemorySegment b, long ldb,
                             MemorySegment c, long ldc) {
        long a0 = i * lda * 4L, c0 = i * ldc * 4L;
        int j = 0;
        for (; j + 4 <= n; j += 4) {
            long b0 = j * ldb * 4L, b1 = b0 + ldb * 4L, b2 = b1 + ldb * 4L, b3 = b2 + ldb * 4L;
            FloatVector z = FloatVector.zero(FS);
            FloatVector s0 = z, s1 = z, s2 = z, s3 = z;
            for (long p = 0; p < kb; p += FW) {
                long o = p * 4L;
                FloatVector x = sLoad(a, a0 + o);
                s0 = x.fma(sLoad(b, b0 + o), s0);
                s1 = x.fma(sLoad(b, b1 + o), s1);
                s2 = x.fma(sLoad(b, b2 + o), s2);
                s3 = x.fma(sLoad(b, b3 + o), s3);
            }
            long o = c0 + (long) j * 4L;
            c.set(F32, o, s0.reduceLanes(ADD) + sDotTail(a, a0, b, b0, kb, k));
            c.set(F32, o + 4L, s1.reduceLanes(ADD) + sDotTail(a, a0, b, b1, kb, k));
            c.set(F32, o + 2 * 4L, s2.reduceLanes(ADD) + sDotTail(a, a0, b, b2, kb, k));
            c.set(F32, o + 3 * 4L, s3.reduceLanes(ADD) + sDotTail(a, a0, b, b3, kb, k));
        }
        for (; j < n; j++) {
            long b0 = j * ldb * 4L;
            FloatVector s = FloatVector.zero(FS);
            for (long p = 0; p < kb; p += FW) s = sLoad(a, a0 + p * 4L).fma(sLoad(b, b0 + p * 4L), s);
            c.set(F32, c0 + (long) j * 4L, s.reduceLanes(ADD) + sDotTail(a, a0, b, b0, kb, k));
        }
    }

    /** Four rows of C, two vectors wide (8 accumulators): each B row segment is loaded once for four rows. */
    private static void sNN4(int i, int n, int k, MemorySegment a, long lda, MemorySegment b, long ldb,
                             MemorySegment c, long ldc) {
        long a0 = i * lda * 4L, a1 = a0 + lda * 4L, a2 = a1 + lda * 4L, a3 = a2 + lda * 4L;
        long c0 = i * ldc * 4L, c1 = c0 + ldc * 4L, c2 = c1 + ldc * 4L, c3 = c2 + ldc * 4L;
        long rowB = ldb * 4L;
        int j = 0;
        for (; j + 2 * FW <= n; j += 2 * FW) {
            long jo = (long) j * 4L, jo1 = jo + FW * 4L;
            FloatVector z = FloatVector.zero(FS);
            FloatVector s00 = z, s01 = z, s10 = z, s11 = z, s20 = z, s21 = z, s30 = z, s31 = z;
            long bp = 0;
            for (long p = 0; p < k; p++, bp += rowB) {
                FloatVector y0 = sLoad(b, bp + jo), y1 = sLoad(b, bp + jo1);
                long o = p * 4L;
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
            s00.intoMemorySegment(c, c0 + jo, ORDER);
            s01.intoMemorySegment(c, c0 + jo1, ORDER);
            s10.intoMemorySegment(c, c1 + jo, ORDER);
            s11.intoMemorySegment(c, c1 + jo1, ORDER);
            s20.intoMemorySegment(c, c2 + jo, ORDER);
            s21.intoMemorySegment(c, c2 + jo1, ORDER);
            s30.intoMemorySegment(c, c3 + jo, ORDER);
            s31.intoMemorySegment(c, c3 + jo1, ORDER);
        }
        for (int r = 0; r < 4; r++) sNN1(i + r, j, n, k, a, lda, b, ldb, c, ldc);
    }

    /** Two rows of C, four vectors wide (8 accumulators). */
    private static void sNN2(int i, int n, int k, MemorySegment a, long lda, MemorySegment b, long ldb,
                             MemorySegment c, long ldc) {
        long a0 = i * lda * 4L, a1 = a0 + lda * 4L;
        long c0 = i * ldc * 4L, c1 = c0 + ldc * 4L;
        long rowB = ldb * 4L, v = FW * 4L;
        int j = 0;
        for (; j + 4 * FW <= n; j += 4 * FW) {
            long jo = (long) j * 4L;
            FloatVector z = FloatVector.zero(FS);
            FloatVector s00 = z, s01 = z, s02 = z, s03 = z, s10 = z, s11 = z, s12 = z, s13 = z;
            long bp = jo;
            for (long p = 0; p < k; p++, bp += rowB) {
                long o = p * 4L;
                FloatVector x0 = FloatVector.broadcast(FS, a.get(F32, a0 + o)), x1 = FloatVector.broadcast(FS, a.get(F32, a1 + o));
                FloatVector y = sLoad(b, bp);
                s00 = x0.fma(y, s00);
                s10 = x1.fma(y, s10);
                y = sLoad(b, bp + v);
                s01 = x0.fma(y, s01);
                s11 = x1.fma(y, s11);
                y = sLoad(b, bp + 2 * v);
                s02 = x0.fma(y, s02);
                s12 = x1.fma(y, s12);
                y = sLoad(b, bp + 3 * v);
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
        sNN1(i, j, n, k, a, lda, b, ldb, c, ldc);
        sNN1(i + 1, j, n, k, a, lda, b, ldb, c, ldc);
    }

    /**
     * Columns {@code [j0, n)} of row i of C: four vectors wide, then one vector, then scalar columns (each a dot
     * product down a column of B).
     */
    private static void sNN1(int i, int j0, int n, int k, MemorySegment a, long lda, MemorySegment b, long ldb,
                             MemorySegment c, long ldc) {
        long a0 = i * lda * 4L, c0 = i * ldc * 4L;
        long rowB = ldb * 4L, v = FW * 4L;
        int j = j0;
        for (; j + 4 * FW <= n; j += 4 * FW) {
            long jo = (long) j * 4L;
            FloatVector z = FloatVector.zero(FS);
            FloatVector s0 = z, s1 = z, s2 = z, s3 = z;
            long bp = jo;
            for (long p = 0; p < k; p++, bp += rowB) {
                FloatVector x = FloatVector.broadcast(FS, a.get(F32, a0 + p * 4L));
                s0 = x.fma(sLoad(b, bp), s0);
                s1 = x.fma(sLoad(b, bp + v), s1);
                s2 = x.fma(sLoad(b, bp + 2 * v), s2);
                s3 = x.fma(sLoad(b, bp + 3 * v), s3);
            }
            s0.intoMemorySegment(c, c0 + jo, ORDER);
            s1.intoMemorySegment(c, c0 + jo + v, ORDER);
            s2.intoMemorySegment(c, c0 + jo + 2 * v, ORDER);
            s3.intoMemorySegment(c, c0 + jo + 3 * v, ORDER);
        }
        for (; j + FW <= n; j += FW) {
            long jo = (long) j * 4L;
            FloatVector s = FloatVector.zero(FS);
            long bp = jo;
            for (long p = 0; p < k; p++, bp += rowB) {
                s = FloatVector.broadcast(FS, a.get(F32, a0 + p * 4L)).fma(sLoad(b, bp), s);
            }
            s.intoMemorySegment(c, c0 + jo, ORDER);
        }
        for (; j < n; j++) {
            float s = 0;
            long bp = (long) j * 4L;
            for (long p = 0; p < k; p++, bp += rowB) s += a.get(F32, a0 + p * 4L) * b.get(F32, bp);
            c.set(F32, c0 + (long) j * 4L, s);
        }
    }

    // ------------------------------------------------------------------ double

    /** Dispatches double row tiles: four rows, then two, then one. */
    private static void dgemmTiles(int m, int n, int k, MemorySegment a, long lda, MemorySegment b, long ldb,
                              boolean transB, MemorySegment c, long ldc) {
        int i = 0;
        if (transB) {
            int kb = DS.loopBound(k);
            for (; i + 4 <= m; i += 4) dNT4(i, n, k, kb, a, lda, b, ldb, c, ldc);
            for (; i + 2 <= m; i += 2) dNT2(i, n, k, kb, a, lda, b, ldb, c, ldc);
            if (i < m) dNT1(i, n, k, kb, a, lda, b, ldb, c, ldc);
        } else {
            for (; i + 4 <= m; i += 4) dNN4(i, n, k, a, lda, b, ldb, c, ldc);
            for (; i + 2 <= m; i += 2) dNN2(i, n, k, a, lda, b, ldb, c, ldc);
            if (i < m) dNN1(i, 0, n, k, a, lda, b, ldb, c, ldc);
        }
    }

    private static DoubleVector dLoad(MemorySegment s, long byteOffset) {
        return DoubleVector.fromMemorySegment(DS, s, byteOffset, ORDER);
    }

    /** The scalar part {@code [kb, k)} of the dot product of two rows starting at the given byte offsets. */
    private static double dDotTail(MemorySegment a, long aRow, MemorySegment b, long bRow, int kb, int k) {
        double s = 0;
        for (long p = kb; p < k; p++) s += a.get(F64, aRow + p * 8L) * b.get(F64, bRow + p * 8L);
        return s;
    }

    /** Four rows of A against two rows of B at a time (8 accumulators), so B is streamed once per 4 rows. */
    private static void dNT4(int i, int n, int k, int kb, MemorySegment a, long lda, MemorySegment b, long ldb,
                             MemorySegment c, long ldc) {
        long a0 = i * lda * 8L, a1 = a0 + lda * 8L, a2 = a1 + lda * 8L, a3 = a2 + lda * 8L;
        long c0 = i * ldc * 8L, c1 = c0 + ldc * 8L, c2 = c1 + ldc * 8L, c3 = c2 + ldc * 8L;
        int j = 0;
        for (; j + 2 <= n; j += 2) {
            long b0 = j * ldb * 8L, b1 = b0 + ldb * 8L;
            DoubleVector z = DoubleVector.zero(DS);
            DoubleVector s00 = z, s01 = z, s10 = z, s11 = z, s20 = z, s21 = z, s30 = z, s31 = z;
            for (long p = 0; p < kb; p += DW) {
                long o = p * 8L;
                DoubleVector y0 = dLoad(b, b0 + o), y1 = dLoad(b, b1 + o);
                DoubleVector x = dLoad(a, a0 + o);
                s00 = x.fma(y0, s00);
                s01 = x.fma(y1, s01);
                x = dLoad(a, a1 + o);
                s10 = x.fma(y0, s10);
                s11 = x.fma(y1, s11);
                x = dLoad(a, a2 + o);
                s20 = x.fma(y0, s20);
                s21 = x.fma(y1, s21);
                x = dLoad(a, a3 + o);
                s30 = x.fma(y0, s30);
                s31 = x.fma(y1, s31);
            }
            long o = (long) j * 8L;
            c.set(F64, c0 + o, s00.reduceLanes(ADD) + dDotTail(a, a0, b, b0, kb, k));
            c.set(F64, c0 + o + 8L, s01.reduceLanes(ADD) + dDotTail(a, a0, b, b1, kb, k));
            c.set(F64, c1 + o, s10.reduceLanes(ADD) + dDotTail(a, a1, b, b0, kb, k));
            c.set(F64, c1 + o + 8L, s11.reduceLanes(ADD) + dDotTail(a, a1, b, b1, kb, k));
            c.set(F64, c2 + o, s20.reduceLanes(ADD) + dDotTail(a, a2, b, b0, kb, k));
            c.set(F64, c2 + o + 8L, s21.reduceLanes(ADD) + dDotTail(a, a2, b, b1, kb, k));
            c.set(F64, c3 + o, s30.reduceLanes(ADD) + dDotTail(a, a3, b, b0, kb, k));
            c.set(F64, c3 + o + 8L, s31.reduceLanes(ADD) + dDotTail(a, a3, b, b1, kb, k));
        }
        if (j < n) {
            long b0 = j * ldb * 8L;
            DoubleVector z = DoubleVector.zero(DS);
            DoubleVector s0 = z, s1 = z, s2 = z, s3 = z;
            for (long p = 0; p < kb; p += DW) {
                long o = p * 8L;
                DoubleVector y = dLoad(b, b0 + o);
                s0 = dLoad(a, a0 + o).fma(y, s0);
                s1 = dLoad(a, a1 + o).fma(y, s1);
                s2 = dLoad(a, a2 + o).fma(y, s2);
                s3 = dLoad(a, a3 + o).fma(y, s3);
            }
            long o = (long) j * 8L;
            c.set(F64, c0 + o, s0.reduceLanes(ADD) + dDotTail(a, a0, b, b0, kb, k));
            c.set(F64, c1 + o, s1.reduceLanes(ADD) + dDotTail(a, a1, b, b0, kb, k));
            c.set(F64, c2 + o, s2.reduceLanes(ADD) + dDotTail(a, a2, b, b0, kb, k));
            c.set(F64, c3 + o, s3.reduceLanes(ADD) + dDotTail(a, a3, b, b0, kb, k));
        }
    }

    /** Two rows of A against four rows of B at a time (8 accumulators). */
    private static void dNT2(int i, int n, int k, int kb, MemorySegment a, long lda, MemorySegment b, long ldb,
                             MemorySegment c, long ldc) {
        long a0 = i * lda * 8L, a1 = a0 + lda * 8L;
        long c0 = i * ldc * 8L, c1 = c0 + ldc * 8L;
        int j = 0;
        for (; j + 4 <= n; j += 4) {
            long b0 = j * ldb * 8L, b1 = b0 + ldb * 8L, b2 = b1 + ldb * 8L, b3 = b2 + ldb * 8L;
            DoubleVector z = DoubleVector.zero(DS);
            DoubleVector s00 = z, s01 = z, s02 = z, s03 = z, s10 = z, s11 = z, s12 = z, s13 = z;
            for (long p = 0; p < kb; p += DW) {
                long o = p * 8L;
                DoubleVector x0 = dLoad(a, a0 + o), x1 = dLoad(a, a1 + o);
                DoubleVector y = dLoad(b, b0 + o);
                s00 = x0.fma(y, s00);
                s10 = x1.fma(y, s10);
                y = dLoad(b, b1 + o);
                s01 = x0.fma(y, s01);
                s11 = x1.fma(y, s11);
                y = dLoad(b, b2 + o);
                s02 = x0.fma(y, s02);
                s12 = x1.fma(y, s12);
                y = dLoad(b, b3 + o);
                s03 = x0.fma(y, s03);
                s13 = x1.fma(y, s13);
            }
            long o = (long) j * 8L;
            c.set(F64, c0 + o, s00.reduceLanes(ADD) + dDotTail(a, a0, b, b0, kb, k));
            c.set(F64, c0 + o + 8L, s01.reduceLanes(ADD) + dDotTail(a, a0, b, b1, kb, k));
            c.set(F64, c0 + o + 2 * 8L, s02.reduceLanes(ADD) + dDotTail(a, a0, b, b2, kb, k));
            c.set(F64, c0 + o + 3 * 8L, s03.reduceLanes(ADD) + dDotTail(a, a0, b, b3, kb, k));
            c.set(F64, c1 + o, s10.reduceLanes(ADD) + dDotTail(a, a1, b, b0, kb, k));
            c.set(F64, c1 + o + 8L, s11.reduceLanes(ADD) + dDotTail(a, a1, b, b1, kb, k));
            c.set(F64, c1 + o + 2 * 8L, s12.reduceLanes(ADD) + dDotTail(a, a1, b, b2, kb, k));
            c.set(F64, c1 + o + 3 * 8L, s13.reduceLanes(ADD) + dDotTail(a, a1, b, b3, kb, k));
        }
        for (; j < n; j++) {
            long b0 = j * ldb * 8L;
            DoubleVector z = DoubleVector.zero(DS);
            DoubleVector s0 = z, s1 = z;
            for (long p = 0; p < kb; p += DW) {
                long o = p * 8L;
                DoubleVector y = dLoad(b, b0 + o);
                s0 = dLoad(a, a0 + o).fma(y, s0);
                s1 = dLoad(a, a1 + o).fma(y, s1);
            }
            long o = (long) j * 8L;
            c.set(F64, c0 + o, s0.reduceLanes(ADD) + dDotTail(a, a0, b, b0, kb, k));
            c.set(F64, c1 + o, s1.reduceLanes(ADD) + dDotTail(a, a1, b, b0, kb, k));
        }
    }

    /** One row of A against four rows of B at a time: four independent dot products sharing A's loads. */
    private static void dNT1(int i, int n, int k, int kb, MemorySegment a, long lda, MemorySegment b, long ldb,
                             MemorySegment c, long ldc) {
        long a0 = i * lda * 8L, c0 = i * ldc * 8L;
        int j = 0;
        for (; j + 4 <= n; j += 4) {
            long b0 = j * ldb * 8L, b1 = b0 + ldb * 8L, b2 = b1 + ldb * 8L, b3 = b2 + ldb * 8L;
            DoubleVector z = DoubleVector.zero(DS);
            DoubleVector s0 = z, s1 = z, s2 = z, s3 = z;
            for (long p = 0; p < kb; p += DW) {
                long o = p * 8L;
                DoubleVector x = dLoad(a, a0 + o);
                s0 = x.fma(dLoad(b, b0 + o), s0);
                s1 = x.fma(dLoad(b, b1 + o), s1);
                s2 = x.fma(dLoad(b, b2 + o), s2);
                s3 = x.fma(dLoad(b, b3 + o), s3);
            }
            long o = c0 + (long) j * 8L;
            c.set(F64, o, s0.reduceLanes(ADD) + dDotTail(a, a0, b, b0, kb, k));
            c.set(F64, o + 8L, s1.reduceLanes(ADD) + dDotTail(a, a0, b, b1, kb, k));
            c.set(F64, o + 2 * 8L, s2.reduceLanes(ADD) + dDotTail(a, a0, b, b2, kb, k));
            c.set(F64, o + 3 * 8L, s3.reduceLanes(ADD) + dDotTail(a, a0, b, b3, kb, k));
        }
        for (; j < n; j++) {
            long b0 = j * ldb * 8L;
            DoubleVector s = DoubleVector.zero(DS);
            for (long p = 0; p < kb; p += DW) s = dLoad(a, a0 + p * 8L).fma(dLoad(b, b0 + p * 8L), s);
            c.set(F64, c0 + (long) j * 8L, s.reduceLanes(ADD) + dDotTail(a, a0, b, b0, kb, k));
        }
    }

    /** Four rows of C, two vectors wide (8 accumulators): each B row segment is loaded once for four rows. */
    private static void dNN4(int i, int n, int k, MemorySegment a, long lda, MemorySegment b, long ldb,
                             MemorySegment c, long ldc) {
        long a0 = i * lda * 8L, a1 = a0 + lda * 8L, a2 = a1 + lda * 8L, a3 = a2 + lda * 8L;
        long c0 = i * ldc * 8L, c1 = c0 + ldc * 8L, c2 = c1 + ldc * 8L, c3 = c2 + ldc * 8L;
        long rowB = ldb * 8L;
        int j = 0;
        for (; j + 2 * DW <= n; j += 2 * DW) {
            long jo = (long) j * 8L, jo1 = jo + DW * 8L;
            DoubleVector z = DoubleVector.zero(DS);
            DoubleVector s00 = z, s01 = z, s10 = z, s11 = z, s20 = z, s21 = z, s30 = z, s31 = z;
            long bp = 0;
            for (long p = 0; p < k; p++, bp += rowB) {
                DoubleVector y0 = dLoad(b, bp + jo), y1 = dLoad(b, bp + jo1);
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
            s01.intoMemorySegment(c, c0 + jo1, ORDER);
            s10.intoMemorySegment(c, c1 + jo, ORDER);
            s11.intoMemorySegment(c, c1 + jo1, ORDER);
            s20.intoMemorySegment(c, c2 + jo, ORDER);
            s21.intoMemorySegment(c, c2 + jo1, ORDER);
            s30.intoMemorySegment(c, c3 + jo, ORDER);
            s31.intoMemorySegment(c, c3 + jo1, ORDER);
        }
        for (int r = 0; r < 4; r++) dNN1(i + r, j, n, k, a, lda, b, ldb, c, ldc);
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
                DoubleVector y = dLoad(b, bp);
                s00 = x0.fma(y, s00);
                s10 = x1.fma(y, s10);
                y = dLoad(b, bp + v);
                s01 = x0.fma(y, s01);
                s11 = x1.fma(y, s11);
                y = dLoad(b, bp + 2 * v);
                s02 = x0.fma(y, s02);
                s12 = x1.fma(y, s12);
                y = dLoad(b, bp + 3 * v);
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
        dNN1(i, j, n, k, a, lda, b, ldb, c, ldc);
        dNN1(i + 1, j, n, k, a, lda, b, ldb, c, ldc);
    }

    /**
     * Columns {@code [j0, n)} of row i of C: four vectors wide, then one vector, then scalar columns (each a dot
     * product down a column of B).
     */
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
                s0 = x.fma(dLoad(b, bp), s0);
                s1 = x.fma(dLoad(b, bp + v), s1);
                s2 = x.fma(dLoad(b, bp + 2 * v), s2);
                s3 = x.fma(dLoad(b, bp + 3 * v), s3);
            }
            s0.intoMemorySegment(c, c0 + jo, ORDER);
            s1.intoMemorySegment(c, c0 + jo + v, ORDER);
            s2.intoMemorySegment(c, c0 + jo + 2 * v, ORDER);
            s3.intoMemorySegment(c, c0 + jo + 3 * v, ORDER);
        }
        for (; j + DW <= n; j += DW) {
            long jo = (long) j * 8L;
            DoubleVector s = DoubleVector.zero(DS);
            long bp = jo;
            for (long p = 0; p < k; p++, bp += rowB) {
                s = DoubleVector.broadcast(DS, a.get(F64, a0 + p * 8L)).fma(dLoad(b, bp), s);
            }
            s.intoMemorySegment(c, c0 + jo, ORDER);
        }
        for (; j < n; j++) {
            double s = 0;
            long bp = (long) j * 8L;
            for (long p = 0; p < k; p++, bp += rowB) s += a.get(F64, a0 + p * 8L) * b.get(F64, bp);
            c.set(F64, c0 + (long) j * 8L, s);
        }
    }
}
