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
 * The packed convolution ({@link ConvPanels}, {@link PackedA}, {@link DirectConv#packedF32}) against im2col: the
 * panels unfolded from the image must equal the panels packed from {@link DirectConv#im2colF32}'s matrix bit for
 * bit (every stride, padding, dilation, and the vector path of "same" convolutions), and the convolution must
 * equal the packed GEMM of the filters and the im2col matrix bit for bit (prepacked filters add the same products
 * in the same order), with 1 and 2 threads and with the pixels or the channels as the GEMM's rows; the epilogue sees
 * every output row once.
 */
class PackedConvPropertyTest {

    @Property(tries = 300)
    void panelsEqualPackedIm2col(@ForAll @IntRange(min = 1, max = 4) int c,
                                 @ForAll @IntRange(min = 1, max = 40) int h, @ForAll @IntRange(min = 1, max = 40) int w,
                                 @ForAll @IntRange(min = 1, max = 5) int kh, @ForAll @IntRange(min = 1, max = 5) int kw,
                                 @ForAll @IntRange(min = 1, max = 3) int sh, @ForAll @IntRange(min = 1, max = 3) int sw,
                                 @ForAll @IntRange(max = 3) int ph, @ForAll @IntRange(max = 3) int pw,
                                 @ForAll @IntRange(min = 1, max = 2) int dh, @ForAll @IntRange(min = 1, max = 2) int dw,
                                 @ForAll boolean unitStride, @ForAll long seed) {
        if (unitStride) sh = sw = dh = dw = 1;   // half the cases take the vector path when "same"
        Assume.that(h + 2 * ph >= dh * (kh - 1) + 1 && w + 2 * pw >= dw * (kw - 1) + 1);
        ConvPanels.Geometry g = geometry(c, h, w, kh, kw, sh, sw, ph, pw, dh, dw);
        assertPanelsEqualPackedIm2col(g, seed, (image, pc, kc, jp, bp, to) -> ConvPanels.packPanel(g, image, 0, pc, kc, jp, bp, to));
    }

    @Property(tries = 60)
    void convolutionEqualsGemmOfIm2col(@ForAll @IntRange(min = 1, max = 70) int m,
                                       @ForAll @IntRange(min = 1, max = 40) int c,
                                       @ForAll @IntRange(min = 1, max = 24) int h, @ForAll @IntRange(min = 1, max = 24) int w,
                                       @ForAll @IntRange(min = 1, max = 3) int kernel,
                                       @ForAll @IntRange(min = 1, max = 2) int stride, @ForAll @IntRange(max = 1) int pad,
                                       @ForAll @IntRange(min = 1, max = 3) int images, @ForAll boolean prepacked,
                                       @ForAll @IntRange(min = 1, max = 2) int threads, @ForAll boolean byPixels,
                                       @ForAll long seed) {
        Assume.that(h + 2 * pad >= kernel && w + 2 * pad >= kernel);
        Assume.that(!byPixels || PackedGemm.NR % PackedGemm.MR == 0);
        ConvPanels.Geometry g = geometry(c, h, w, kernel, kernel, stride, stride, pad, pad, 1, 1);
        assertConvolutionEqualsGemm(m, g, images, prepacked, threads, byPixels, seed);
    }

    @Example
    void resNetShapes() {
        // ResNet-18's stem, a "same" 3x3, a strided 3x3, a pointwise downsample and the last stage
        assertConvolutionEqualsGemm(64, geometry(3, 56, 56, 7, 7, 2, 2, 3, 3, 1, 1), 1, true, 1, false, 1);
        assertConvolutionEqualsGemm(64, geometry(64, 28, 28, 3, 3, 1, 1, 1, 1, 1, 1), 2, true, 2, false, 2);
        assertConvolutionEqualsGemm(128, geometry(64, 28, 28, 3, 3, 2, 2, 1, 1, 1, 1), 1, false, 1, false, 3);
        assertConvolutionEqualsGemm(128, geometry(64, 28, 28, 1, 1, 1, 1, 0, 0, 1, 1), 2, true, 2, false, 4);
        assertConvolutionEqualsGemm(40, geometry(300, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1), 3, true, 1, false, 5);
        // packed A past L2's share (K block by K block instead of panel by panel), in one and in two row blocks
        assertConvolutionEqualsGemm(300, geometry(64, 9, 9, 3, 3, 1, 1, 1, 1, 1, 1), 2, true, 1, false, 6);
        assertConvolutionEqualsGemm(600, geometry(64, 9, 9, 3, 3, 2, 2, 1, 1, 1, 1), 3, false, 2, false, 7);
    }

    @Example
    void pixelsAsRows() {
        // the shapes byPixels chooses (ResNet's last stage, its strided entry), then odd sizes: channels past a
        // whole column panel, a batch in two groups of images whose pixels straddle row panels, a pointwise one
        assertTrue(PackedGemm.byPixels(512, 49, 4608, 1) && PackedGemm.byPixels(512, 49, 2304, 32));
        assertFalse(PackedGemm.byPixels(64, 3136, 576, 1));
        assertConvolutionEqualsGemm(512, geometry(512, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1), 1, true, 1, true, 8);
        assertConvolutionEqualsGemm(128, geometry(64, 14, 14, 3, 3, 2, 2, 1, 1, 1, 1), 2, false, 2, true, 9);
        assertConvolutionEqualsGemm(70, geometry(33, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1), 12, true, 2, true, 10);
        assertConvolutionEqualsGemm(45, geometry(300, 5, 3, 1, 1, 1, 1, 0, 0, 1, 1), 3, false, 1, true, 11);
    }

    @Example
    void mismatchedArgumentsAreRefused() {
        ConvPanels.Geometry g = geometry(2, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1);
        long image = g.imageBytes() / 4, out = 4L * g.n();
        try (Arena arena = Arena.ofConfined()) {
            PackedA filters = PackedA.pack(arena.allocate(4L * 4 * 17), 4, 17, 17);
            MemorySegment x = arena.allocate(8 * image), y = arena.allocate(8 * out);
            assertThrows(IllegalArgumentException.class, () -> DirectConv.packedF32(filters, g, 2, x, image, y, out, null, 0, 0));
            PackedA right = PackedA.pack(arena.allocate(4L * 4 * 18), 4, 18, 18);
            DirectConv.packedF32(right, g, 2, x, image, y, out, null, 0, 0);
            assertThrows(IllegalArgumentException.class, () -> DirectConv.packedF32(right, g, 2, x.asSlice(4), image, y, out, null, 0, 0));
            assertThrows(IllegalArgumentException.class, () -> DirectConv.packedF32(right, g, 2, x, image, y.asSlice(4), out, null, 0, 0));
            assertThrows(IllegalArgumentException.class, () -> DirectConv.packedF32(right, g, 2, x, image, y, out - 1, null, 0, 0));
            assertThrows(IllegalArgumentException.class, () -> DirectConv.packedF32(right, g, 3, x, image, y, out, null, 0, 0));
        }
        assertThrows(IllegalArgumentException.class, () -> new ConvPanels.Geometry(2, 5, 5, 3, 3, 0, 1, 1, 1, 1, 1, 5, 5));
    }

    /**
     * {@code images} images with input and output strides past their sizes (gaps hold noise), against the packed GEMM
     * of each image's im2col matrix; the epilogue's row numbers use a per-image stride of {@code m + 3}.
     */
    private static void assertConvolutionEqualsGemm(int m, ConvPanels.Geometry g, int images, boolean prepacked, int threads,
                                                    boolean byPixels, long seed) {
        int k = g.k(), n = g.n();
        long imageStride = g.imageBytes() / 4 + 5, outStride = (long) m * n + 7;
        Random r = new Random(seed);
        int before = Parallel.threads();
        Parallel.setThreads(threads);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment x = arena.allocate(4 * ((images - 1) * imageStride) + g.imageBytes());
            for (long i = 0; i < x.byteSize() / 4; i++) x.setAtIndex(F32, i, r.nextFloat() * 2 - 1);
            MemorySegment filters = arena.allocate(4L * m * k);
            for (long i = 0; i < (long) m * k; i++) filters.setAtIndex(F32, i, r.nextFloat() * 2 - 1);
            long outBytes = 4 * ((images - 1) * outStride + (long) m * n);
            MemorySegment expected = arena.allocate(outBytes), got = arena.allocate(outBytes);
            got.fill((byte) 0x7f);
            expected.fill((byte) 0x7f);   // the gaps between images stay untouched
            MemorySegment col = arena.allocate(4L * k * n);
            for (int i = 0; i < images; i++) {
                MemorySegment image = x.asSlice(4 * i * imageStride, g.imageBytes());
                DirectConv.im2colF32(image, g.c(), g.h(), g.w(), g.kh(), g.kw(), g.sh(), g.sw(), g.ph(), g.pw(), g.dh(), g.dw(),
                        g.oh(), g.ow(), col);
                PackedGemm.compute(m, n, k, filters, k, col, n, false, expected.asSlice(4 * i * outStride, 4L * m * n), n, null);
            }
            int firstRow = 5, imageRows = m + 3;
            AtomicIntegerArray seen = new AtomicIntegerArray(firstRow + images * imageRows);
            RowEpilogue epilogue = (r0, r1) -> { for (long i = r0; i < r1; i++) seen.incrementAndGet((int) i); };
            // the packed GEMM itself: DirectConv.packedF32 may take Winograd's path (WinogradPropertyTest)
            boolean pointwise = g.kh() == 1 && g.kw() == 1 && g.sh() == 1 && g.sw() == 1 && g.ph() == 0 && g.pw() == 0;
            PackedGemm.convolve(m, n, k, prepacked ? null : filters, prepacked ? PackedA.pack(filters, m, k, k) : null, images, x,
                    imageStride, pointwise ? null : g, got, outStride, epilogue, firstRow, imageRows, byPixels);
            assertEquals(-1L, expected.mismatch(got), "convolution differs from the GEMM of im2col for m=" + m + " " + g + " x "
                    + images + (byPixels ? ", pixels as rows" : ""));
            for (int i = 0; i < seen.length(); i++) {
                int row = i - firstRow;
                int expectedCalls = row >= 0 && row % imageRows < m ? 1 : 0;
                assertEquals(expectedCalls, seen.get(i), "epilogue calls for row " + i);
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    /** Stride 2 unfolded from the image's phases gives the same panels, bit for bit. */
    @Property(tries = 300)
    void phasedPanelsEqualPackedIm2col(@ForAll @IntRange(min = 1, max = 4) int c,
                                       @ForAll @IntRange(min = 1, max = 40) int h, @ForAll @IntRange(min = 1, max = 40) int w,
                                       @ForAll @IntRange(min = 1, max = 7) int kh, @ForAll @IntRange(min = 1, max = 7) int kw,
                                       @ForAll @IntRange(max = 3) int ph, @ForAll @IntRange(max = 3) int pw, @ForAll long seed) {
        Assume.that(h + 2 * ph >= kh && w + 2 * pw >= kw);
        ConvPanels.Geometry g = geometry(c, h, w, kh, kw, 2, 2, ph, pw, 1, 1);
        Assume.that(g.phased());
        int at = 7;   // the phases start past element 0, as a later image's do
        MemorySegment phases = Arena.ofAuto().allocate(4L * (at + g.phasedImageFloats()));
        phases.fill((byte) 0xff);   // NaN where no phase is written (the phases a kernel never reads)
        assertPanelsEqualPackedIm2col(g, seed, (image, pc, kc, jp, bp, to) -> {
            if (pc == 0 && jp == 0) ConvPanels.phases(g, image, 0, phases, at);
            ConvPanels.packPhasedPanel(g, phases, at, pc, kc, jp, bp, to);
        });
    }

    @Example
    void resNetStridedShapesArePhased() {
        // ResNet's stem, its strided 3x3s and strided 1x1 downsamples, on even and odd sizes
        int[][] shapes = {{3, 224, 7, 3}, {64, 56, 3, 1}, {128, 28, 3, 1}, {256, 14, 3, 1}, {64, 56, 1, 0}, {8, 15, 3, 1}, {8, 7, 3, 1}};
        for (int[] s : shapes) {
            ConvPanels.Geometry g = geometry(s[0], s[1], s[1], s[2], s[2], 2, 2, s[3], s[3], 1, 1);
            assertTrue(g.phased(), g::toString);
            if ((long) g.k() * g.n() < 2_000_000) {
                MemorySegment phases = Arena.ofAuto().allocate(4L * g.phasedImageFloats());
                phases.fill((byte) 0xff);
                assertPanelsEqualPackedIm2col(g, s[1], (image, pc, kc, jp, bp, to) -> {
                    if (pc == 0 && jp == 0) ConvPanels.phases(g, image, 0, phases, 0);
                    ConvPanels.packPhasedPanel(g, phases, 0, pc, kc, jp, bp, to);
                });
            }
        }
    }

    /** Fills panel {@code jp} of rows {@code [pc, pc + kc)} of the patch matrix of {@code image} into {@code bp} from {@code to}. */
    private interface PanelFiller {
        void fill(MemorySegment image, int pc, int kc, int jp, float[] bp, int to);
    }

    private static void assertPanelsEqualPackedIm2col(ConvPanels.Geometry g, long seed, PanelFiller filler) {
        int k = g.k(), n = g.n();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment image = image(arena, g, new Random(seed));
            MemorySegment col = arena.allocate(4L * k * n);
            DirectConv.im2colF32(image, g.c(), g.h(), g.w(), g.kh(), g.kw(), g.sh(), g.sw(), g.ph(), g.pw(), g.dh(), g.dw(),
                    g.oh(), g.ow(), col);
            int size = PackedGemm.packedBSize("test", k, n), panels = PackedB.ceilDiv(n, PackedGemm.NR);
            float[] expected = new float[size], got = new float[size];
            java.util.Arrays.fill(got, Float.NaN);   // every element must be written
            PackedGemm.packB(col, n, false, k, n, expected, 0, panels);
            int nPadded = panels * PackedGemm.NR;
            for (int pc = 0; pc < k; pc += PackedGemm.KC) {
                int kc = Math.min(PackedGemm.KC, k - pc);
                for (int jp = 0; jp < panels; jp++) filler.fill(image, pc, kc, jp, got, pc * nPadded + jp * kc * PackedGemm.NR);
            }
            for (int i = 0; i < size; i++) {
                if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(got[i])) {
                    throw new AssertionError("panel float " + i + " of " + size + ": expected " + expected[i] + ", got "
                            + got[i] + " for " + g);
                }
            }
        }
    }

    private static ConvPanels.Geometry geometry(int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw) {
        int oh = (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1, ow = (w + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
        return new ConvPanels.Geometry(c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow);
    }

    private static MemorySegment image(Arena arena, ConvPanels.Geometry g, Random r) {
        // sized exactly, so reads past the image fail
        MemorySegment image = arena.allocate(g.imageBytes());
        for (long i = 0; i < g.imageBytes() / 4; i++) image.setAtIndex(F32, i, r.nextFloat() * 2 - 1);
        return image;
    }
}
