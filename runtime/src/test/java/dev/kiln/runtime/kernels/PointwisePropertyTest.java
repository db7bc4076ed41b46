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
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Pointwise#f32} against the reference {@link Conv#conv2d} (1x1, grouped) followed by the residual add and
 * relu, in the generated epilogue's order. Both sum the {@code k} products in order but the reference may block or
 * vectorise differently, so the bound is the f32 rounding of both: {@code 2 (k + 3) eps (|bias| + |residual| +
 * sum |w x|)}. Pixel counts off the 32-pixel block exercise the overlapping last block, and a residual that is the
 * output buffer itself (an in-place add) must still be added exactly once.
 */
class PointwisePropertyTest {

    @Property(tries = 150)
    void matchesConv2d(@ForAll @IntRange(min = 1, max = 3) int groups, @ForAll @IntRange(min = 1, max = 21) int m,
                       @ForAll @IntRange(min = 1, max = 40) int k, @ForAll @IntRange(min = 32, max = 130) int n,
                       @ForAll @IntRange(min = 1, max = 2) int images, @ForAll boolean bias, @ForAll @IntRange(max = 2) int residual,
                       @ForAll boolean relu, @ForAll @IntRange(min = 1, max = 2) int threads, @ForAll @IntRange(max = 40) int gap,
                       @ForAll long seed) {
        Assume.that(Pointwise.available());
        assertMatches(groups, m, k, n, images, bias, residual, relu, threads, gap, seed);
    }

    /** ShuffleNet v1 and v2's 1x1 layers at their plane sizes (49 pixels: one block and an overlapping one). */
    @Example
    void shuffleNetLayers() {
        Assume.that(Pointwise.available());
        int[][] layers = {{3, 20, 80, 784}, {3, 80, 20, 784}, {3, 40, 160, 196}, {3, 160, 40, 49}, {1, 58, 58, 784},
                {1, 116, 116, 196}, {1, 232, 232, 49}, {1, 60, 24, 3136}};
        for (int[] layer : layers) {
            for (int threads = 1; threads <= 2; threads++) {
                assertMatches(layer[0], layer[1], layer[2], layer[3], 2, true, threads, threads == 1, threads, 13 * threads, layer[3]);
            }
        }
    }

    @Example
    void badArgumentsAreRefused() {
        Assume.that(Pointwise.available());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = arena.allocate(4L * 2 * 4 * 3);
            assertThrows(KilnException.class, () -> Pointwise.Filters.pack(w, 2, 4, 0));
            assertThrows(KilnException.class, () -> Pointwise.Filters.pack(w.asSlice(0, 8), 2, 4, 3));
            Pointwise.Filters f = Pointwise.Filters.pack(w, 2, 4, 3);
            MemorySegment x = arena.allocate(4L * 6 * 40), out = arena.allocate(4L * 8 * 40);
            KilnException e = assertThrows(KilnException.class, () -> Pointwise.f32(f, 2, 40, x, 6 * 40, null, null, false, out));
            assertTrue(e.getMessage().contains("bytes of input"), e.getMessage());
            assertThrows(KilnException.class, () -> Pointwise.f32(f, 1, 8, x, 6 * 8, null, null, false, out));
            assertThrows(KilnException.class, () -> Pointwise.f32(f, 1, 40, x, 6 * 40, x.asSlice(0, 4), null, false, out));
            assertThrows(KilnException.class, () -> Pointwise.f32(f, 1, 40, x, 6 * 40 - 1, null, null, false, out));
        }
    }

    /** {@code residual}: 0 none, 1 a separate buffer, 2 the output buffer itself (holding the residual on entry). */
    private static void assertMatches(int groups, int m, int k, int n, int images, boolean withBias, int residual,
                                      boolean relu, int threads, int gap, long seed) {
        Random r = new Random(seed);
        NDArray x = random(r, images, groups * k, 1, n), weight = random(r, groups * m, k, 1, 1);
        NDArray bias = withBias ? NDArray.of(random(r, 1, 1, 1, groups * m).toFloatArray(), groups * m) : null;
        NDArray res = residual > 0 ? random(r, images, groups * m, 1, n) : null;
        NDArray conv = Conv.conv2d(x, weight, bias, null, null, null, groups);
        NDArray magnitude = Conv.conv2d(abs(x), abs(weight), bias == null ? null : abs(bias), null, null, null, groups);
        float[] expected = conv.toFloatArray(), bound = magnitude.toFloatArray();
        float[] resv = res == null ? null : res.toFloatArray();
        for (int i = 0; i < expected.length; i++) {
            if (resv != null) {
                expected[i] += resv[i];
                bound[i] += Math.abs(resv[i]);
            }
            if (relu) expected[i] = Math.max(expected[i], 0f);
        }
        int before = Parallel.threads();
        Parallel.setThreads(threads);
        try (Arena arena = Arena.ofShared()) {
            Pointwise.Filters f = Pointwise.Filters.pack(segment(arena, weight), groups, m, k);
            // images `gap` floats apart beyond their size (a channel slice of a larger batch), the gap filled with NaN
            long imageStride = (long) groups * k * n + gap;
            MemorySegment xs = arena.allocate(4L * images * imageStride);
            xs.fill((byte) 0xff);
            float[] xv = x.toFloatArray();
            for (int i = 0; i < images; i++) MemorySegment.copy(xv, i * groups * k * n, xs, F32, 4L * i * imageStride, groups * k * n);
            MemorySegment bs = bias == null ? null : segment(arena, bias);
            MemorySegment out = arena.allocate(4L * expected.length);
            MemorySegment rs = null;
            if (residual == 1) rs = segment(arena, res);
            if (residual == 2) {
                MemorySegment.copy(resv, 0, out, F32, 0, resv.length);
                rs = out;
            } else {
                out.fill((byte) 0x7f);   // every element must be written
            }
            Pointwise.f32(f, images, n, xs, imageStride, bs, rs, relu, out);
            double eps = Math.ulp(1f);
            for (int i = 0; i < expected.length; i++) {
                float got = out.getAtIndex(F32, i);
                assertTrue(Math.abs(got - expected[i]) <= 2 * (k + 3) * eps * bound[i] + Float.MIN_NORMAL, "output " + i + " of "
                        + groups + " group(s) " + m + "x" + n + "x" + k + " x " + images + ": expected " + expected[i] + ", got " + got);
            }
            if (relu) for (int i = 0; i < expected.length; i++) assertTrue(out.getAtIndex(F32, i) >= 0f || expected[i] != expected[i]);
        } finally {
            Parallel.setThreads(before);
        }
    }

    private static NDArray abs(NDArray a) {
        float[] v = a.toFloatArray();
        for (int i = 0; i < v.length; i++) v[i] = Math.abs(v[i]);
        return NDArray.of(v, a.shape());
    }

    private static MemorySegment segment(Arena arena, NDArray a) {
        float[] v = a.toFloatArray();
        MemorySegment s = arena.allocate(4L * v.length);
        MemorySegment.copy(v, 0, s, F32, 0, v.length);
        return s;
    }

    private static NDArray random(Random r, int n, int c, int h, int w) {
        float[] v = new float[n * c * h * w];
        for (int i = 0; i < v.length; i++) v[i] = r.nextFloat() * 2 - 1;
        return NDArray.of(v, n, c, h, w);
    }
}
