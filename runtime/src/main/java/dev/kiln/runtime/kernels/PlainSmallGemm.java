package dev.kiln.runtime.kernels;

import java.lang.foreign.MemorySegment;

import static dev.kiln.runtime.Elements.F32;
import static dev.kiln.runtime.Elements.F64;

/**
 * Scalar {@link SmallGemm}: works on any JVM. With B transposed each output is a dot product (four columns at
 * a time, sharing A's loads); otherwise each row of C accumulates scaled rows of B in place (axpy), which reads
 * B row by row.
 */
final class PlainSmallGemm implements SmallGemm {

    @Override
    public void sgemm(int m, int n, int k, MemorySegment a, int lda, MemorySegment b, int ldb, boolean transB,
                      MemorySegment c, int ldc) {
        if (transB) {
            for (int i = 0; i < m; i++) sRowNT(i, n, k, a, lda, b, ldb, c, ldc);
        } else {
            for (int i = 0; i < m; i++) sRowNN(i, n, k, a, lda, b, ldb, c, ldc);
        }
    }

    @Override
    public void dgemm(int m, int n, int k, MemorySegment a, int lda, MemorySegment b, int ldb, boolean transB,
                      MemorySegment c, int ldc) {
        if (transB) {
            for (int i = 0; i < m; i++) dRowNT(i, n, k, a, lda, b, ldb, c, ldc);
        } else {
            for (int i = 0; i < m; i++) dRowNN(i, n, k, a, lda, b, ldb, c, ldc);
        }
    }

    private static void sRowNT(int i, int n, int k, MemorySegment a, long lda, MemorySegment b, long ldb,
                               MemorySegment c, long ldc) {
        long ar = i * lda;
        int j = 0;
        for (; j + 4 <= n; j += 4) {
            long b0 = j * ldb, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
            float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            for (int p = 0; p < k; p++) {
                float x = a.getAtIndex(F32, ar + p);
                s0 += x * b.getAtIndex(F32, b0 + p);
                s1 += x * b.getAtIndex(F32, b1 + p);
                s2 += x * b.getAtIndex(F32, b2 + p);
                s3 += x * b.getAtIndex(F32, b3 + p);
            }
            long o = i * ldc + j;
            c.setAtIndex(F32, o, s0);
            c.setAtIndex(F32, o + 1, s1);
            c.setAtIndex(F32, o + 2, s2);
            c.setAtIndex(F32, o + 3, s3);
        }
        for (; j < n; j++) {
            long br = j * ldb;
            float s = 0;
            for (int p = 0; p < k; p++) s += a.getAtIndex(F32, ar + p) * b.getAtIndex(F32, br + p);
            c.setAtIndex(F32, i * ldc + j, s);
        }
    }

    private static void sRowNN(int i, int n, int k, MemorySegment a, long lda, MemorySegment b, long ldb,
                               MemorySegment c, long ldc) {
        long cr = i * ldc;
        for (int j = 0; j < n; j++) c.setAtIndex(F32, cr + j, 0f);
        for (int p = 0; p < k; p++) {
            float x = a.getAtIndex(F32, i * lda + p);
            long br = p * ldb;
            for (int j = 0; j < n; j++) {
                c.setAtIndex(F32, cr + j, c.getAtIndex(F32, cr + j) + x * b.getAtIndex(F32, br + j));
            }
        }
    }

    private static void dRowNT(int i, int n, int k, MemorySegment a, long lda, MemorySegment b, long ldb,
                               MemorySegment c, long ldc) {
        long ar = i * lda;
        int j = 0;
        for (; j + 4 <= n; j += 4) {
            long b0 = j * ldb, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
            double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            for (int p = 0; p < k; p++) {
                double x = a.getAtIndex(F64, ar + p);
                s0 += x * b.getAtIndex(F64, b0 + p);
                s1 += x * b.getAtIndex(F64, b1 + p);
                s2 += x * b.getAtIndex(F64, b2 + p);
                s3 += x * b.getAtIndex(F64, b3 + p);
            }
            long o = i * ldc + j;
            c.setAtIndex(F64, o, s0);
            c.setAtIndex(F64, o + 1, s1);
            c.setAtIndex(F64, o + 2, s2);
            c.setAtIndex(F64, o + 3, s3);
        }
        for (; j < n; j++) {
            long br = j * ldb;
            double s = 0;
            for (int p = 0; p < k; p++) s += a.getAtIndex(F64, ar + p) * b.getAtIndex(F64, br + p);
            c.setAtIndex(F64, i * ldc + j, s);
        }
    }

    private static void dRowNN(int i, int n, int k, MemorySegment a, long lda, MemorySegment b, long ldb,
                               MemorySegment c, long ldc) {
        long cr = i * ldc;
        for (int j = 0; j < n; j++) c.setAtIndex(F64, cr + j, 0d);
        for (int p = 0; p < k; p++) {
            double x = a.getAtIndex(F64, i * lda + p);
            long br = p * ldb;
            for (int j = 0; j < n; j++) {
                c.setAtIndex(F64, cr + j, c.getAtIndex(F64, cr + j) + x * b.getAtIndex(F64, br + j));
            }
        }
    }
}
