package dev.kiln.runtime.kernels;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static dev.kiln.runtime.Elements.F32;
import static dev.kiln.runtime.kernels.DirectGemmPropertyTest.matrixF32;
import static dev.kiln.runtime.kernels.DirectGemmPropertyTest.randomFloats;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packed GEMM ({@link PackedGemm}, {@link PackedB}, {@link DirectGemm}'s entries with a {@link RowEpilogue})
 * against a reference that accumulates in f64, on random shapes from 1 to a few hundred (odd sizes, tails of the
 * MR x NR tiles and of the KC blocks), leading dimensions larger than needed, B transposed or not, and 1 or 2
 * threads. Tolerance per output: {@code 4 k 2^-24 sum_p |a_ip b_pj|} (twice the f32 summation bound, doubled),
 * and twice that after the test epilogue {@code x -> 2x + 1}. Segments are sized exactly and padding holds a
 * sentinel, so an overrun fails. The epilogue must see every row exactly once, with its final GEMM values.
 */
class PackedGemmPropertyTest {
    private static final float SENTINEL = 12345f;

    @Provide
    Arbitrary<Integer> dims() {
        return Arbitraries.oneOf(Arbitraries.integers().between(1, 70), Arbitraries.integers().between(1, 300),
                Arbitraries.of(6, 7, 31, 32, 33, 255, 256, 257));
    }

    @Property(tries = 80)
    void packedPathsAgreeWithF64Reference(@ForAll("dims") int m, @ForAll("dims") int n, @ForAll("dims") int k,
                                          @ForAll boolean transB, @ForAll @IntRange(max = 5) int padA,
                                          @ForAll @IntRange(max = 5) int padB, @ForAll @IntRange(max = 5) int padC,
                                          @ForAll @IntRange(min = 1, max = 2) int threads, @ForAll long seed) {
        Random r = new Random(seed);
        float[] av = randomFloats(r, m * k), bv = randomFloats(r, n * k);
        double[][] ref = reference(av, bv, m, n, k, transB);
        int lda = k + padA, ldb = (transB ? k : n) + padB, ldc = n + padC;
        int before = Parallel.threads();
        Parallel.setThreads(threads);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment a = matrixF32(arena, av, m, k, lda);
            MemorySegment b = transB ? matrixF32(arena, bv, n, k, ldb) : matrixF32(arena, bv, k, n, ldb);
            PackedB packed = PackedB.pack(b, k, n, ldb, transB);
            String shape = "m=" + m + " n=" + n + " k=" + k + " transB=" + transB + " threads=" + threads;
            for (String path : new String[] {"DirectGemm", "PackedGemm", "PackedB"}) {
                MemorySegment c = matrixF32(arena, null, m, n, ldc);
                Doubling epilogue = new Doubling(c, ldc, m, n, ref);
                switch (path) {
                    case "DirectGemm" -> DirectGemm.sgemm(m, n, k, a, lda, b, ldb, transB, c, ldc, epilogue);
                    case "PackedGemm" -> PackedGemm.sgemm(m, n, k, a, lda, b, ldb, transB, c, ldc, epilogue);
                    default -> DirectGemm.sgemm(m, n, k, a, lda, packed, c, ldc, epilogue);
                }
                String what = path + " " + shape;
                epilogue.assertCoveredOnce(what);
                assertMatches(c, ldc, m, n, ref, 2, 1, what);
            }
            // without an epilogue, C holds the product itself
            MemorySegment c = matrixF32(arena, null, m, n, ldc);
            DirectGemm.sgemm(m, n, k, a, lda, packed, c, ldc, null);
            assertMatches(c, ldc, m, n, ref, 1, 0, "PackedB without epilogue " + shape);
        } finally {
            Parallel.setThreads(before);
        }
    }

    /**
     * Infinities and NaN in A or B reach exactly the outputs whose sums hold them, on every path (the kernel
     * {@link DirectGemm} picks for the shape, the packed kernel, B packed ahead of time): zeros that pad a panel or
     * an edge tile are never multiplied into a real output, where {@code 0 * inf} would be NaN. A real
     * {@code 0 * inf} in the math is NaN in the f64 reference and must be in the kernels too.
     */
    @Property(tries = 30)
    void nonFiniteEntriesReachOnlyTheOutputsTheyArePartOf(@ForAll("dims") int m, @ForAll("dims") int n, @ForAll("dims") int k,
                                                         @ForAll boolean transB, @ForAll boolean inA, @ForAll long seed) {
        Random r = new Random(seed);
        float[] av = randomFloats(r, m * k), bv = randomFloats(r, n * k);
        float[] target = inA ? av : bv;
        float[] specials = {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN};
        for (int i = 0, count = 1 + r.nextInt(3); i < count; i++) target[r.nextInt(target.length)] = specials[r.nextInt(3)];
        double[] ref = reference(av, bv, m, n, k, transB)[0];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = matrixF32(arena, av, m, k, k);
            MemorySegment b = transB ? matrixF32(arena, bv, n, k, k) : matrixF32(arena, bv, k, n, n);
            PackedB packed = PackedB.pack(b, k, n, transB ? k : n, transB);
            for (String path : new String[] {"DirectGemm", "PackedGemm", "PackedB"}) {
                MemorySegment c = matrixF32(arena, null, m, n, n);
                switch (path) {
                    case "DirectGemm" -> DirectGemm.sgemm(m, n, k, a, k, b, transB ? k : n, transB, c, n, null);
                    case "PackedGemm" -> PackedGemm.sgemm(m, n, k, a, k, b, transB ? k : n, transB, c, n, null);
                    default -> DirectGemm.sgemm(m, n, k, a, k, packed, c, n, null);
                }
                for (int i = 0; i < m * n; i++) {
                    double want = ref[i];
                    float got = c.getAtIndex(F32, i);
                    String what = path + " m=" + m + " n=" + n + " k=" + k + " transB=" + transB + ": C[" + i / n + "," + i % n
                            + "] = " + got + ", expected " + want;
                    if (Double.isNaN(want)) assertTrue(Float.isNaN(got), what);
                    else if (Double.isInfinite(want)) assertEquals((float) want, got, what);
                    else assertTrue(Float.isFinite(got), what);
                }
            }
        }
    }

    /** Large enough to split over two threads: the row blocks' epilogues run where they were computed, each row once. */
    @Example
    void epilogueRunsPerRowBlockOnPoolThreads() {
        int m = 403, n = 97, k = 301, before = Parallel.threads();
        assertTrue((long) m * n * k >= PackedGemm.PARALLEL_MACS);
        Random r = new Random(3);
        float[] av = randomFloats(r, m * k), bv = randomFloats(r, n * k);
        double[][] ref = reference(av, bv, m, n, k, true);
        Parallel.setThreads(2);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment a = matrixF32(arena, av, m, k, k), b = matrixF32(arena, bv, n, k, k);
            MemorySegment c = matrixF32(arena, null, m, n, n);
            Doubling epilogue = new Doubling(c, n, m, n, ref);
            DirectGemm.sgemm(m, n, k, a, k, PackedB.pack(b, k, n, k, true), c, n, epilogue);
            epilogue.assertCoveredOnce("2 threads");
            assertMatches(c, n, m, n, ref, 2, 1, "2 threads");
            assertTrue(epilogue.blocks.size() > 1, "rows split into blocks: " + epilogue.blocks.size());
            // the caller shares the row blocks with the pool's worker (which takes none while it is not scheduled)
            assertTrue(epilogue.threads.stream().allMatch(t -> t.equals(Thread.currentThread().getName()) || t.startsWith("kiln-worker-")),
                    "epilogues ran on the caller and Kiln's workers only: " + epilogue.threads);
        } finally {
            Parallel.setThreads(before);
        }
        // segments confined to this thread: the same call stays on it (no WrongThreadException from the pool)
        Parallel.setThreads(2);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = matrixF32(arena, av, m, k, k), b = matrixF32(arena, bv, n, k, k);
            MemorySegment c = matrixF32(arena, null, m, n, n);
            Doubling epilogue = new Doubling(c, n, m, n, ref);
            DirectGemm.sgemm(m, n, k, a, k, b, k, true, c, n, epilogue);
            epilogue.assertCoveredOnce("confined, 2 threads");
            assertMatches(c, n, m, n, ref, 2, 1, "confined, 2 threads");
            assertEquals(Set.of(Thread.currentThread().getName()), epilogue.threads);
        } finally {
            Parallel.setThreads(before);
        }
    }

    @Example
    void emptyInnerDimensionWritesZerosAndStillRunsTheEpilogue() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = arena.allocate(16), b = arena.allocate(16), c = arena.allocate(4L * 6);
            for (int i = 0; i < 6; i++) c.setAtIndex(F32, i, 7f);
            AtomicIntegerArray seen = new AtomicIntegerArray(2);
            DirectGemm.sgemm(2, 3, 0, a, 1, PackedB.pack(b, 0, 3, 1, true), c, 3, (r0, r1) -> {
                for (long i = r0; i < r1; i++) seen.incrementAndGet((int) i);
            });
            for (int i = 0; i < 6; i++) assertEquals(0f, c.getAtIndex(F32, i));
            assertEquals("[1, 1]", seen.toString());
        }
    }

    @Example
    void mismatchedOrBadArgumentsAreRejectedWithTheirSizes() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = arena.allocate(4L * 12), b = arena.allocate(4L * 12), c = arena.allocate(4L * 12);
            PackedB packed = PackedB.pack(b, 4, 3, 4, true);
            assertEquals(4, packed.k());
            assertEquals(3, packed.n());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> DirectGemm.sgemm(2, 3, 5, a, 5, packed, c, 3, null));
            assertTrue(e.getMessage().contains("4 x 3") && e.getMessage().contains("5 x 3"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> DirectGemm.sgemm(2, 3, 4, a, 3, packed, c, 3, null));
            assertTrue(e.getMessage().contains("lda=3"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> PackedB.pack(b, 4, 4, 4, true));
            assertTrue(e.getMessage().contains("needs 64 bytes"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> PackedB.pack(b, -1, 4, 4, true));
            assertTrue(e.getMessage().contains("k=-1"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> DirectGemm.sgemm(2, 3, 4, a, 4, (PackedB) null, c, 3, null));
            assertTrue(e.getMessage().contains("null"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> PackedGemm.sgemm(2, 3, 4, a, 4, b, 4, true, MemorySegment.ofArray(new float[6]), 3, null));
            assertTrue(e.getMessage().contains("native"), e.getMessage());
        }
    }

    @Example
    void dispatchFollowsTheMeasuredRanges() {
        assertEquals(DirectGemm.Kernel.SMALL_M, DirectGemm.kernelFor(1, 512, 784, true));
        assertEquals(DirectGemm.Kernel.SMALL_M, DirectGemm.kernelFor(32, 512, 784, true));
        assertEquals(DirectGemm.Kernel.PACKED, DirectGemm.kernelFor(128, 768, 256, true));
        assertEquals(DirectGemm.Kernel.PACKED, DirectGemm.kernelFor(64, 12544, 147, false));
        assertEquals(DirectGemm.Kernel.OPENBLAS, DirectGemm.kernelFor(32, 10, 512, true));
    }

    /** Epilogue {@code x -> 2x + 1} that first checks the rows it gets are final and counts each row. */
    private static final class Doubling implements RowEpilogue {
        final MemorySegment c;
        final int ldc, n;
        final double[][] ref;
        final AtomicIntegerArray seen;
        final List<String> problems = Collections.synchronizedList(new java.util.ArrayList<>());
        final ConcurrentLinkedQueue<long[]> blocks = new ConcurrentLinkedQueue<>();
        final Set<String> threads = ConcurrentHashMap.newKeySet();

        Doubling(MemorySegment c, int ldc, int m, int n, double[][] ref) {
            this.c = c;
            this.ldc = ldc;
            this.n = n;
            this.ref = ref;
            this.seen = new AtomicIntegerArray(m);
        }

        @Override
        public void rows(long r0, long r1) {
            blocks.add(new long[] {r0, r1});
            threads.add(Thread.currentThread().getName());
            for (long i = r0; i < r1; i++) {
                seen.incrementAndGet((int) i);
                for (int j = 0; j < n; j++) {
                    long at = i * ldc + j;
                    float v = c.getAtIndex(F32, at);
                    double e = ref[0][(int) i * n + j], tol = ref[1][(int) i * n + j];
                    if (!(Math.abs(v - e) <= tol) && problems.size() < 5) {
                        problems.add("row " + i + " col " + j + " not final when its epilogue ran: " + v + " vs " + e);
                    }
                    c.setAtIndex(F32, at, 2 * v + 1);
                }
            }
        }

        void assertCoveredOnce(String what) {
            assertTrue(problems.isEmpty(), what + ": " + problems);
            for (int i = 0; i < seen.length(); i++) {
                assertEquals(1, seen.get(i), what + ": epilogue calls covering row " + i);
            }
        }
    }

    /** {@code {expected, tolerance}}: the product accumulated in f64 and {@code 4 k 2^-24 sum |a b|} per element. */
    static double[][] reference(float[] a, float[] b, int m, int n, int k, boolean transB) {
        double[] e = new double[m * n], t = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0, abs = 0;
                for (int p = 0; p < k; p++) {
                    double x = (double) a[i * k + p] * (transB ? b[j * k + p] : b[p * n + j]);
                    s += x;
                    abs += Math.abs(x);
                }
                e[i * n + j] = s;
                t[i * n + j] = 4 * k * 0x1p-24 * abs + 1e-30;
            }
        }
        return new double[][] {e, t};
    }

    /** C (ld ldc) equals {@code scale * ref + shift} within {@code scale} tolerances; padding keeps the sentinel. */
    private static void assertMatches(MemorySegment c, int ldc, int m, int n, double[][] ref, double scale,
                                      double shift, String what) {
        long elements = c.byteSize() / 4;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < ldc && (long) i * ldc + j < elements; j++) {
                float got = c.getAtIndex(F32, (long) i * ldc + j);
                if (j >= n) {
                    assertEquals(SENTINEL, got, what + ": padding of C at " + i + "," + j + " changed");
                    continue;
                }
                double e = scale * ref[0][i * n + j] + shift, tol = scale * ref[1][i * n + j] + 1e-6;
                assertTrue(Math.abs(got - e) <= tol, what + ": C[" + i + "," + j + "] = " + got + ", expected " + e
                        + " (tolerance " + tol + ")");
            }
        }
    }
}
