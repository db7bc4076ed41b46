package dev.kiln.runtime.kernels;

import net.jqwik.api.Assume;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static dev.kiln.runtime.Elements.F32;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link DirectConv#im2colGemmF32}, by im2col + GEMM and by the direct kernel ({@link F32DirectConv}), against a
 * convolution summed in double: every output within {@code 2 k eps32 sum|w x|} (the bound of k rounded f32
 * multiply-adds), the gaps between images untouched, every epilogue row seen once; with 1 and 2 threads, odd sizes,
 * padding past the kernel, dilation, fewer filters than a register tile and outputs narrower than a vector; and the
 * fused convolution, bias, relu and 2x2 max pool against those steps one after another.
 */
class DirectConvolutionPropertyTest {

    @Property(tries = 200)
    void directAndIm2colMatchDoubleReference(@ForAll @IntRange(min = 1, max = 20) int m,
                                             @ForAll @IntRange(min = 1, max = 5) int c,
                                             @ForAll @IntRange(min = 1, max = 23) int h, @ForAll @IntRange(min = 1, max = 23) int w,
                                             @ForAll @IntRange(min = 1, max = 5) int kh, @ForAll @IntRange(min = 1, max = 5) int kw,
                                             @ForAll @IntRange(max = 3) int ph, @ForAll @IntRange(max = 3) int pw,
                                             @ForAll @IntRange(min = 1, max = 2) int dh, @ForAll @IntRange(min = 1, max = 2) int dw,
                                             @ForAll @IntRange(min = 1, max = 3) int images,
                                             @ForAll @IntRange(min = 1, max = 2) int threads, @ForAll long seed) {
        Assume.that(h + 2 * ph >= dh * (kh - 1) + 1 && w + 2 * pw >= dw * (kw - 1) + 1);
        ConvPanels.Geometry g = geometry(c, h, w, kh, kw, 1, ph, pw, dh, dw);
        assertMatchesReference(m, g, images, threads, false, seed);
        if (F32DirectConv.VECTOR != null) assertMatchesReference(m, g, images, threads, true, seed);
    }

    @Property(tries = 60)
    void stridedConvolutionsTakeIm2col(@ForAll @IntRange(min = 1, max = 12) int m, @ForAll @IntRange(min = 1, max = 3) int c,
                                       @ForAll @IntRange(min = 3, max = 20) int size, @ForAll @IntRange(min = 2, max = 3) int stride,
                                       @ForAll @IntRange(max = 1) int pad, @ForAll long seed) {
        ConvPanels.Geometry g = geometry(c, size, size, 3, 3, stride, pad, pad, 1, 1);
        assertFalse(DirectConv.convolvesDirectly(m, g));
        assertMatchesReference(m, g, 2, 1, false, seed);
    }

    @Example
    void leNetConvolutionsAreDirect() {
        Assume.that(F32DirectConv.VECTOR != null);
        ConvPanels.Geometry conv1 = geometry(1, 28, 28, 5, 5, 1, 2, 2, 1, 1), conv2 = geometry(6, 14, 14, 5, 5, 1, 0, 0, 1, 1);
        assertTrue(DirectConv.convolvesDirectly(6, conv1));
        assertTrue(DirectConv.convolvesDirectly(16, conv2));
        // one filter leaves most of a 6-filter tile idle: im2col + GEMM
        assertFalse(DirectConv.convolvesDirectly(1, conv2));
        for (int threads = 1; threads <= 2; threads++) {
            assertMatchesReference(6, conv1, 5, threads, true, threads);
            assertMatchesReference(16, conv2, 5, threads, true, 10 + threads);
        }
    }

    @Example
    void directKernelRefusesWhatItCannotTake() {
        ConvPanels.Geometry strided = geometry(2, 9, 9, 3, 3, 2, 1, 1, 1, 1);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment x = arena.allocate(strided.imageBytes()), filters = arena.allocate(4L * 4 * strided.k()),
                    out = arena.allocate(4L * 4 * strided.n());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DirectConv.im2colGemmF32(4, filters,
                    strided, 1, x, strided.imageBytes() / 4, out, 4L * strided.n(), null, 0, 0, true));
            assertTrue(e.getMessage().contains("stride 1"), e.getMessage());
        }
    }

    /**
     * The fused convolution + bias + relu + 2x2 pool equals, bit for bit, the direct convolution followed by
     * {@code max(x + bias, 0)} and {@link DirectPool#maxPool2dF32} (NaN where that has NaN); the gaps between output
     * images stay untouched.
     */
    @Property(tries = 150)
    void fusedPoolEqualsConvolutionThenReluThenPool(@ForAll @IntRange(min = 1, max = 20) int m,
                                                    @ForAll @IntRange(min = 1, max = 4) int c,
                                                    @ForAll @IntRange(min = 2, max = 23) int h, @ForAll @IntRange(min = 2, max = 23) int w,
                                                    @ForAll @IntRange(min = 1, max = 5) int kernel, @ForAll @IntRange(max = 2) int pad,
                                                    @ForAll @IntRange(min = 1, max = 3) int images, @ForAll boolean withBias,
                                                    @ForAll @IntRange(min = 1, max = 2) int threads, @ForAll boolean nan,
                                                    @ForAll long seed) {
        Assume.that(h + 2 * pad >= kernel + 1 && w + 2 * pad >= kernel + 1);
        ConvPanels.Geometry g = geometry(c, h, w, kernel, kernel, 1, pad, pad, 1, 1);
        Assume.that(g.oh() >= 2 && g.ow() >= 2 && DirectConv.poolsDirectly(m, g));
        assertFusedPoolEqualsUnfused(m, g, images, withBias, threads, nan, seed);
    }

    @Example
    void leNetConvolutionsFuseTheirPools() {
        Assume.that(F32DirectConv.VECTOR != null);
        ConvPanels.Geometry conv1 = geometry(1, 28, 28, 5, 5, 1, 2, 2, 1, 1), conv2 = geometry(6, 14, 14, 5, 5, 1, 0, 0, 1, 1);
        assertTrue(DirectConv.poolsDirectly(6, conv1) && DirectConv.poolsDirectly(16, conv2));
        for (int threads = 1; threads <= 2; threads++) {
            assertFusedPoolEqualsUnfused(6, conv1, 7, true, threads, false, threads);
            assertFusedPoolEqualsUnfused(16, conv2, 7, true, threads, threads == 2, 10 + threads);
        }
        ConvPanels.Geometry strided = geometry(2, 9, 9, 3, 3, 2, 1, 1, 1, 1);
        assertFalse(DirectConv.poolsDirectly(6, strided));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment x = arena.allocate(strided.imageBytes()), filters = arena.allocate(4L * 6 * strided.k()),
                    out = arena.allocate(4L * 6 * strided.n());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DirectConv.convPoolReluF32(6, filters,
                    null, strided, 1, x, strided.imageBytes() / 4, out, 6 * 4 * 4));
            assertTrue(e.getMessage().contains("stride 1"), e.getMessage());
            ConvPanels.Geometry leNet2 = geometry(6, 14, 14, 5, 5, 1, 0, 0, 1, 1);
            MemorySegment small = arena.allocate(leNet2.imageBytes()), f16 = arena.allocate(4L * 16 * leNet2.k()),
                    pooled = arena.allocate(4L * 16 * 25), shortBias = arena.allocate(4L * 15);
            e = assertThrows(IllegalArgumentException.class, () -> DirectConv.convPoolReluF32(16, f16, shortBias, leNet2, 1,
                    small, leNet2.imageBytes() / 4, pooled, 16 * 25));
            assertTrue(e.getMessage().contains("bias"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> DirectConv.convPoolReluF32(16, f16, null, leNet2, 1,
                    small, leNet2.imageBytes() / 4, pooled.asSlice(4), 16 * 25));
            assertTrue(e.getMessage().contains("output"), e.getMessage());
        }
    }

    private static void assertFusedPoolEqualsUnfused(int m, ConvPanels.Geometry g, int images, boolean withBias, int threads,
                                                     boolean nan, long seed) {
        int poh = g.oh() / 2, pow = g.ow() / 2, n = g.n();
        long imageStride = g.imageBytes() / 4 + 3, pooledStride = (long) m * poh * pow + 5;
        Random r = new Random(seed);
        int before = Parallel.threads();
        Parallel.setThreads(threads);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment x = arena.allocate(4 * (images - 1) * imageStride + g.imageBytes());
            for (long i = 0; i < x.byteSize() / 4; i++) x.setAtIndex(F32, i, r.nextFloat() * 2 - 1);
            if (nan) x.setAtIndex(F32, r.nextInt((int) (x.byteSize() / 4)), Float.NaN);
            MemorySegment filters = arena.allocate(4L * m * g.k()), bias = withBias ? arena.allocate(4L * m) : null;
            for (long i = 0; i < (long) m * g.k(); i++) filters.setAtIndex(F32, i, r.nextFloat() * 2 - 1);
            for (int o = 0; withBias && o < m; o++) bias.setAtIndex(F32, o, r.nextFloat() - 0.5f);
            MemorySegment conv = arena.allocate(4L * images * m * n), expected = arena.allocate(4L * images * m * poh * pow);
            DirectConv.im2colGemmF32(m, filters, g, images, x, imageStride, conv, (long) m * n, null, 0, 0, true);
            for (long i = 0; i < (long) images * m * n; i++) {
                float b = withBias ? bias.getAtIndex(F32, i / n % m) : 0f;
                conv.setAtIndex(F32, i, Math.max(conv.getAtIndex(F32, i) + b, 0f));
            }
            DirectPool.maxPool2dF32(conv, images * m, g.oh(), g.ow(), 2, 2, 2, 2, 0, 0, 1, 1, poh, pow, expected);
            MemorySegment got = arena.allocate(4 * ((images - 1) * pooledStride + (long) m * poh * pow));
            got.fill((byte) 0x7f);
            DirectConv.convPoolReluF32(m, filters, bias, g, images, x, imageStride, got, pooledStride);
            for (int i = 0; i < images; i++) {
                for (long e = 0; e < (long) m * poh * pow; e++) {
                    float want = expected.getAtIndex(F32, i * (long) m * poh * pow + e), have = got.getAtIndex(F32, i * pooledStride + e);
                    if (Float.floatToIntBits(want) != Float.floatToIntBits(have) && !(Float.isNaN(want) && Float.isNaN(have))) {
                        throw new AssertionError("fused pool of " + m + " filters, " + g + ", image " + i + " element " + e + ": "
                                + have + ", unfused " + want);
                    }
                }
                for (long gap = i * pooledStride + (long) m * poh * pow; i + 1 < images && gap < (i + 1) * pooledStride; gap++) {
                    assertEquals(0x7f7f7f7f, got.getAtIndex(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, gap), "gap element " + gap + " written");
                }
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    /**
     * {@code images} images with gaps (noise in the input's, a sentinel in the output's) between them, against the
     * double reference; epilogue rows numbered from 5 with {@code m + 2} per image.
     */
    private static void assertMatchesReference(int m, ConvPanels.Geometry g, int images, int threads, boolean direct, long seed) {
        int k = g.k(), n = g.n();
        long imageStride = g.imageBytes() / 4 + 3, outStride = (long) m * n + 5;
        Random r = new Random(seed);
        int before = Parallel.threads();
        Parallel.setThreads(threads);
        try (Arena arena = Arena.ofShared()) {
            // segments sized exactly: a read or write past the last image fails
            MemorySegment x = arena.allocate(4 * (images - 1) * imageStride + g.imageBytes());
            for (long i = 0; i < x.byteSize() / 4; i++) x.setAtIndex(F32, i, r.nextFloat() * 2 - 1);
            MemorySegment filters = arena.allocate(4L * m * k);
            for (long i = 0; i < (long) m * k; i++) filters.setAtIndex(F32, i, r.nextFloat() * 2 - 1);
            MemorySegment out = arena.allocate(4 * ((images - 1) * outStride + (long) m * n));
            out.fill((byte) 0x7f);
            int firstRow = 5, imageRows = m + 2;
            AtomicIntegerArray seen = new AtomicIntegerArray(firstRow + images * imageRows);
            RowEpilogue epilogue = (r0, r1) -> { for (long i = r0; i < r1; i++) seen.incrementAndGet((int) i); };
            DirectConv.im2colGemmF32(m, filters, g, images, x, imageStride, out, outStride, epilogue, firstRow, imageRows, direct);
            String what = (direct ? "direct" : "im2col + gemm") + " conv of " + m + " filters, " + g + " x " + images + ", "
                    + threads + " thread(s)";
            for (int i = 0; i < images; i++) {
                for (int o = 0; o < m; o++) {
                    for (int y = 0; y < g.oh(); y++) {
                        for (int xo = 0; xo < g.ow(); xo++) {
                            double[] sums = reference(g, x, i * imageStride, filters, o, y, xo);
                            float got = out.getAtIndex(F32, i * outStride + ((long) o * g.oh() + y) * g.ow() + xo);
                            double tolerance = 2 * k * 0x1p-24 * sums[1] + 1e-30;
                            if (!(Math.abs(got - sums[0]) <= tolerance)) {
                                throw new AssertionError(what + ": image " + i + " filter " + o + " (" + y + ", " + xo + ") is "
                                        + got + ", expected " + sums[0] + " within " + tolerance);
                            }
                        }
                    }
                }
                if (i + 1 < images) {
                    for (long gap = i * outStride + (long) m * n; gap < (i + 1) * outStride; gap++) {
                        assertEquals(0x7f7f7f7f, out.getAtIndex(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, gap), what + ": gap element " + gap + " written");
                    }
                }
            }
            for (int i = 0; i < seen.length(); i++) {
                int row = i - firstRow;
                assertEquals(row >= 0 && row % imageRows < m ? 1 : 0, seen.get(i), what + ": epilogue calls for row " + i);
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    /** Output {@code (o, y, x)} of the image at element {@code base}, summed in double, and the sum of |w x|. */
    private static double[] reference(ConvPanels.Geometry g, MemorySegment x, long base, MemorySegment filters, int o, int y, int xo) {
        double sum = 0, abs = 0;
        for (int ci = 0; ci < g.c(); ci++) {
            for (int i = 0; i < g.kh(); i++) {
                for (int j = 0; j < g.kw(); j++) {
                    int row = y * g.sh() - g.ph() + i * g.dh(), col = xo * g.sw() - g.pw() + j * g.dw();
                    if (row < 0 || row >= g.h() || col < 0 || col >= g.w()) continue;
                    double product = (double) filters.getAtIndex(F32, (((long) o * g.c() + ci) * g.kh() + i) * g.kw() + j)
                            * x.getAtIndex(F32, base + ((long) ci * g.h() + row) * g.w() + col);
                    sum += product;
                    abs += Math.abs(product);
                }
            }
        }
        return new double[] {sum, abs};
    }

    private static ConvPanels.Geometry geometry(int c, int h, int w, int kh, int kw, int stride, int ph, int pw, int dh, int dw) {
        int oh = (h + 2 * ph - dh * (kh - 1) - 1) / stride + 1, ow = (w + 2 * pw - dw * (kw - 1) - 1) / stride + 1;
        return new ConvPanels.Geometry(c, h, w, kh, kw, stride, stride, ph, pw, dh, dw, oh, ow);
    }
}
