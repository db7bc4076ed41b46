package dev.kiln.runtime.kernels;

import dev.kiln.runtime.NDArray;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import static dev.kiln.runtime.Elements.F32;
import static dev.kiln.runtime.Elements.F64;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link DirectGemm} (and each {@link SmallGemm} implementation directly) against {@link Gemm#linear} (B
 * transposed) and {@link Gemm#matmul} (B as is) on the same data. Both sides err by at most about
 * {@code k * eps * sum_p |a_ip * b_pj|} (eps = 2^-24 for f32, 2^-53 for f64), so the tolerance is twice that,
 * doubled again for headroom: {@code 4 * k * eps * sum_p |a_ip b_pj|}. Leading dimensions are padded and the
 * segments sized exactly, so an overrun fails and the padding of C must stay untouched.
 */
class DirectGemmPropertyTest {
    private static final float SENTINEL = 12345f;

    @Provide
    Arbitrary<Integer> rows() {
        // around the vector kernels' 4/2/1-row tiles, and past SMALL_M to reach the packed kernel or OpenBLAS
        return Arbitraries.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 17, 33);
    }

    @Provide
    Arbitrary<Integer> dims() {
        // below, at and off multiples of the vector length (8 or 16 floats, 4 or 8 doubles)
        return Arbitraries.of(1, 2, 3, 5, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100);
    }

    @Property(tries = 200)
    void sgemmAgreesWithLinearAndMatmul(@ForAll("rows") int m, @ForAll("dims") int n, @ForAll("dims") int k,
                                        @ForAll boolean transB, @ForAll @IntRange(max = 3) int padA,
                                        @ForAll @IntRange(max = 3) int padB, @ForAll @IntRange(max = 3) int padC,
                                        @ForAll long seed) {
        Random r = new Random(seed);
        float[] av = randomFloats(r, m * k), bv = randomFloats(r, n * k);
        NDArray a = NDArray.of(av, m, k);
        NDArray ref = transB ? Gemm.linear(a, NDArray.of(bv, n, k), null) : Gemm.matmul(a, NDArray.of(bv, k, n));
        double[] expected = ref.toDoubleArray();
        double[] tol = tolerance(av, bv, m, n, k, transB, 0x1p-24);
        int lda = k + padA, ldb = (transB ? k : n) + padB, ldc = n + padC;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment as = matrixF32(arena, av, m, k, lda);
            MemorySegment bs = transB ? matrixF32(arena, bv, n, k, ldb) : matrixF32(arena, bv, k, n, ldb);
            for (String impl : new String[] {"DirectGemm", "vector", "plain"}) {
                MemorySegment cs = matrixF32(arena, null, m, n, ldc);
                switch (impl) {
                    case "DirectGemm" -> DirectGemm.sgemm(m, n, k, as, lda, bs, ldb, transB, cs, ldc);
                    case "vector" -> SmallGemm.best().sgemm(m, n, k, as, lda, bs, ldb, transB, cs, ldc);
                    default -> new PlainSmallGemm().sgemm(m, n, k, as, lda, bs, ldb, transB, cs, ldc);
                }
                String what = impl + " sgemm m=" + m + " n=" + n + " k=" + k + " transB=" + transB;
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < ldc && (long) i * ldc + j < cs.byteSize() / 4; j++) {
                        float got = cs.getAtIndex(F32, (long) i * ldc + j);
                        if (j >= n) {
                            assertEquals(SENTINEL, got, what + ": padding of C at " + i + "," + j + " changed");
                            continue;
                        }
                        double e = expected[i * n + j];
                        assertTrue(Math.abs(got - e) <= tol[i * n + j], what + ": C[" + i + "," + j + "] = " + got
                                + ", Gemm gives " + e + " (tolerance " + tol[i * n + j] + ")");
                    }
                }
            }
        }
    }

    @Property(tries = 100)
    void dgemmAgreesWithLinearAndMatmul(@ForAll("rows") int m, @ForAll("dims") int n, @ForAll("dims") int k,
                                        @ForAll boolean transB, @ForAll @IntRange(max = 3) int pad,
                                        @ForAll long seed) {
        Random r = new Random(seed);
        double[] av = randomDoubles(r, m * k), bv = randomDoubles(r, n * k);
        NDArray a = NDArray.of(av, m, k);
        NDArray ref = transB ? Gemm.linear(a, NDArray.of(bv, n, k), null) : Gemm.matmul(a, NDArray.of(bv, k, n));
        double[] expected = ref.toDoubleArray();
        double[] tol = toleranceD(av, bv, m, n, k, transB, 0x1p-53);
        int lda = k + pad, ldb = (transB ? k : n) + pad, ldc = n + pad;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment as = matrixF64(arena, av, m, k, lda);
            MemorySegment bs = transB ? matrixF64(arena, bv, n, k, ldb) : matrixF64(arena, bv, k, n, ldb);
            for (String impl : new String[] {"DirectGemm", "vector", "plain"}) {
                MemorySegment cs = matrixF64(arena, null, m, n, ldc);
                switch (impl) {
                    case "DirectGemm" -> DirectGemm.dgemm(m, n, k, as, lda, bs, ldb, transB, cs, ldc);
                    case "vector" -> SmallGemm.best().dgemm(m, n, k, as, lda, bs, ldb, transB, cs, ldc);
                    default -> new PlainSmallGemm().dgemm(m, n, k, as, lda, bs, ldb, transB, cs, ldc);
                }
                String what = impl + " dgemm m=" + m + " n=" + n + " k=" + k + " transB=" + transB;
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < ldc && (long) i * ldc + j < cs.byteSize() / 8; j++) {
                        double got = cs.getAtIndex(F64, (long) i * ldc + j);
                        if (j >= n) {
                            assertEquals(SENTINEL, got, what + ": padding of C at " + i + "," + j + " changed");
                            continue;
                        }
                        double e = expected[i * n + j];
                        assertTrue(Math.abs(got - e) <= tol[i * n + j], what + ": C[" + i + "," + j + "] = " + got
                                + ", Gemm gives " + e + " (tolerance " + tol[i * n + j] + ")");
                    }
                }
            }
        }
    }

    /** Past {@link DirectGemm#CRITICAL_MAX_MACS} OpenBLAS is called through the ordinary (non-critical) downcall. */
    @Example
    void largeProductsTakeTheOrdinaryDowncallAndAgree() {
        // n below half a packed panel: one of the shapes DirectGemm leaves to OpenBLAS
        int m = 64, n = 15, k = 17500;
        assertTrue((long) m * n * k > DirectGemm.CRITICAL_MAX_MACS);
        assertEquals(DirectGemm.Kernel.OPENBLAS, DirectGemm.kernelFor(m, n, k, true));
        Random r = new Random(5);
        float[] av = randomFloats(r, m * k), bv = randomFloats(r, n * k);
        double[] expected = Gemm.linear(NDArray.of(av, m, k), NDArray.of(bv, n, k), null).toDoubleArray();
        double[] tol = tolerance(av, bv, m, n, k, true, 0x1p-24);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = matrixF32(arena, av, m, k, k), b = matrixF32(arena, bv, n, k, k);
            MemorySegment c = matrixF32(arena, null, m, n, n);
            DirectGemm.sgemm(m, n, k, a, k, b, k, true, c, n);
            for (int i = 0; i < m * n; i++) {
                assertTrue(Math.abs(c.getAtIndex(F32, i) - expected[i]) <= tol[i], "element " + i);
            }
        }
    }

    @Example
    void emptyInnerDimensionZeroesCAndEmptyOutputsAreNoOps() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = arena.allocate(4L * 16), b = arena.allocate(4L * 16), c = arena.allocate(4L * 6);
            for (int i = 0; i < 6; i++) c.setAtIndex(F32, i, 7f);
            DirectGemm.sgemm(2, 3, 0, a, 1, b, 1, true, c, 3);
            for (int i = 0; i < 6; i++) assertEquals(0f, c.getAtIndex(F32, i));
            for (int i = 0; i < 6; i++) c.setAtIndex(F32, i, 7f);
            DirectGemm.sgemm(0, 3, 4, a, 4, b, 4, true, c, 3);
            DirectGemm.sgemm(2, 0, 4, a, 4, b, 4, false, c, 1);
            for (int i = 0; i < 6; i++) assertEquals(7f, c.getAtIndex(F32, i));
            MemorySegment d = arena.allocate(8L * 4);
            for (int i = 0; i < 4; i++) d.setAtIndex(F64, i, 7.0);
            DirectGemm.dgemm(2, 2, 0, a, 1, b, 2, false, d, 2);
            for (int i = 0; i < 4; i++) assertEquals(0.0, d.getAtIndex(F64, i));
        }
    }

    @Example
    void badArgumentsAreRejectedBeforeAnyAccess() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = arena.allocate(4L * 6), b = arena.allocate(4L * 6), c = arena.allocate(4L * 4);
            assertThrows(IllegalArgumentException.class, () -> DirectGemm.sgemm(-1, 2, 3, a, 3, b, 3, true, c, 2));
            assertThrows(IllegalArgumentException.class, () -> DirectGemm.sgemm(2, 2, 3, a, 2, b, 3, true, c, 2));
            assertThrows(IllegalArgumentException.class, () -> DirectGemm.sgemm(2, 2, 3, a, 3, b, 3, true, c, 1));
            // B [k, n] = [3, 2] needs ldb >= 2; [n, k] = [2, 3] would need 3
            assertThrows(IllegalArgumentException.class, () -> DirectGemm.sgemm(2, 2, 3, a, 3, b, 2, true, c, 2));
            DirectGemm.sgemm(2, 2, 3, a, 3, b, 2, false, c, 2);
            // too short: A 2x3 with lda 4 needs 7 elements
            assertThrows(IllegalArgumentException.class, () -> DirectGemm.sgemm(2, 2, 3, a, 4, b, 3, true, c, 2));
            MemorySegment heap = MemorySegment.ofArray(new float[6]);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> DirectGemm.sgemm(2, 2, 3, heap, 3, b, 3, true, c, 2));
            assertTrue(e.getMessage().contains("native"), e.getMessage());
            assertThrows(IllegalArgumentException.class,
                    () -> DirectGemm.dgemm(2, 2, 3, a, 3, b, 3, true, c, 2), "f64 needs twice the bytes");
        }
    }

    @Example
    void testsRunTheVectorKernels() {
        assertTrue(DirectGemm.usesVectorApi(), "surefire runs with --add-modules=jdk.incubator.vector");
        assertEquals(16, DirectGemm.SMALL_M);
    }

    static float[] randomFloats(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = r.nextFloat() * 2 - 1;
        return v;
    }

    private static double[] randomDoubles(Random r, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = r.nextDouble() * 2 - 1;
        return v;
    }

    /** {@code 4 k eps sum_p |a_ip b_pj|} per output, plus a tiny absolute floor. */
    private static double[] tolerance(float[] a, float[] b, int m, int n, int k, boolean transB, double eps) {
        double[] ad = new double[a.length], bd = new double[b.length];
        for (int i = 0; i < a.length; i++) ad[i] = a[i];
        for (int i = 0; i < b.length; i++) bd[i] = b[i];
        return toleranceD(ad, bd, m, n, k, transB, eps);
    }

    private static double[] toleranceD(double[] a, double[] b, int m, int n, int k, boolean transB, double eps) {
        double[] t = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) s += Math.abs(a[i * k + p] * (transB ? b[j * k + p] : b[p * n + j]));
                t[i * n + j] = 4 * k * eps * s + 1e-30;
            }
        }
        return t;
    }

    /** A rows x cols matrix with leading dimension ld in a segment of exactly the needed size; padding = SENTINEL. */
    static MemorySegment matrixF32(Arena arena, float[] values, int rows, int cols, int ld) {
        long size = (rows - 1L) * ld + cols;
        MemorySegment s = arena.allocate(4 * Math.max(1, size));
        for (long i = 0; i < size; i++) s.setAtIndex(F32, i, SENTINEL);
        if (values != null) {
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) s.setAtIndex(F32, (long) i * ld + j, values[i * cols + j]);
            }
        }
        return s;
    }

    private static MemorySegment matrixF64(Arena arena, double[] values, int rows, int cols, int ld) {
        long size = (rows - 1L) * ld + cols;
        MemorySegment s = arena.allocate(8 * Math.max(1, size));
        for (long i = 0; i < size; i++) s.setAtIndex(F64, i, SENTINEL);
        if (values != null) {
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) s.setAtIndex(F64, (long) i * ld + j, values[i * cols + j]);
            }
        }
        return s;
    }
}
