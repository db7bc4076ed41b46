package dev.kiln.codegen;

import dev.kiln.runtime.kernels.Gemm;

import java.lang.foreign.MemorySegment;

/**
 * The kernels generated CPU code calls directly, over pre-sliced segments (element 0 of every matrix at byte 0)
 * with sizes known when the code was generated: the one place that says which runtime kernel serves each.
 */
public final class CpuKernels {
    private CpuKernels() {}

    /** Row-major f32 {@code C[m,n] = A[m,k] op(B)}; {@code op(B) = B^T} for {@code transB} (B stored [n,k]). */
    public static void sgemm(int m, int n, int k, MemorySegment a, int lda, MemorySegment b, int ldb, boolean transB,
                             MemorySegment c, int ldc) {
        Gemm.sgemm(false, transB, m, n, k, 1f, a, 0, lda, b, 0, ldb, 0f, c, 0, ldc);
    }
}
