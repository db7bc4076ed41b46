package dev.kiln.runtime.kernels;

import java.lang.foreign.MemorySegment;

/**
 * The Java GEMM kernels behind {@link DirectGemm} for few rows of A (where OpenBLAS is slow): row-major
 * {@code C[m,n] = A[m,k] * op(B)}, overwriting C, with every matrix starting at byte 0 of its segment and
 * leading dimensions in elements. Arguments are already checked. Two implementations exist, a Vector API one and
 * a plain-Java one, chosen once by {@link #best()}; neither allocates on the Java heap once compiled.
 */
interface SmallGemm {
    void sgemm(int m, int n, int k, MemorySegment a, int lda, MemorySegment b, int ldb, boolean transB,
               MemorySegment c, int ldc);

    void dgemm(int m, int n, int k, MemorySegment a, int lda, MemorySegment b, int ldb, boolean transB,
               MemorySegment c, int ldc);

    /** The Vector API implementation when {@code jdk.incubator.vector} is available, else the plain one. */
    static SmallGemm best() {
        return Holder.BEST;
    }

    /** Chooses once per JVM, like {@link F32Rows.Holder}: {@code kiln.vector=false} forces the plain path. */
    final class Holder {
        static final SmallGemm BEST = select();

        private Holder() {}

        private static SmallGemm select() {
            return VectorApi.instanceOr(SmallGemm.class, "dev.kiln.runtime.kernels.VectorSmallGemm", new PlainSmallGemm());
        }
    }
}
