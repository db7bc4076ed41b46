package dev.kiln.runtime.kernels;

import dev.kiln.ir.KilnException;
import dev.kiln.runtime.NDArray;
import net.jqwik.api.Assume;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import static dev.kiln.runtime.Elements.F32;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Depthwise#f32} against the reference {@link Conv#conv2d} with one group per input channel (the input
 * channel-shuffled first when the geometry reads through a shuffle). The kernels add the same products in different
 * orders (the vector kernel sums each tap column, then adds it), so the bound is the f32 rounding of both sums:
 * {@code |got - ref| <= 2 (taps + 2) eps (|bias| + sum |w x|)}. NaN and infinities (sprinkled in when
 * {@code specials}) must come out where the reference has them: every sum holding a NaN, or both infinities, is
 * NaN in any order, and one holding only one infinity is that infinity in any order; and nothing the window does
 * not cover (a neighbouring row's NaN read by a masked-out lane) may leak in.
 */
class DepthwisePropertyTest {

    @Property(tries = 300)
    void matchesConv2d(@ForAll @IntRange(min = 1, max = 6) int c, @ForAll @IntRange(min = 1, max = 3) int mult,
                       @ForAll @IntRange(min = 1, max = 40) int h, @ForAll @IntRange(min = 1, max = 40) int w,
                       @ForAll @IntRange(min = 1, max = 5) int kh, @ForAll @IntRange(min = 1, max = 5) int kw,
                       @ForAll @IntRange(min = 1, max = 3) int sh, @ForAll @IntRange(min = 1, max = 3) int sw,
                       @ForAll @IntRange(max = 3) int ph, @ForAll @IntRange(max = 3) int pw,
                       @ForAll @IntRange(min = 1, max = 2) int dh, @ForAll @IntRange(min = 1, max = 2) int dw,
                       @ForAll @IntRange(min = 1, max = 2) int images, @ForAll @IntRange(min = 1, max = 3) int shuffle,
                       @ForAll boolean bias, @ForAll boolean specials, @ForAll @IntRange(min = 1, max = 2) int threads,
                       @ForAll @IntRange(max = 5) int gap, @ForAll long seed) {
        Assume.that(h + 2 * ph >= dh * (kh - 1) + 1 && w + 2 * pw >= dw * (kw - 1) + 1 && c % shuffle == 0);
        assertMatches(c, mult, h, w, kh, kw, sh, sw, ph, pw, dh, dw, images, shuffle, bias, specials, threads, gap, seed);
    }

    /** ShuffleNet's and MobileNet's layers (3x3, padding 1, strides 1 and 2, planes 56 to 3) take the vector kernel. */
    @Example
    void shuffleNetLayers() {
        int[][] layers = {{60, 56, 2}, {60, 28, 1}, {120, 28, 2}, {120, 14, 1}, {240, 14, 2}, {240, 7, 1}, {24, 56, 2},
                {8, 3, 1}, {8, 4, 2}, {4, 1, 1}, {6, 5, 2}};
        for (int[] layer : layers) {
            int c = layer[0], size = layer[1], stride = layer[2];
            if (Depthwise.VECTOR != null) {
                int out = (size + 2 - 3) / stride + 1;
                assertTrue(new Depthwise.Geometry(c, size, size, 3, 3, stride, stride, 1, 1, 1, 1, 1, out, out, 1).phased(),
                        "3x3 stride " + stride + " over " + size + "x" + size);
            }
            for (int threads = 1; threads <= 2; threads++) {
                assertMatches(c, 1, size, size, 3, 3, stride, stride, 1, 1, 1, 1, 2, c % 3 == 0 ? 3 : 1, true, true, threads, threads * 7, c + size);
            }
        }
    }

    /** Undersized segments and impossible sizes are refused with the sizes named, before anything is written. */
    @Example
    void badArgumentsAreRefused() {
        assertThrows(KilnException.class, () -> new Depthwise.Geometry(6, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 8, 8, 4));
        assertThrows(KilnException.class, () -> new Depthwise.Geometry(6, 8, 8, 3, 3, 0, 1, 1, 1, 1, 1, 1, 8, 8, 1));
        assertThrows(KilnException.class, () -> new Depthwise.Geometry(6, -1, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 8, 8, 1));
        Depthwise.Geometry g = new Depthwise.Geometry(2, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 8, 8, 1);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment x = arena.allocate(4L * 2 * 64), w = arena.allocate(4L * 18), out = arena.allocate(4L * 2 * 64);
            KilnException e = assertThrows(KilnException.class, () -> Depthwise.f32(g, 2, x, 2 * 64, w, null, out));
            assertTrue(e.getMessage().contains("bytes of input"), e.getMessage());
            assertThrows(KilnException.class, () -> Depthwise.f32(g, 1, x, 2 * 64, w.asSlice(0, 8), null, out));
            assertThrows(KilnException.class, () -> Depthwise.f32(g, 1, x, 2 * 64, w, w.asSlice(0, 4), out));
            assertThrows(KilnException.class, () -> Depthwise.f32(g, 1, x, 2 * 64 - 1, w, null, out));
        }
    }

    private static void assertMatches(int c, int mult, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw,
                                      int dh, int dw, int images, int shuffle, boolean withBias, boolean specials,
                                      int threads, int gap, long seed) {
        Random r = new Random(seed);
        NDArray x = input(r, images, c, h, w, specials), weight = input(r, c * mult, 1, kh, kw, false);
        NDArray bias = withBias ? NDArray.of(input(r, 1, 1, 1, c * mult, false).toFloatArray(), c * mult) : null;
        NDArray shuffled = shuffle(x, shuffle);
        int[] stride = {sh, sw}, pad = {ph, pw}, dil = {dh, dw};
        NDArray ref = Conv.conv2d(shuffled, weight, bias, stride, pad, dil, c);
        NDArray magnitude = Conv.conv2d(abs(shuffled), abs(weight), bias == null ? null : abs(bias), stride, pad, dil, c);
        int oh = (int) ref.dim(2), ow = (int) ref.dim(3);
        Depthwise.Geometry g = new Depthwise.Geometry(c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, mult, oh, ow, shuffle);
        int before = Parallel.threads();
        Parallel.setThreads(threads);
        try (Arena arena = Arena.ofShared()) {
            // images `gap` floats apart beyond their size (a channel slice of a larger batch), the gap filled with NaN
            long imageStride = (long) c * h * w + gap;
            MemorySegment xs = arena.allocate(4L * Math.max(1, images * imageStride));
            xs.fill((byte) 0xff);
            float[] xv = x.toFloatArray();
            for (int i = 0; i < images; i++) MemorySegment.copy(xv, i * c * h * w, xs, F32, 4L * i * imageStride, c * h * w);
            MemorySegment ws = segment(arena, weight), bs = bias == null ? null : segment(arena, bias);
            MemorySegment out = arena.allocate(4L * ref.numel());
            out.fill((byte) 0x7f);   // every element must be written
            Depthwise.f32(g, images, xs, imageStride, ws, bs, out);
            float[] expected = ref.toFloatArray(), bound = magnitude.toFloatArray();
            double eps = Math.ulp(1f);
            for (int i = 0; i < expected.length; i++) {
                float got = out.getAtIndex(F32, i), want = expected[i];
                String where = "output " + i + " of " + g + " x " + images + ": expected " + want + ", got " + got;
                if (Float.isNaN(want) || Float.isInfinite(want)) {
                    assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(got), where);
                } else {
                    assertTrue(Math.abs(got - want) <= 2 * (kh * kw + 2) * eps * bound[i] + Float.MIN_NORMAL, where);
                }
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    /** ShuffleNet's channel shuffle: {@code x.view(n, g, c/g, h, w).transpose(1, 2).reshape(n, c, h, w)}. */
    private static NDArray shuffle(NDArray x, int groups) {
        if (groups == 1) return x;
        long n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        return x.reshape(n, groups, c / groups, h, w).transpose(1, 2).contiguous().reshape(n, c, h, w);
    }

    private static NDArray abs(NDArray a) {
        float[] v = a.toFloatArray();
        for (int i = 0; i < v.length; i++) v[i] = Math.abs(v[i]);
        return NDArray.of(v, a.shape());
    }

    private static MemorySegment segment(Arena arena, NDArray a) {
        float[] v = a.toFloatArray();
        MemorySegment s = arena.allocate(4L * Math.max(1, v.length));
        MemorySegment.copy(v, 0, s, F32, 0, v.length);
        return s;
    }

    private static NDArray input(Random r, int n, int c, int h, int w, boolean specials) {
        float[] v = new float[n * c * h * w];
        float[] special = {Float.NaN, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, -0f, 0f};
        for (int i = 0; i < v.length; i++) {
            v[i] = specials && r.nextInt(12) == 0 ? special[r.nextInt(special.length)] : r.nextFloat() * 2 - 1;
        }
        return NDArray.of(v, n, c, h, w);
    }
}
