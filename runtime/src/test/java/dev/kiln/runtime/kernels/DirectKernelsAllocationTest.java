package dev.kiln.runtime.kernels;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.util.Random;

import static dev.kiln.runtime.Elements.F32;
import static dev.kiln.runtime.Elements.F64;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The direct kernels allocate nothing on the Java heap once compiled: after 20,000 warm-up calls, 1,000 more
 * calls must leave this thread's allocated-bytes counter ({@code com.sun.management.ThreadMXBean}) unchanged.
 * The assertion is exact (0 bytes). A JIT event in the window (an OSR compilation of the loop, a deoptimisation)
 * could allocate on its own, and behind a compile queue busy with earlier tests' methods (or on a loaded machine,
 * where the compiler threads get little time) a kernel can still be running its C1 code, where vectors are heap
 * objects; so each kernel gets measured windows for up to 15 seconds and the best one must be 0. A kernel that
 * allocates per call in its compiled steady state fails every window.
 */
class DirectKernelsAllocationTest {
    private static final int WARM = 20_000, MEASURED = 1_000;
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** A kernel call repeated {@code reps} times with fixed arguments. */
    private interface Loop {
        void run(int reps);
    }

    @Test
    void gemmPathsAllocateNothing() {
        try (Arena arena = Arena.ofShared()) {
            Random r = new Random(1);
            // k and n off the vector length so the scalar tails run too
            int k = 100, n = 37;
            MemorySegment a = random(arena, r, 33 * k), b = random(arena, r, n * k), c = arena.allocate(4L * 33 * n);
            MemorySegment ad = randomF64(arena, r, 8 * k), bd = randomF64(arena, r, n * k);
            MemorySegment cd = arena.allocate(8L * 8 * n);
            SmallGemm plain = new PlainSmallGemm();
            assertNoAllocation("sgemm m=1 B^T (vector)", reps -> {
                for (int i = 0; i < reps; i++) DirectGemm.sgemm(1, n, k, a, k, b, k, true, c, n);
            });
            assertNoAllocation("sgemm m=7 B (vector)", reps -> {
                for (int i = 0; i < reps; i++) DirectGemm.sgemm(7, n, k, a, k, b, n, false, c, n);
            });
            // the LeNet-5 convolution GEMMs at batch 1 and narrower ones: every register-blocked tile, masked tails too
            MemorySegment la = random(arena, r, 16 * 150), lb = random(arena, r, 150 * 100);
            MemorySegment lb2 = random(arena, r, 25 * 784), lc = arena.allocate(4L * 16 * 784);
            assertNoAllocation("sgemm LeNet conv GEMMs B (vector)", reps -> {
                for (int i = 0; i < reps; i++) {
                    DirectGemm.sgemm(16, 100, 150, la, 150, lb, 100, false, lc, 100);
                    DirectGemm.sgemm(6, 784, 25, la, 25, lb2, 784, false, lc, 784);
                    DirectGemm.sgemm(1, 100, 150, la, 150, lb, 100, false, lc, 100);
                    DirectGemm.sgemm(6, 20, 25, la, 25, lb2, 20, false, lc, 20);
                }
            });
            assertNoAllocation("sgemm m=33 B^T (packed, B packed per call)", reps -> {
                for (int i = 0; i < reps; i++) DirectGemm.sgemm(33, n, k, a, k, b, k, true, c, n);
            });
            assertNoAllocation("sgemm m=33 n=9 B^T (OpenBLAS, critical)", reps -> {
                for (int i = 0; i < reps; i++) DirectGemm.sgemm(33, 9, k, a, k, b, k, true, c, 9);
            });
            // prepacked B with an epilogue, m and n off the tile sizes; one thread's worth of work (no pool tasks)
            PackedB packed = PackedB.pack(b, k, n, k, true);
            RowEpilogue relu = (r0, r1) -> {
                for (long i = r0 * n; i < r1 * n; i++) c.setAtIndex(F32, i, Math.max(0f, c.getAtIndex(F32, i)));
            };
            assertNoAllocation("sgemm m=33 prepacked B with epilogue", reps -> {
                for (int i = 0; i < reps; i++) DirectGemm.sgemm(33, n, k, a, k, packed, c, n, relu);
            });
            assertNoAllocation("dgemm m=5 B^T and B (vector)", reps -> {
                for (int i = 0; i < reps; i++) {
                    DirectGemm.dgemm(5, n, k, ad, k, bd, k, true, cd, n);
                    DirectGemm.dgemm(3, n, k, ad, k, bd, n, false, cd, n);
                }
            });
            assertNoAllocation("plain sgemm/dgemm", reps -> {
                for (int i = 0; i < reps; i++) {
                    plain.sgemm(3, n, k, a, k, b, k, true, c, n);
                    plain.sgemm(2, n, k, a, k, b, n, false, c, n);
                    plain.dgemm(2, n, k, ad, k, bd, k, true, cd, n);
                    plain.dgemm(2, n, k, ad, k, bd, n, false, cd, n);
                }
            });
        }
    }

    @Test
    void convAndPoolAllocateNothing() {
        try (Arena arena = Arena.ofShared()) {
            Random r = new Random(2);
            // LeNet conv1 (pad 2) and a strided, dilated variant; LeNet pool and a padded 3x3 one
            MemorySegment x = random(arena, r, 6 * 14 * 14), col = arena.allocate(4L * 25 * 28 * 28);
            MemorySegment xd = randomF64(arena, r, 2 * 14 * 14), cold = arena.allocate(8L * 2 * 9 * 7 * 7);
            MemorySegment out = arena.allocate(4L * 6 * 14 * 14);
            assertNoAllocation("im2colF32", reps -> {
                for (int i = 0; i < reps; i++) {
                    DirectConv.im2colF32(x, 1, 28, 28, 5, 5, 1, 1, 2, 2, 1, 1, 28, 28, col);
                    DirectConv.im2colF32(x, 2, 14, 14, 3, 3, 2, 2, 1, 1, 2, 2, 6, 6, col);
                }
            });
            assertNoAllocation("im2colF64", reps -> {
                for (int i = 0; i < reps; i++) DirectConv.im2colF64(xd, 2, 14, 14, 3, 3, 2, 2, 1, 1, 1, 1, 7, 7, cold);
            });
            assertNoAllocation("maxPool2dF32", reps -> {
                for (int i = 0; i < reps; i++) {
                    DirectPool.maxPool2dF32(x, 6, 14, 14, 2, 2, 2, 2, 0, 0, 1, 1, 7, 7, out);
                    DirectPool.maxPool2dF32(x, 6, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 14, 14, out);
                }
            });
            // rows wide enough for whole vectors of outputs: ResNet's 3x3/s2/p1 and a stride-1 window
            MemorySegment wide = random(arena, r, 2 * 40 * 40), wideOut = arena.allocate(4L * 2 * 40 * 40);
            assertNoAllocation("maxPool2dF32 wide rows (vector)", reps -> {
                for (int i = 0; i < reps; i++) {
                    DirectPool.maxPool2dF32(wide, 2, 40, 40, 3, 3, 2, 2, 1, 1, 1, 1, 20, 20, wideOut);
                    DirectPool.maxPool2dF32(wide, 2, 40, 40, 3, 3, 1, 1, 1, 1, 1, 1, 40, 40, wideOut);
                }
            });
            // depthwise, one thread: the vector phase planes at strides 1 and 2 (a plane under one vector too), with a
            // channel shuffle and bias, and the per-row loop (a geometry the phase planes do not fit)
            MemorySegment dwWeight = random(arena, r, 4 * 9), dwBias = random(arena, r, 4), dwOut = arena.allocate(4L * 4 * 40 * 40);
            Depthwise.Geometry dwSame = new Depthwise.Geometry(2, 40, 40, 3, 3, 1, 1, 1, 1, 1, 1, 2, 40, 40, 2);
            Depthwise.Geometry dwStrided = new Depthwise.Geometry(2, 40, 40, 3, 3, 2, 2, 1, 1, 1, 1, 2, 20, 20, 1);
            Depthwise.Geometry dwTiny = new Depthwise.Geometry(4, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 3, 3, 1);
            Depthwise.Geometry dwRows = new Depthwise.Geometry(2, 40, 40, 3, 3, 1, 1, 0, 0, 1, 1, 2, 38, 38, 1);
            int threads = Parallel.threads();
            Parallel.setThreads(1);
            try {
                assertNoAllocation("Depthwise.f32", reps -> {
                    for (int i = 0; i < reps; i++) {
                        Depthwise.f32(dwSame, 1, wide, 2 * 40 * 40, dwWeight, dwBias, dwOut);
                        Depthwise.f32(dwStrided, 1, wide, 2 * 40 * 40, dwWeight, null, dwOut);
                        Depthwise.f32(dwTiny, 2, wide, 4 * 3 * 3 + 5, dwWeight, dwBias, dwOut);
                        Depthwise.f32(dwRows, 1, wide, 2 * 40 * 40, dwWeight, dwBias, dwOut);
                    }
                });
                if (Pointwise.available()) {
                    // pointwise with every epilogue, 49 pixels (a block and an overlapping one) and 40 (two overlapping)
                    Pointwise.Filters filters = Pointwise.Filters.pack(random(arena, r, 3 * 10 * 6), 3, 10, 6);
                    MemorySegment pwBias = random(arena, r, 30), pwOut = arena.allocate(4L * 2 * 30 * 49);
                    assertNoAllocation("Pointwise.f32", reps -> {
                        for (int i = 0; i < reps; i++) {
                            Pointwise.f32(filters, 2, 49, wide, 18 * 49 + 3, pwBias, pwOut, true, pwOut);
                            Pointwise.f32(filters, 1, 40, wide, 18 * 40, null, null, false, pwOut);
                        }
                    });
                }
            } finally {
                Parallel.setThreads(threads);
            }
            // packed convolutions, one thread: "same" 3x3 over two images (vector unfolding), strided 3x3, pointwise
            ConvPanels.Geometry same = new ConvPanels.Geometry(2, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 14, 14);
            ConvPanels.Geometry strided = new ConvPanels.Geometry(2, 14, 14, 3, 3, 2, 2, 1, 1, 1, 1, 7, 7);
            ConvPanels.Geometry pointwise = new ConvPanels.Geometry(2, 14, 14, 1, 1, 1, 1, 0, 0, 1, 1, 14, 14);
            MemorySegment filters = random(arena, r, 24 * 18), convOut = arena.allocate(4L * 24 * 14 * 14 * 2);
            PackedA packed3x3 = PackedA.pack(filters, 24, 18, 18), packed1x1 = PackedA.pack(filters, 24, 2, 2);
            int before = Parallel.threads();
            Parallel.setThreads(1);
            try {
                assertNoAllocation("DirectConv.packedF32", reps -> {
                    for (int i = 0; i < reps; i++) {
                        DirectConv.packedF32(packed3x3, same, 2, x, 2 * 14 * 14, convOut, 24 * 14 * 14, null, 0, 0);
                        DirectConv.packedF32(packed3x3, strided, 1, x, 0, convOut, 24 * 7 * 7, null, 0, 0);
                        DirectConv.packedF32(packed1x1, pointwise, 1, x, 0, convOut, 24 * 14 * 14, null, 0, 0);
                        DirectConv.packedF32(24, filters, same, 1, x, 0, convOut, 24 * 14 * 14, null, 0, 0);
                    }
                });
                // few filters, two images: LeNet's two convolutions, direct on the Vector API (the im2col + GEMM path
                // slices each image)
                ConvPanels.Geometry leNet1 = new ConvPanels.Geometry(1, 28, 28, 5, 5, 1, 1, 2, 2, 1, 1, 28, 28);
                ConvPanels.Geometry leNet2 = new ConvPanels.Geometry(6, 14, 14, 5, 5, 1, 1, 0, 0, 1, 1, 10, 10);
                if (DirectConv.convolvesDirectly(6, leNet1)) {
                    MemorySegment fewX = random(arena, r, 2 * 6 * 14 * 14), fewFilters = random(arena, r, 16 * 150),
                            fewOut = arena.allocate(4L * 2 * 6 * 28 * 28);
                    assertNoAllocation("DirectConv.im2colGemmF32 (direct)", reps -> {
                        for (int i = 0; i < reps; i++) {
                            DirectConv.im2colGemmF32(6, fewFilters, leNet1, 2, fewX, 28 * 28, fewOut, 6 * 28 * 28, null, 0, 0);
                            DirectConv.im2colGemmF32(16, fewFilters, leNet2, 2, fewX, 6 * 14 * 14, fewOut, 16 * 10 * 10, null, 0, 0);
                        }
                    });
                }
                // pixels as the GEMM's rows: 128 -> 32 channels at 7 x 7, one image and two (one group of 98 rows)
                ConvPanels.Geometry small = new ConvPanels.Geometry(128, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 7, 7);
                MemorySegment sx = random(arena, r, 2 * 128 * 49), sOut = arena.allocate(4L * 2 * 32 * 49);
                PackedA packedSmall = PackedA.pack(random(arena, r, 32 * 1152), 32, 1152, 1152);
                assertTrue(PackedGemm.byPixels(32, 49, 1152, 1) && PackedGemm.byPixels(32, 49, 1152, 2));
                assertNoAllocation("pixels-as-rows convolution", reps -> {
                    for (int i = 0; i < reps; i++) {
                        DirectConv.packedF32(packedSmall, small, 1, sx, 0, sOut, 32 * 49, null, 0, 0);
                        DirectConv.packedF32(packedSmall, small, 2, sx, 128 * 49, sOut, 32 * 49, null, 0, 0);
                    }
                });
                // Winograd F(2x2, 3x3): 48 channels in and out, 16 x 16 (72 tiles)
                ConvPanels.Geometry winograd = new ConvPanels.Geometry(48, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 16, 16);
                MemorySegment wx = random(arena, r, 48 * 16 * 16), wOut = arena.allocate(4L * 48 * 16 * 16);
                PackedA packedWinograd = PackedA.pack(random(arena, r, 48 * 432), 48, 432, 432);
                assertTrue(!VectorApi.enabled() || Winograd.applies(48, winograd));
                // and F(4x4, 3x3): 128 channels in and out, 28 x 28 (56 tiles)
                ConvPanels.Geometry winograd4 = new ConvPanels.Geometry(128, 28, 28, 3, 3, 1, 1, 1, 1, 1, 1, 28, 28);
                MemorySegment w4x = random(arena, r, 128 * 28 * 28), w4Out = arena.allocate(4L * 128 * 28 * 28);
                PackedA packedWinograd4 = PackedA.pack(random(arena, r, 128 * 1152), 128, 1152, 1152);
                assertTrue(!VectorApi.enabled() || DirectConv.winogradTile(128, winograd4) == 4);
                assertNoAllocation("Winograd convolution", reps -> {
                    for (int i = 0; i < reps; i++) {
                        DirectConv.packedF32(packedWinograd, winograd, 1, wx, 0, wOut, 48 * 256, null, 0, 0);
                        DirectConv.packedF32(packedWinograd4, winograd4, 1, w4x, 0, w4Out, 128 * 784, null, 0, 0);
                    }
                });
            } finally {
                Parallel.setThreads(before);
            }
            assertNoAllocation("avgPool2dF32", reps -> {
                for (int i = 0; i < reps; i++) {
                    DirectPool.avgPool2dF32(x, 6, 14, 14, 3, 3, 2, 2, 1, 1, 7, 7, true, out);
                    DirectPool.avgPool2dF32(x, 6, 14, 14, 2, 2, 2, 2, 0, 0, 7, 7, false, out);
                    DirectPool.avgPool2dF32(wide, 2, 40, 40, 3, 3, 2, 2, 1, 1, 20, 20, false, wideOut);
                    DirectPool.avgPool2dF32(wide, 2, 40, 40, 3, 3, 1, 1, 1, 1, 40, 40, true, wideOut);
                }
            });
        }
    }

    /** Starts a JVM without jdk.incubator.vector: DirectGemm must fall back to the plain kernels and still work. */
    @Test
    void directKernelsWorkWithoutTheVectorModule() throws IOException, InterruptedException {
        ChildJvm.Result child = ChildJvm.run(DirectKernelsPlainMain.class);
        assertEquals(0, child.exitCode(), child.output());
        assertEquals(DirectKernelsPlainMain.EXPECTED.replace("$VECTOR", "false"), child.output());
        ChildJvm.Result forced = ChildJvm.run(DirectKernelsPlainMain.class, "--add-modules=jdk.incubator.vector",
                "-Dkiln.vector=false");
        assertEquals(0, forced.exitCode(), forced.output());
        assertTrue(forced.output().endsWith(DirectKernelsPlainMain.EXPECTED.replace("$VECTOR", "false")),
                forced.output());
    }

    private static void assertNoAllocation(String what, Loop loop) {
        assertTrue(THREADS.isThreadAllocatedMemorySupported() && THREADS.isThreadAllocatedMemoryEnabled());
        loop.run(WARM);
        long best = Long.MAX_VALUE;
        long deadline = System.nanoTime() + 15_000_000_000L;
        for (int attempt = 0; best > 0 && (attempt < 3 || System.nanoTime() < deadline); attempt++) {
            long before = THREADS.getCurrentThreadAllocatedBytes();
            loop.run(MEASURED);
            long after = THREADS.getCurrentThreadAllocatedBytes();
            best = Math.min(best, after - before);
        }
        assertEquals(0, best, what + ": bytes allocated by " + MEASURED + " warm calls");
    }

    private static MemorySegment random(Arena arena, Random r, int n) {
        MemorySegment s = arena.allocate(4L * n);
        for (int i = 0; i < n; i++) s.setAtIndex(F32, i, r.nextFloat() * 2 - 1);
        return s;
    }

    private static MemorySegment randomF64(Arena arena, Random r, int n) {
        MemorySegment s = arena.allocate(8L * n);
        for (int i = 0; i < n; i++) s.setAtIndex(F64, i, r.nextDouble() * 2 - 1);
        return s;
    }
}
