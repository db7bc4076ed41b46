package dev.kiln.runtime.kernels;

import dev.kiln.ir.DType;
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
import static dev.kiln.runtime.Elements.F64;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link DirectConv} and {@link DirectPool} against the tensor kernels: im2col must equal {@link Im2col#fill}
 * exactly, im2col followed by {@link DirectGemm} must match {@link Conv#conv2d} within the GEMM tolerance of
 * {@link ConvPoolPropertyTest} ({@code 2 eps k sum|w x|}, f32 and f64), and the pools must reproduce
 * {@link Pool#maxPool2d} / {@link Pool#avgPool2d} bit for bit (they visit windows in the same order and average
 * in double), NaN and -inf inputs included.
 */
class DirectConvPoolPropertyTest {

    @Property(tries = 200)
    void im2colEqualsIm2colFill(@ForAll @IntRange(min = 1, max = 3) int c,
                                @ForAll @IntRange(min = 1, max = 9) int h, @ForAll @IntRange(min = 1, max = 9) int w,
                                @ForAll @IntRange(min = 1, max = 5) int kh, @ForAll @IntRange(min = 1, max = 5) int kw,
                                @ForAll @IntRange(min = 1, max = 3) int sh, @ForAll @IntRange(min = 1, max = 3) int sw,
                                @ForAll @IntRange(max = 4) int ph, @ForAll @IntRange(max = 4) int pw,
                                @ForAll @IntRange(min = 1, max = 2) int dh, @ForAll @IntRange(min = 1, max = 2) int dw,
                                @ForAll boolean f64, @ForAll long seed) {
        // paddings reach past the input and the kernel span, so some taps see only padding
        Assume.that(h + 2 * ph >= dh * (kh - 1) + 1 && w + 2 * pw >= dw * (kw - 1) + 1);
        int oh = (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1, ow = (w + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
        int bytes = f64 ? 8 : 4;
        long colElems = (long) c * kh * kw * oh * ow;
        Random r = new Random(seed);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment x = arena.allocate((long) bytes * c * h * w);
            for (long i = 0; i < (long) c * h * w; i++) {
                if (f64) x.setAtIndex(F64, i, r.nextDouble() * 2 - 1);
                else x.setAtIndex(F32, i, r.nextFloat() * 2 - 1);
            }
            MemorySegment expected = arena.allocate(bytes * colElems), got = arena.allocate(bytes * colElems);
            got.fill((byte) 0x7f);   // every element must be written
            Im2col.fill(x, 0, (long) c * h * w, 1, f64, new Im2col.Geometry(c, h, w, kh, kw, sh, sw, ph, pw, dh, dw,
                    oh, ow), expected);
            if (f64) DirectConv.im2colF64(x, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, got);
            else DirectConv.im2colF32(x, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, got);
            assertEquals(-1L, expected.mismatch(got), "im2col differs from Im2col.fill");
        }
    }

    /**
     * Stride 1, dilation 1 (the vectorised fast path): widths past one vector, paddings from none to "same" and
     * beyond, segments sized exactly so the last runs take the in-bounds fallbacks.
     */
    @Property(tries = 200)
    void unitStrideIm2colEqualsIm2colFill(@ForAll @IntRange(min = 1, max = 3) int c,
                                          @ForAll @IntRange(min = 1, max = 40) int h,
                                          @ForAll @IntRange(min = 1, max = 40) int w,
                                          @ForAll @IntRange(min = 1, max = 5) int kh,
                                          @ForAll @IntRange(min = 1, max = 5) int kw,
                                          @ForAll @IntRange(max = 3) int ph, @ForAll @IntRange(max = 3) int pw,
                                          @ForAll long seed) {
        Assume.that(h + 2 * ph >= kh && w + 2 * pw >= kw);
        assertIm2colF32(c, h, w, kh, kw, ph, pw, seed);
    }

    @Example
    void unitStrideIm2colLeNetAndOddShapes() {
        assertIm2colF32(1, 28, 28, 5, 5, 2, 2, 1);   // LeNet conv1, "same" padding
        assertIm2colF32(6, 14, 14, 5, 5, 0, 0, 2);   // LeNet conv2
        assertIm2colF32(3, 7, 7, 3, 3, 1, 1, 3);
        assertIm2colF32(2, 9, 9, 5, 5, 0, 0, 4);
        assertIm2colF32(2, 9, 9, 3, 3, 2, 2, 5);     // padding wider than "same"
        assertIm2colF32(2, 7, 9, 4, 2, 1, 0, 6);
        assertIm2colF32(1, 33, 35, 3, 3, 1, 1, 7);   // runs longer than one vector
        assertIm2colF32(1, 1, 1, 1, 1, 0, 0, 8);
        assertIm2colF32(1, 2, 1, 5, 5, 2, 2, 9);     // ow == w but some taps see only padding
        assertIm2colF32(2, 3, 2, 3, 5, 1, 2, 10);
    }

    /** im2colF32 with stride and dilation 1 into an exactly sized, pre-poisoned col, against Im2col.fill. */
    private static void assertIm2colF32(int c, int h, int w, int kh, int kw, int ph, int pw, long seed) {
        int oh = h + 2 * ph - kh + 1, ow = w + 2 * pw - kw + 1;
        long colElems = (long) c * kh * kw * oh * ow;
        Random r = new Random(seed);
        // shared: Im2col.fill may split larger images across worker threads
        try (Arena arena = Arena.ofShared()) {
            MemorySegment x = arena.allocate(4L * c * h * w);
            for (long i = 0; i < (long) c * h * w; i++) x.setAtIndex(F32, i, r.nextFloat() * 2 - 1);
            MemorySegment expected = arena.allocate(4 * colElems), got = arena.allocate(4 * colElems);
            got.fill((byte) 0x7f);
            Im2col.fill(x, 0, (long) c * h * w, 1, false, new Im2col.Geometry(c, h, w, kh, kw, 1, 1, ph, pw, 1, 1,
                    oh, ow), expected);
            DirectConv.im2colF32(x, c, h, w, kh, kw, 1, 1, ph, pw, 1, 1, oh, ow, got);
            assertEquals(-1L, expected.mismatch(got), () -> "im2col " + c + "x" + h + "x" + w + " kernel " + kh + "x"
                    + kw + " padding " + ph + "x" + pw + " differs from Im2col.fill");
        }
    }

    /** What the code generator emits for a convolution: per image, im2col then one GEMM with the weight. */
    @Property(tries = 120)
    void im2colThenGemmMatchesConv2d(@ForAll @IntRange(min = 1, max = 2) int batch,
                                     @ForAll @IntRange(min = 1, max = 4) int c, @ForAll @IntRange(min = 1, max = 20) int o,
                                     @ForAll @IntRange(min = 1, max = 12) int h, @ForAll @IntRange(min = 1, max = 12) int w,
                                     @ForAll @IntRange(min = 1, max = 5) int kh, @ForAll @IntRange(min = 1, max = 5) int kw,
                                     @ForAll @IntRange(min = 1, max = 2) int stride, @ForAll @IntRange(max = 2) int pad,
                                     @ForAll @IntRange(min = 1, max = 2) int dilation, @ForAll boolean f64,
                                     @ForAll long seed) {
        Assume.that(h + 2 * pad >= dilation * (kh - 1) + 1 && w + 2 * pad >= dilation * (kw - 1) + 1);
        int oh = (h + 2 * pad - dilation * (kh - 1) - 1) / stride + 1;
        int ow = (w + 2 * pad - dilation * (kw - 1) - 1) / stride + 1;
        Random r = new Random(seed);
        DType t = f64 ? DType.F64 : DType.F32;
        NDArray x = Tensors.random(r, t, batch, c, h, w);
        NDArray weight = Tensors.random(r, t, o, c, kh, kw);
        int[] s = {stride, stride}, p = {pad, pad}, d = {dilation, dilation};
        double[][] ref = Naive.conv2d(x, weight, null, s, p, d, 1, oh, ow);
        double[] expected = Conv.conv2d(x, weight, null, s, p, d, 1).toDoubleArray();
        int rows = c * kh * kw, cols = oh * ow, bytes = f64 ? 8 : 4;
        double eps = f64 ? 0x1p-53 : 0x1p-24;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment xs = arena.allocate((long) bytes * batch * c * h * w);
            MemorySegment ws = arena.allocate((long) bytes * o * rows);
            MemorySegment.copy(x.contiguous().segment(), x.contiguous().offset() * bytes, xs, 0, xs.byteSize());
            MemorySegment.copy(weight.contiguous().segment(), weight.contiguous().offset() * bytes, ws, 0,
                    ws.byteSize());
            MemorySegment col = arena.allocate((long) bytes * rows * cols);
            MemorySegment out = arena.allocate((long) bytes * o * cols);
            for (int b = 0; b < batch; b++) {
                MemorySegment image = xs.asSlice((long) b * c * h * w * bytes, (long) c * h * w * bytes);
                if (f64) {
                    DirectConv.im2colF64(image, c, h, w, kh, kw, stride, stride, pad, pad, dilation, dilation, oh,
                            ow, col);
                    DirectGemm.dgemm(o, cols, rows, ws, rows, col, cols, false, out, cols);
                } else {
                    DirectConv.im2colF32(image, c, h, w, kh, kw, stride, stride, pad, pad, dilation, dilation, oh,
                            ow, col);
                    DirectGemm.sgemm(o, cols, rows, ws, rows, col, cols, false, out, cols);
                }
                for (int i = 0; i < o * cols; i++) {
                    int at = b * o * cols + i;
                    double got = f64 ? out.getAtIndex(F64, i) : out.getAtIndex(F32, i);
                    double tol = 4 * eps * rows * ref[1][at] + 1e-30;
                    assertTrue(Math.abs(got - expected[at]) <= tol, "image " + b + " element " + i + ": " + got
                            + " vs conv2d " + expected[at] + " (tolerance " + tol + ")");
                }
            }
        }
    }

    @Property(tries = 250)
    void maxPoolEqualsPoolMaxPool2dBitForBit(@ForAll @IntRange(min = 1, max = 10) int h,
                                             @ForAll @IntRange(min = 1, max = 10) int w,
                                             @ForAll @IntRange(min = 1, max = 4) int kh,
                                             @ForAll @IntRange(min = 1, max = 4) int kw,
                                             @ForAll @IntRange(min = 1, max = 3) int sh,
                                             @ForAll @IntRange(min = 1, max = 3) int sw,
                                             @ForAll @IntRange(max = 2) int ph, @ForAll @IntRange(max = 2) int pw,
                                             @ForAll @IntRange(min = 1, max = 3) int dh,
                                             @ForAll @IntRange(min = 1, max = 3) int dw,
                                             @ForAll boolean ceilMode, @ForAll boolean specials, @ForAll long seed) {
        Assume.that(ph <= kh / 2 && pw <= kw / 2);
        long oh = Pool.outputSize(h, kh, sh, ph, dh, ceilMode), ow = Pool.outputSize(w, kw, sw, pw, dw, ceilMode);
        Assume.that(oh >= 1 && ow >= 1);
        NDArray x = input(new Random(seed), 2, 3, h, w, specials);
        NDArray ref = Pool.maxPool2d(x, new int[] {kh, kw}, new int[] {sh, sw}, new int[] {ph, pw},
                new int[] {dh, dw}, ceilMode);
        assertPool(ref, x, 6, (xs, out) -> DirectPool.maxPool2dF32(xs, 6, h, w, kh, kw, sh, sw, ph, pw, dh, dw,
                (int) oh, (int) ow, out));
    }

    @Property(tries = 250)
    void avgPoolEqualsPoolAvgPool2dBitForBit(@ForAll @IntRange(min = 1, max = 10) int h,
                                             @ForAll @IntRange(min = 1, max = 10) int w,
                                             @ForAll @IntRange(min = 1, max = 4) int kh,
                                             @ForAll @IntRange(min = 1, max = 4) int kw,
                                             @ForAll @IntRange(min = 1, max = 3) int sh,
                                             @ForAll @IntRange(min = 1, max = 3) int sw,
                                             @ForAll @IntRange(max = 2) int ph, @ForAll @IntRange(max = 2) int pw,
                                             @ForAll boolean ceilMode, @ForAll boolean countIncludePad,
                                             @ForAll boolean specials, @ForAll long seed) {
        assertAvgPool(h, w, kh, kw, sh, sw, ph, pw, ceilMode, countIncludePad, specials, seed);
    }

    /** The 2x2 stride-2 fast path: sizes past one vector, odd sizes, ceil mode, NaN/-inf/+inf/-0 sprinkled. */
    @Property(tries = 200)
    void maxPool2x2Stride2EqualsPoolMaxPool2dBitForBit(@ForAll @IntRange(min = 2, max = 40) int h,
                                                       @ForAll @IntRange(min = 2, max = 40) int w,
                                                       @ForAll boolean ceilMode, @ForAll boolean specials,
                                                       @ForAll long seed) {
        assertMaxPool2x2(h, w, ceilMode, specials, seed);
    }

    @Example
    void maxPool2x2Stride2LeNetAndOddShapes() {
        for (boolean ceil : new boolean[] {false, true}) {
            assertMaxPool2x2(28, 28, ceil, true, 1);
            assertMaxPool2x2(10, 10, ceil, true, 2);
            assertMaxPool2x2(7, 7, ceil, true, 3);
            assertMaxPool2x2(9, 9, ceil, true, 4);
            assertMaxPool2x2(9, 33, ceil, true, 5);
            assertMaxPool2x2(2, 2, ceil, false, 6);
        }
    }

    /** Ties between -0 and +0 keep the first in window order; NaN wins wherever it sits; all -inf gives -inf. */
    /** Average pooling over rows wide enough for whole vectors of outputs (strides 1 and 2), bit for bit. */
    @Property(tries = 200)
    void avgPoolWideRowsEqualPoolAvgPool2dBitForBit(@ForAll @IntRange(min = 1, max = 6) int h,
                                                    @ForAll @IntRange(min = 16, max = 80) int w,
                                                    @ForAll @IntRange(min = 1, max = 4) int kh,
                                                    @ForAll @IntRange(min = 1, max = 4) int kw,
                                                    @ForAll @IntRange(min = 1, max = 2) int sh,
                                                    @ForAll @IntRange(min = 1, max = 2) int sw,
                                                    @ForAll @IntRange(max = 2) int ph, @ForAll @IntRange(max = 2) int pw,
                                                    @ForAll boolean ceilMode, @ForAll boolean countIncludePad,
                                                    @ForAll boolean specials, @ForAll long seed) {
        assertAvgPool(h, w, kh, kw, sh, sw, ph, pw, ceilMode, countIncludePad, specials, seed);
    }

    /** Rows wide enough for whole vectors of outputs (the vector path of horizontal strides 1 and 2). */
    @Property(tries = 200)
    void maxPoolWideRowsEqualPoolMaxPool2dBitForBit(@ForAll @IntRange(min = 1, max = 6) int h,
                                                    @ForAll @IntRange(min = 16, max = 80) int w,
                                                    @ForAll @IntRange(min = 1, max = 4) int kh,
                                                    @ForAll @IntRange(min = 1, max = 4) int kw,
                                                    @ForAll @IntRange(min = 1, max = 2) int sh,
                                                    @ForAll @IntRange(min = 1, max = 2) int sw,
                                                    @ForAll @IntRange(max = 2) int ph, @ForAll @IntRange(max = 2) int pw,
                                                    @ForAll @IntRange(min = 1, max = 2) int dw,
                                                    @ForAll boolean ceilMode, @ForAll boolean specials, @ForAll long seed) {
        Assume.that(ph <= kh / 2 && pw <= kw / 2);
        long oh = Pool.outputSize(h, kh, sh, ph, 1, ceilMode), ow = Pool.outputSize(w, kw, sw, pw, dw, ceilMode);
        Assume.that(oh >= 1 && ow >= 1);
        NDArray x = input(new Random(seed), 2, 3, h, w, specials);
        NDArray ref = Pool.maxPool2d(x, new int[] {kh, kw}, new int[] {sh, sw}, new int[] {ph, pw},
                new int[] {1, dw}, ceilMode);
        assertPool(ref, x, 6, (xs, out) -> DirectPool.maxPool2dF32(xs, 6, h, w, kh, kw, sh, sw, ph, pw, 1, dw,
                (int) oh, (int) ow, out));
    }

    /** ResNet's stem pool (3x3, stride 2, padding 1) over enough planes that two threads split them. */
    @Example
    void maxPoolSplitOverThreadsEqualsPoolMaxPool2d() {
        int planes = 48, h = 56, w = 56;
        NDArray x = input(new Random(11), 2, planes / 2, h, w, true);
        NDArray ref = Pool.maxPool2d(x, new int[] {3, 3}, new int[] {2, 2}, new int[] {1, 1}, new int[] {1, 1}, false);
        float[] xv = x.toFloatArray(), expected = ref.toFloatArray();
        int before = Parallel.threads();
        Parallel.setThreads(2);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment xs = arena.allocate(4L * xv.length), out = arena.allocate(4L * expected.length);
            MemorySegment.copy(xv, 0, xs, F32, 0, xv.length);
            DirectPool.maxPool2dF32(xs, planes, h, w, 3, 3, 2, 2, 1, 1, 1, 1, 28, 28, out);
            float[] got = out.toArray(F32);
            for (int i = 0; i < got.length; i++) {
                assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(got[i]), "output " + i);
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    @Example
    void maxPool2x2Stride2SpecialValues() {
        float nan = Float.NaN, inf = Float.NEGATIVE_INFINITY;
        int w = 18;   // 9 windows per row: one full 8-lane chunk plus a tail on 512-bit vectors
        float[][] windows = {{-0f, 0f, -1, -2}, {0f, -0f, -1, -2}, {-1, -0f, 0f, -2}, {-1, -2, -0f, 0f},
                {1, nan, 2, 3}, {nan, 1, 2, 3}, {1, 2, 3, nan}, {inf, inf, inf, inf}, {inf, -0f, inf, inf}};
        float[] x = new float[2 * w];
        for (int k = 0; k < windows.length; k++) {
            x[2 * k] = windows[k][0];
            x[2 * k + 1] = windows[k][1];
            x[w + 2 * k] = windows[k][2];
            x[w + 2 * k + 1] = windows[k][3];
        }
        NDArray xt = NDArray.of(x, 1, 1, 2, w);
        NDArray ref = Pool.maxPool2d(xt, new int[] {2, 2}, new int[] {2, 2}, new int[] {0, 0}, new int[] {1, 1},
                false);
        assertPool(ref, xt, 1, (xs, out) -> DirectPool.maxPool2dF32(xs, 1, 2, w, 2, 2, 2, 2, 0, 0, 1, 1, 1, 9, out));
        float[] got = ref.toFloatArray();
        assertEquals(Float.floatToIntBits(-0f), Float.floatToIntBits(got[0]));
        assertEquals(Float.floatToIntBits(0f), Float.floatToIntBits(got[1]));
        assertEquals(Float.floatToIntBits(-0f), Float.floatToIntBits(got[2]));
        assertEquals(Float.floatToIntBits(-0f), Float.floatToIntBits(got[3]));
        assertTrue(Float.isNaN(got[4]) && Float.isNaN(got[5]) && Float.isNaN(got[6]));
        assertEquals(inf, got[7]);
        assertEquals(Float.floatToIntBits(-0f), Float.floatToIntBits(got[8]));
    }

    /** Average pooling of two images of three h x w planes against {@link Pool#avgPool2d}, bit for bit. */
    private static void assertAvgPool(int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, boolean ceilMode,
                                      boolean countIncludePad, boolean specials, long seed) {
        Assume.that(ph <= kh / 2 && pw <= kw / 2);
        long oh = Pool.outputSize(h, kh, sh, ph, 1, ceilMode), ow = Pool.outputSize(w, kw, sw, pw, 1, ceilMode);
        Assume.that(oh >= 1 && ow >= 1);
        NDArray x = input(new Random(seed), 2, 3, h, w, specials);
        NDArray ref = Pool.avgPool2d(x, new int[] {kh, kw}, new int[] {sh, sw}, new int[] {ph, pw}, ceilMode,
                countIncludePad);
        assertPool(ref, x, 6, (xs, out) -> DirectPool.avgPool2dF32(xs, 6, h, w, kh, kw, sh, sw, ph, pw, (int) oh,
                (int) ow, countIncludePad, out));
    }

    private static void assertMaxPool2x2(int h, int w, boolean ceilMode, boolean specials, long seed) {
        long oh = Pool.outputSize(h, 2, 2, 0, 1, ceilMode), ow = Pool.outputSize(w, 2, 2, 0, 1, ceilMode);
        NDArray x = input(new Random(seed), 2, 3, h, w, specials);
        NDArray ref = Pool.maxPool2d(x, new int[] {2, 2}, new int[] {2, 2}, new int[] {0, 0}, new int[] {1, 1},
                ceilMode);
        assertPool(ref, x, 6, (xs, out) -> DirectPool.maxPool2dF32(xs, 6, h, w, 2, 2, 2, 2, 0, 0, 1, 1, (int) oh,
                (int) ow, out));
    }

    @Example
    void maxPoolPropagatesNanAndKeepsMinusInfinity() {
        float nan = Float.NaN, inf = Float.NEGATIVE_INFINITY;
        // 1 plane 2x4, windows 2x2 stride 2: {nan, 1, 2, 3} -> NaN; {inf, inf, inf, inf} -> -inf
        float[] x = {nan, 1, inf, inf, 2, 3, inf, inf};
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment xs = arena.allocate(4L * x.length), out = arena.allocate(8);
            MemorySegment.copy(x, 0, xs, F32, 0, x.length);
            DirectPool.maxPool2dF32(xs, 1, 2, 4, 2, 2, 2, 2, 0, 0, 1, 1, 1, 2, out);
            assertTrue(Float.isNaN(out.getAtIndex(F32, 0)));
            assertEquals(inf, out.getAtIndex(F32, 1));
        }
    }

    @Example
    void badGeometryIsRejected() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment x = arena.allocate(4L * 16), out = arena.allocate(4L * 4);
            assertThrows(IllegalArgumentException.class,
                    () -> DirectPool.maxPool2dF32(x, 1, 4, 4, 2, 2, 0, 2, 0, 0, 1, 1, 2, 2, out));
            assertThrows(IllegalArgumentException.class,
                    () -> DirectPool.avgPool2dF32(x, 2, 4, 4, 2, 2, 2, 2, 0, 0, 2, 2, false, out));
            assertThrows(IllegalArgumentException.class,
                    () -> DirectConv.im2colF32(x, 1, 4, 4, 3, 3, 1, 1, 0, 0, 1, 1, 2, 2, out));
            assertThrows(IllegalArgumentException.class,
                    () -> DirectConv.im2colF64(x, 1, 4, 4, 1, 1, 1, 1, 0, 0, 0, 1, 4, 4, x));
        }
    }

    /** Random planes, with NaN, -inf, +inf and -0.0 sprinkled in when {@code specials}. */
    private static NDArray input(Random r, int n, int c, int h, int w, boolean specials) {
        float[] v = new float[n * c * h * w];
        float[] special = {Float.NaN, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, -0f, 0f};
        for (int i = 0; i < v.length; i++) {
            v[i] = specials && r.nextInt(6) == 0 ? special[r.nextInt(special.length)] : r.nextFloat() * 2 - 1;
        }
        return NDArray.of(v, n, c, h, w);
    }

    private interface PoolCall {
        void run(MemorySegment x, MemorySegment out);
    }

    private static void assertPool(NDArray ref, NDArray x, int planes, PoolCall call) {
        float[] xv = x.toFloatArray(), expected = ref.toFloatArray();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment xs = arena.allocate(4L * xv.length), out = arena.allocate(4L * expected.length);
            MemorySegment.copy(xv, 0, xs, F32, 0, xv.length);
            out.fill((byte) 0x7f);
            call.run(xs, out);
            float[] got = out.toArray(F32);
            int[] e = new int[got.length], g = new int[got.length];
            for (int i = 0; i < got.length; i++) {
                e[i] = Float.floatToIntBits(expected[i]);   // canonical NaN
                g[i] = Float.floatToIntBits(got[i]);
            }
            assertArrayEquals(e, g, () -> "expected " + java.util.Arrays.toString(expected) + "\n got "
                    + java.util.Arrays.toString(got) + " (" + planes + " planes)");
        }
    }
}
