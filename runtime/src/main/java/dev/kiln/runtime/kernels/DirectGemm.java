package dev.kiln.runtime.kernels;

import dev.kiln.ir.KilnException;
import java.lang.foreign.MemorySegment;

import static dev.kiln.runtime.Elements.F32;
import static dev.kiln.runtime.Elements.F64;

/**
 * Allocation-free GEMM entry points for generated code, whose tensors are preallocated slices of an off-heap
 * arena: every matrix starts at byte 0 of its (native) segment, so there are no offsets and nothing is sliced.
 * f32 calls may take a {@link RowEpilogue} (bias, activation, residual: run on finished rows while they are in
 * cache) and a right-hand operand packed ahead of time ({@link PackedB}, for constant weights). Nothing is
 * allocated on the Java heap once the JIT has compiled the path taken (the thread pool's task objects aside).
 *
 * <p>Which kernel serves which f32 shape ({@link #kernelFor}), from measurements on a 2-core Zen 5 with AVX-512
 * (FMA loop peak 213 GFLOP/s per core; {@code GemmBenchmark} in the samples, 1 thread, best of interleaved runs):
 * <ul>
 *   <li>m &le; {@link #SMALL_M} (16): {@link SmallGemm}, register-blocked Vector API loops that read A and B in
 *       place. Batch-1 GEMV: 40-44 GFLOP/s at 1x512x784, where OpenBLAS makes 4-5 and the packed kernel with a
 *       prepacked B about 30 (it computes a whole 6-row tile).</li>
 *   <li>n &lt; {@link #NARROW_N} (16): OpenBLAS, since the packed kernel pads n to its panel (32x10x512: 20-23
 *       against 30-42).</li>
 *   <li>B transposed (a linear layer), m &le; {@link #LINEAR_M} (64) and at least 16K weights: {@link SmallGemm}
 *       again, since packing B on every call costs more than it saves there (32x512x784: 108-134 against
 *       80-90 for packing per call; a {@link PackedB} reaches 142-175).</li>
 *   <li>Everything else: {@link PackedGemm}, the packed Vector API kernel with B packed per call, split over
 *       {@link Parallel}'s threads by rows, with the epilogue per row block: 185-198 GFLOP/s at n = 256..2048
 *       (85-93% of the FMA peak) against OpenBLAS's 93-106 (its Haswell kernels use 256-bit vectors), and
 *       ahead of OpenBLAS on every anchor shape measured except those above.</li>
 *   <li>Without the Vector API: OpenBLAS for m &gt; {@link #SMALL_M} when it loads (the plain Java packed kernel
 *       is correct but slow), else the plain small-m kernels.</li>
 * </ul>
 * On the OpenBLAS paths the epilogue runs once over all rows after the call. OpenBLAS is only ever called from
 * the calling thread, never from inside pool tasks, so its threads and Kiln's do not stack within one GEMM. f64
 * ({@link #dgemm}) keeps the small-m / OpenBLAS split.
 */
public final class DirectGemm {
    private static final SmallGemm SMALL = SmallGemm.best();

    /**
     * Largest m handled by the Java kernels when OpenBLAS is available: 16 for the Vector API kernels, 2 for the
     * plain-Java ones. Measured on a 2-core AVX-512 machine (see {@code DirectKernelsBench} in the tests): the
     * vector kernels beat single-threaded OpenBLAS up to m = 16 on every shape tried, and on large
     * {@code n*k} with B transposed well beyond; the scalar ones only for m of 1 or 2. System property
     * {@code kiln.gemm.smallM} overrides it.
     */
    public static final int SMALL_M = Math.max(0, Integer.getInteger("kiln.gemm.smallM",
            SMALL instanceof PlainSmallGemm ? 2 : 16));

    /**
     * Calls with at most this many multiply-adds use the critical downcall (no thread-state transition); longer
     * ones take the ordinary one, so that a long BLAS call cannot hold off safepoints (GC) for other threads.
     */
    static final long CRITICAL_MAX_MACS = 1L << 24;

    /**
     * Largest m the small-m vector kernels take for a linear-layer shape (B transposed, at least 16K weights), where
     * they beat the packed kernel packing B on every call: at m = 32 (n 512, k 512..784) 124-134 GFLOP/s against
     * 90-93; at m = 64 about even (130 vs 122); at m = 128 the packed kernel wins (136 vs 66 for 128x768x256).
     */
    static final int LINEAR_M = 64;

    private DirectGemm() {}

    /**
     * Outputs narrower than this (and more than {@link #SMALL_M} rows) go to OpenBLAS: the packed kernel pads n to
     * its panel width (32 floats on AVX-512) and at 32x10x512 reached 20-23 GFLOP/s against OpenBLAS's 30-42.
     */
    static final int NARROW_N = 16;

    /**
     * Whether a call of this shape is faster with its B packed ahead of time than through {@link #kernelFor}'s
     * choice (B packed per call, or the small-m or OpenBLAS kernels): more than {@link #SMALL_M} rows and at least
     * {@link #NARROW_N} columns with the Vector API (at m = 32, n = 512: 170-173 GFLOP/s prepacked against 102-134).
     */
    public static boolean prefersPackedB(int m, int n) {
        return usesVectorApi() && m > SMALL_M && n >= NARROW_N;
    }

    /** The kernels {@link #sgemm} chooses between. */
    public enum Kernel {
        /** {@link SmallGemm}: register-blocked Vector API (or plain) loops reading A and B in place. */
        SMALL_M,
        /** {@link PackedGemm}: packed panels, cache blocking, Kiln's thread pool, per-block epilogue. */
        PACKED,
        /** OpenBLAS {@code cblas_sgemm}, then the epilogue over all rows. */
        OPENBLAS
    }

    /** The kernel {@link #sgemm} uses for this shape (m, n, k positive). */
    public static Kernel kernelFor(int m, int n, int k, boolean transB) {
        if (m <= SMALL_M) return Kernel.SMALL_M;
        if (!usesVectorApi() || n < NARROW_N) return Blas.AVAILABLE ? Kernel.OPENBLAS : Kernel.SMALL_M;
        return transB && m <= LINEAR_M && (long) n * k >= (1 << 14) ? Kernel.SMALL_M : Kernel.PACKED;
    }

    /**
     * Row-major {@code C[m,n] = A[m,k] * op(B)}, overwriting C (beta = 0). {@code op(B) = B^T} when {@code transB}
     * (B stored {@code [n,k]}, the nn.Linear weight layout), else B stored {@code [k,n]}. lda/ldb/ldc are in
     * elements; element 0 of each matrix is at byte 0 of its native segment. Throws
     * {@link IllegalArgumentException} if a size is negative, a leading dimension too small or a segment too short
     * or on the heap.
     */
    public static void sgemm(int m, int n, int k, MemorySegment a, int lda, MemorySegment b, int ldb,
                             boolean transB, MemorySegment c, int ldc) {
        sgemm(m, n, k, a, lda, b, ldb, transB, c, ldc, null);
    }

    /**
     * {@link #sgemm(int, int, int, MemorySegment, int, MemorySegment, int, boolean, MemorySegment, int)}, then
     * {@code epilogue} (may be null) on the finished rows: per block of rows while they are in cache on the packed
     * kernel, once over all rows on the others. The blocks cover every row of C exactly once.
     */
    public static void sgemm(int m, int n, int k, MemorySegment a, int lda, MemorySegment b, int ldb,
                             boolean transB, MemorySegment c, int ldc, RowEpilogue epilogue) {
        check("sgemm", m, n, k, a, lda, b, ldb, transB, c, ldc, 4);
        if (trivial(m, n, k, c, ldc, epilogue)) return;
        switch (kernelFor(m, n, k, transB)) {
            case PACKED -> PackedGemm.compute(m, n, k, a, lda, b, ldb, transB, c, ldc, epilogue);
            case SMALL_M -> {
                SMALL.sgemm(m, n, k, a, lda, b, ldb, transB, c, ldc);
                if (epilogue != null) epilogue.rows(0, m);
            }
            case OPENBLAS -> {
                Blas.sgemm(m, n, k, a, lda, b, ldb, transB, c, ldc);
                if (epilogue != null) epilogue.rows(0, m);
            }
        }
    }

    /**
     * {@code C[m,n] = A[m,k] * op(B)} with op(B) packed ahead of time ({@link PackedB#pack}, e.g. a constant
     * weight at compile time), then {@code epilogue} (may be null) per block of finished rows. Always the packed
     * kernel. Throws {@link IllegalArgumentException} if B was packed for other sizes or A or C do not fit.
     */
    public static void sgemm(int m, int n, int k, MemorySegment a, int lda, PackedB b, MemorySegment c, int ldc,
                             RowEpilogue epilogue) {
        checkPacked("sgemm", m, n, k, a, lda, b, c, ldc);
        if (trivial(m, n, k, c, ldc, epilogue)) return;
        PackedGemm.compute(m, n, k, a, lda, b, c, ldc, epilogue, PackedGemm.MC);
    }

    /** The f64 counterpart of {@link #sgemm}, with the same layout, checks and dispatch. */
    public static void dgemm(int m, int n, int k, MemorySegment a, int lda, MemorySegment b, int ldb,
                             boolean transB, MemorySegment c, int ldc) {
        check("dgemm", m, n, k, a, lda, b, ldb, transB, c, ldc, 8);
        if (m == 0 || n == 0) return;
        if (k == 0) {
            for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) c.setAtIndex(F64, (long) i * ldc + j, 0d);
        } else if (m <= SMALL_M || !Blas.AVAILABLE
                || transB && usesVectorApi() && m <= LINEAR_M && (long) n * k >= (1 << 14)) {
            SMALL.dgemm(m, n, k, a, lda, b, ldb, transB, c, ldc);
        } else {
            Blas.dgemm(m, n, k, a, lda, b, ldb, transB, c, ldc);
        }
    }

    /** Whether the small-m Java kernels run on the Vector API (else the plain-Java fallback). */
    public static boolean usesVectorApi() {
        return !(SMALL instanceof PlainSmallGemm);
    }

    /** The OpenBLAS path, in its own class so that small-m-only use never loads the native library. */
    private static final class Blas {
        static final boolean AVAILABLE = available();

        private Blas() {}

        private static boolean available() {
            try {
                OpenBlas.get();
                return true;
            } catch (IllegalStateException e) {
                return false;
            }
        }

        static void sgemm(int m, int n, int k, MemorySegment a, int lda, MemorySegment b, int ldb, boolean transB,
                          MemorySegment c, int ldc) {
            int tb = transB ? OpenBlas.TRANS : OpenBlas.NO_TRANS;
            OpenBlas.Binding blas = OpenBlas.get();
            try {
                if ((long) m * n * k <= CRITICAL_MAX_MACS) {
                    blas.sgemmCritical().invokeExact(OpenBlas.ROW_MAJOR, OpenBlas.NO_TRANS, tb, m, n, k, 1f,
                            a, lda, b, ldb, 0f, c, ldc);
                } else {
                    blas.sgemm().invokeExact(OpenBlas.ROW_MAJOR, OpenBlas.NO_TRANS, tb, m, n, k, 1f,
                            a, lda, b, ldb, 0f, c, ldc);
                }
            } catch (Throwable t) {
                throw rethrow(t);
            }
        }

        static void dgemm(int m, int n, int k, MemorySegment a, int lda, MemorySegment b, int ldb, boolean transB,
                          MemorySegment c, int ldc) {
            int tb = transB ? OpenBlas.TRANS : OpenBlas.NO_TRANS;
            OpenBlas.Binding blas = OpenBlas.get();
            try {
                if ((long) m * n * k <= CRITICAL_MAX_MACS) {
                    blas.dgemmCritical().invokeExact(OpenBlas.ROW_MAJOR, OpenBlas.NO_TRANS, tb, m, n, k, 1.0,
                            a, lda, b, ldb, 0.0, c, ldc);
                } else {
                    blas.dgemm().invokeExact(OpenBlas.ROW_MAJOR, OpenBlas.NO_TRANS, tb, m, n, k, 1.0,
                            a, lda, b, ldb, 0.0, c, ldc);
                }
            } catch (Throwable t) {
                throw rethrow(t);
            }
        }

        private static RuntimeException rethrow(Throwable t) {
            if (t instanceof RuntimeException r) return r;
            if (t instanceof Error e) throw e;
            return new IllegalStateException("OpenBLAS call failed: " + t, t);
        }
    }

    /**
     * Handles the calls with nothing to multiply: none when m or n is 0, zeros when k is 0 (then C is written and
     * the epilogue, if any, runs over all rows). Returns whether the call is done.
     */
    static boolean trivial(int m, int n, int k, MemorySegment c, int ldc, RowEpilogue epilogue) {
        if (m == 0) return true;
        if (n > 0 && k > 0) return false;
        for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) c.setAtIndex(F32, (long) i * ldc + j, 0f);
        if (epilogue != null) epilogue.rows(0, m);
        return true;
    }

    static void checkPacked(String op, int m, int n, int k, MemorySegment a, int lda, PackedB b, MemorySegment c,
                            int ldc) {
        if ((m | n | k) < 0) fail(op + ": sizes must be non-negative, got m=" + m + ", n=" + n + ", k=" + k);
        if (b == null) fail(op + ": packed B is null");
        if (b.k != k || b.n != n) {
            fail(op + ": packed B holds op(B) of " + b.k + " x " + b.n + " but the call needs k x n = " + k + " x " + n);
        }
        if (b.nr != PackedGemm.NR || b.kc != PackedGemm.KC) {
            fail(op + ": packed B was packed for panels of " + b.nr + " x " + b.kc + ", this kernel uses " + PackedGemm.NR
                    + " x " + PackedGemm.KC);
        }
        checkMatrix(op, "A", a, m, k, lda, 4);
        checkMatrix(op, "C", c, m, n, ldc, 4);
    }

    static void check(String op, int m, int n, int k, MemorySegment a, int lda, MemorySegment b, int ldb,
                              boolean transB, MemorySegment c, int ldc, int bytes) {
        if ((m | n | k) < 0) fail(op + ": sizes must be non-negative, got m=" + m + ", n=" + n + ", k=" + k);
        checkMatrix(op, "A", a, m, k, lda, bytes);
        if (transB) checkMatrix(op, "B", b, n, k, ldb, bytes);
        else checkMatrix(op, "B", b, k, n, ldb, bytes);
        checkMatrix(op, "C", c, m, n, ldc, bytes);
    }

    /** Cheap checks on the hot path; the message is only built on failure. */
    static void checkMatrix(String op, String name, MemorySegment seg, int rows, int cols, int ld, int bytes) {
        if (ld < Math.max(1, cols) || !seg.isNative()
                || rows > 0 && cols > 0 && ((rows - 1L) * ld + cols) * bytes > seg.byteSize()) {
            failMatrix(op, name, seg, rows, cols, ld, bytes);
        }
    }

    private static void failMatrix(String op, String name, MemorySegment seg, int rows, int cols, int ld, int bytes) {
        if (ld < Math.max(1, cols)) {
            fail(op + ": ld" + name.toLowerCase() + "=" + ld + " is smaller than the " + cols + " columns " + name
                    + " stores per row");
        }
        if (!seg.isNative()) fail(op + ": " + name + " must be an off-heap (native) MemorySegment");
        fail(op + ": " + name + " (" + rows + " x " + cols + ", ld " + ld + ") needs "
                + ((rows - 1L) * ld + cols) * bytes + " bytes but its segment has " + seg.byteSize());
    }

    private static void fail(String message) {
        throw new KilnException(message);
    }
}
