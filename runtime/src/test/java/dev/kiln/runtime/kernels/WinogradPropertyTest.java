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
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link Winograd} (taken by {@link DirectConv#packedF32} for 3x3 stride-1 convolutions with enough channels and
 * tiles) against the convolution summed in double: every output within {@code 32 eps sum |w| |x|} for F(2x2, 3x3)
 * and {@code 128 eps sum |w| |x|} for F(4x4, 3x3) (f32 rounding of the transforms, which reassociate and scale the
 * sums, on top of the GEMM's), with both tile sizes, odd and even output sizes, paddings (different
 * across and down) 0 to 2, several images with gaps between them, prepacked and per-call filters, 1 and 2 threads; the epilogue sees
 * every output row once.
 */
class WinogradPropertyTest {
    private static final double EPS = Math.ulp(1f);

    @Property(tries = 40)
    void winogradMatchesTheConvolution(@ForAll @IntRange(min = 48, max = 140) int c, @ForAll @IntRange(min = 48, max = 140) int m,
                                       @ForAll @IntRange(min = 13, max = 30) int h, @ForAll @IntRange(min = 13, max = 30) int w,
                                       @ForAll @IntRange(max = 2) int ph, @ForAll @IntRange(max = 2) int pw,
                                       @ForAll @IntRange(min = 1, max = 2) int images,
                                       @ForAll boolean prepacked, @ForAll @IntRange(min = 1, max = 2) int threads, @ForAll long seed) {
        ConvPanels.Geometry g = new ConvPanels.Geometry(c, h, w, 3, 3, 1, 1, ph, pw, 1, 1, h + 2 * ph - 2, w + 2 * pw - 2);
        Assume.that(Winograd.applies(m, g));
        assertMatches(m, g, images, prepacked, threads, seed);
    }

    @Example
    void resNetShapes() {
        assumeTrue(WinogradTransforms.VECTOR != null, "needs the Vector API");
        // ResNet's stage 1 to 3 convolutions (the 7x7 stage 4 takes the direct path), and an odd size
        assertMatches(64, geometry(64, 56), 1, true, 2, 1);
        assertMatches(128, geometry(128, 28), 2, false, 1, 2);
        assertMatches(256, geometry(256, 14), 1, true, 1, 3);
        assertMatches(48, geometry(48, 27), 1, true, 2, 4);
        assertMatches(64, geometry(64, 16), 5, true, 2, 5);   // a batch on two threads: whole images per thread
        assertTrue(!Winograd.applies(512, geometry(512, 7)), "ResNet's 7x7 stage keeps the direct convolution");
        if (WinogradTransforms.VECTOR4 != null) {
            assertEquals(4, Winograd.transforms(64, geometry(64, 56)).tile(), "56x56: F(4x4, 3x3)");
            assertEquals(4, Winograd.transforms(128, geometry(128, 28)).tile(), "28x28: F(4x4, 3x3)");
            assertEquals(2, Winograd.transforms(256, geometry(256, 14)).tile(), "14x14: F(2x2, 3x3), too few 4x4 tiles");
            assertMatches(128, geometry(128, 30), 1, false, 2, 6);   // F(4x4, 3x3) on two threads
            assertMatches(130, new ConvPanels.Geometry(129, 29, 27, 3, 3, 1, 1, 2, 0, 1, 1, 31, 25), 1, true, 1, 7);
        }
        assertTrue(!Winograd.applies(64, new ConvPanels.Geometry(64, 56, 56, 3, 3, 2, 2, 1, 1, 1, 1, 28, 28)), "stride 2");
        assertTrue(!Winograd.applies(32, geometry(32, 56)), "32 channels in and out: the transforms outweigh the saving");
    }

    private static ConvPanels.Geometry geometry(int c, int hw) {
        return new ConvPanels.Geometry(c, hw, hw, 3, 3, 1, 1, 1, 1, 1, 1, hw, hw);
    }

    private static void assertMatches(int m, ConvPanels.Geometry g, int images, boolean prepacked, int threads, long seed) {
        assertTrue(Winograd.applies(m, g), g::toString);
        // F(4x4, 3x3)'s transforms scale by up to 8 and 1/24 and round more: a wider bound
        int ulps = Winograd.transforms(m, g).tile() == 4 ? 128 : 32;
        int k = g.k(), n = g.n(), c = g.c(), h = g.h(), w = g.w(), oh = g.oh(), ow = g.ow(), ph = g.ph(), pw = g.pw();
        long imageStride = g.imageBytes() / 4 + 5, outStride = (long) m * n + 7;
        Random r = new Random(seed);
        int before = Parallel.threads();
        Parallel.setThreads(threads);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment x = arena.allocate(4 * ((images - 1) * imageStride) + g.imageBytes());
            for (long i = 0; i < x.byteSize() / 4; i++) x.setAtIndex(F32, i, r.nextFloat() * 2 - 1);
            MemorySegment filters = arena.allocate(4L * m * k);
            for (long i = 0; i < (long) m * k; i++) filters.setAtIndex(F32, i, r.nextFloat() * 2 - 1);
            long outFloats = (images - 1) * outStride + (long) m * n;
            MemorySegment got = arena.allocate(4 * outFloats);
            got.fill((byte) 0x7f);   // NaN-free marker: gaps between images must stay untouched
            int firstRow = 3, imageRows = m + 2;
            AtomicIntegerArray seen = new AtomicIntegerArray(firstRow + images * imageRows);
            RowEpilogue epilogue = (r0, r1) -> { for (long i = r0; i < r1; i++) seen.incrementAndGet((int) i); };
            if (prepacked) DirectConv.packedF32(PackedA.pack(filters, m, k, k), g, images, x, imageStride, got, outStride, epilogue, firstRow, imageRows);
            else DirectConv.packedF32(m, filters, g, images, x, imageStride, got, outStride, epilogue, firstRow, imageRows);
            for (int img = 0; img < images; img++) {
                for (int o = 0; o < m; o++) {
                    for (int oy = 0; oy < oh; oy++) {
                        for (int ox = 0; ox < ow; ox++) {
                            double sum = 0, bound = 0;
                            for (int ci = 0; ci < c; ci++) {
                                for (int ky = 0; ky < 3; ky++) {
                                    int iy = oy + ky - ph;
                                    if (iy < 0 || iy >= h) continue;
                                    for (int kx = 0; kx < 3; kx++) {
                                        int ix = ox + kx - pw;
                                        if (ix < 0 || ix >= w) continue;
                                        double wv = filters.getAtIndex(F32, (long) o * k + ci * 9 + ky * 3 + kx);
                                        double xv = x.getAtIndex(F32, img * imageStride + ((long) ci * h + iy) * w + ix);
                                        sum += wv * xv;
                                        bound += Math.abs(wv * xv);
                                    }
                                }
                            }
                            float value = got.getAtIndex(F32, img * outStride + (long) o * n + (long) oy * ow + ox);
                            double tolerance = ulps * EPS * (bound + 1e-30);
                            if (!(Math.abs(value - sum) <= tolerance)) {
                                throw new AssertionError("image " + img + " channel " + o + " output (" + oy + ", " + ox + "): expected "
                                        + sum + " +- " + tolerance + ", got " + value + " for m=" + m + " " + g);
                            }
                        }
                    }
                }
                if (img + 1 < images) {
                    for (long i = (long) m * n; i < outStride; i++) {
                        assertEquals(0x7f7f7f7f, Float.floatToRawIntBits(got.getAtIndex(F32, img * outStride + i)), "gap after image " + img);
                    }
                }
            }
            for (int i = 0; i < seen.length(); i++) {
                int row = i - firstRow;
                assertEquals(row >= 0 && row % imageRows < m ? 1 : 0, seen.get(i), "epilogue calls for row " + i);
            }
        } finally {
            Parallel.setThreads(before);
        }
    }
}
