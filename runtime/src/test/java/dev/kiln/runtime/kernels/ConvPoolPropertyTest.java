package dev.kiln.runtime.kernels;

import dev.kiln.ir.DType;
import dev.kiln.runtime.NDArray;
import net.jqwik.api.Assume;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** conv2d and pooling against direct loops written from the PyTorch definitions. */
class ConvPoolPropertyTest {

    @Property(tries = 120)
    void conv2dMatchesDirectConvolution(@ForAll @IntRange(min = 1, max = 2) int batch,
                                        @ForAll @IntRange(min = 1, max = 3) int groups,
                                        @ForAll @IntRange(min = 1, max = 3) int inPerGroup,
                                        @ForAll @IntRange(min = 1, max = 3) int outPerGroup,
                                        @ForAll @IntRange(min = 1, max = 9) int h, @ForAll @IntRange(min = 1, max = 9) int w,
                                        @ForAll @IntRange(min = 1, max = 5) int kh, @ForAll @IntRange(min = 1, max = 5) int kw,
                                        @ForAll @IntRange(min = 1, max = 3) int stride, @ForAll @IntRange(max = 4) int pad,
                                        @ForAll @IntRange(max = 4) int padW, @ForAll @IntRange(min = 1, max = 2) int dilation,
                                        @ForAll @IntRange(min = 1, max = 2) int dilationW, @ForAll boolean bias,
                                        @ForAll boolean channelsLastView, @ForAll boolean f64, @ForAll long seed) {
        // paddings reach past the input and the kernel span, so some taps see only padding
        int[] s = {stride, 1 + (stride % 2)}, p = {pad, padW}, d = {dilation, dilationW};
        long oh = (h + 2L * p[0] - d[0] * (kh - 1L) - 1) / s[0] + 1;
        long ow = (w + 2L * p[1] - d[1] * (kw - 1L) - 1) / s[1] + 1;
        Assume.that(h + 2L * p[0] >= d[0] * (kh - 1L) + 1 && w + 2L * p[1] >= d[1] * (kw - 1L) + 1);
        Random r = new Random(seed);
        DType t = f64 ? DType.F64 : DType.F32;
        int c = groups * inPerGroup, o = groups * outPerGroup;
        NDArray x = channelsLastView
                ? Tensors.random(r, t, batch, h, w, c).permute(0, 3, 1, 2)
                : Tensors.random(r, t, batch, c, h, w);
        NDArray weight = Tensors.random(r, t, o, inPerGroup, kh, kw);
        NDArray b = bias ? Tensors.random(r, t, o) : null;
        NDArray y = Conv.conv2d(x, weight, b, s, p, d, groups);
        Tensors.assertShape(new long[] {batch, o, oh, ow}, y);
        double[][] ref = Naive.conv2d(x, weight, b, s, p, d, groups, oh, ow);
        double eps = f64 ? 1e-14 : 1e-6;
        double[] tol = new double[ref[1].length];
        int k = inPerGroup * kh * kw + 1;
        for (int i = 0; i < tol.length; i++) tol[i] = 2 * eps * k * ref[1][i] + 1e-30;
        Tensors.assertClose(ref[0], y, tol, "conv2d");
    }

    /** Regression: a tap lying wholly in the padding (pad 2 on a width-1 input, kernel width 5) used to overrun. */
    @Example
    void paddingWiderThanTheInputMatches() {
        Random r = new Random(3);
        for (DType t : new DType[] {DType.F32, DType.F64}) {
            NDArray x = Tensors.random(r, t, 1, 4, 1, 1);
            NDArray w = Tensors.random(r, t, 4, 4, 1, 5);
            int[] s = {1, 1}, p = {0, 2}, d = {1, 1};
            NDArray y = Conv.conv2d(x, w, null, s, p, d, 1);
            Tensors.assertShape(new long[] {1, 4, 1, 1}, y);
            Tensors.assertClose(Naive.conv2d(x, w, null, s, p, d, 1, 1, 1)[0], y, 1e-5, "conv2d " + t);
        }
    }

    @Example
    void pointwiseConvolutionSkipsIm2colAndStillMatches() {
        Random r = new Random(7);
        NDArray x = Tensors.randomF32(r, 2, 6, 5, 4);
        NDArray w = Tensors.randomF32(r, 4, 3, 1, 1);
        NDArray y = Conv.conv2d(x, w, null, null, null, null, 2);
        double[][] ref = Naive.conv2d(x, w, null, new int[] {1, 1}, new int[] {0, 0}, new int[] {1, 1}, 2, 5, 4);
        Tensors.assertClose(ref[0], y, 1e-5, "1x1 conv");
        NDArray single = Tensors.randomF32(r, 6, 5, 4);
        NDArray unbatched = Conv.conv2d(single, w, null, null, null, null, 2);
        Tensors.assertShape(new long[] {4, 5, 4}, unbatched);
        assertArrayEquals(Conv.conv2d(single.unsqueeze(0), w, null, null, null, null, 2).toFloatArray(),
                unbatched.toFloatArray());
    }

    @Property(tries = 150)
    void maxPoolMatchesDefinition(@ForAll @IntRange(min = 1, max = 8) int h, @ForAll @IntRange(min = 1, max = 8) int w,
                                  @ForAll @IntRange(min = 1, max = 4) int k, @ForAll @IntRange(min = 1, max = 3) int stride,
                                  @ForAll @IntRange(max = 2) int pad, @ForAll @IntRange(min = 1, max = 2) int dilation,
                                  @ForAll boolean ceilMode, @ForAll long seed) {
        Assume.that(pad <= k / 2);
        long oh = referenceOutputSize(h, k, stride, pad, dilation, ceilMode);
        long ow = referenceOutputSize(w, k, stride, pad, dilation, ceilMode);
        Assume.that(oh >= 1 && ow >= 1);
        NDArray x = Tensors.randomF32(new Random(seed), 2, 3, h, w);
        NDArray y = Pool.maxPool2d(x, new int[] {k}, new int[] {stride}, new int[] {pad}, new int[] {dilation}, ceilMode);
        Tensors.assertShape(new long[] {2, 3, oh, ow}, y);
        double[] expected = new double[(int) (6 * oh * ow)];
        int idx = 0;
        for (int plane = 0; plane < 6; plane++) {
            for (long i = 0; i < oh; i++) {
                for (long j = 0; j < ow; j++) {
                    double max = Double.NEGATIVE_INFINITY;
                    for (int a = 0; a < k; a++) {
                        for (int b = 0; b < k; b++) {
                            long yy = i * stride - pad + (long) a * dilation, xx = j * stride - pad + (long) b * dilation;
                            if (yy >= 0 && yy < h && xx >= 0 && xx < w) {
                                max = Math.max(max, x.getDouble(plane / 3, plane % 3, yy, xx));
                            }
                        }
                    }
                    expected[idx++] = max;
                }
            }
        }
        Tensors.assertClose(expected, y, 0, "maxPool2d");
    }

    @Property(tries = 150)
    void avgPoolMatchesDefinition(@ForAll @IntRange(min = 1, max = 8) int h, @ForAll @IntRange(min = 1, max = 8) int w,
                                  @ForAll @IntRange(min = 1, max = 4) int k, @ForAll @IntRange(min = 1, max = 3) int stride,
                                  @ForAll @IntRange(max = 2) int pad, @ForAll boolean ceilMode,
                                  @ForAll boolean countIncludePad, @ForAll long seed) {
        Assume.that(pad <= k / 2);
        long oh = referenceOutputSize(h, k, stride, pad, 1, ceilMode);
        long ow = referenceOutputSize(w, k, stride, pad, 1, ceilMode);
        Assume.that(oh >= 1 && ow >= 1);
        NDArray x = Tensors.randomF32(new Random(seed), 1, 2, h, w);
        NDArray y = Pool.avgPool2d(x, new int[] {k}, new int[] {stride}, new int[] {pad}, ceilMode, countIncludePad);
        Tensors.assertShape(new long[] {1, 2, oh, ow}, y);
        double[] expected = new double[(int) (2 * oh * ow)];
        int idx = 0;
        for (int plane = 0; plane < 2; plane++) {
            for (long i = 0; i < oh; i++) {
                for (long j = 0; j < ow; j++) {
                    double sum = 0;
                    int real = 0, padded = 0;
                    for (int a = 0; a < k; a++) {
                        for (int b = 0; b < k; b++) {
                            long yy = i * stride - pad + a, xx = j * stride - pad + b;
                            boolean inside = yy >= 0 && yy < h && xx >= 0 && xx < w;
                            boolean inPadding = yy >= -pad && yy < h + pad && xx >= -pad && xx < w + pad;
                            if (inside) {
                                sum += x.getDouble(0, plane, yy, xx);
                                real++;
                            } else if (inPadding) {
                                padded++;
                            }
                        }
                    }
                    int divisor = countIncludePad ? real + padded : real;
                    expected[idx++] = real == 0 ? 0 : sum / divisor;
                }
            }
        }
        Tensors.assertClose(expected, y, 1e-6, "avgPool2d");
    }

    /**
     * Output size as the PyTorch MaxPool2d documentation states it: floor (or ceil) of
     * {@code (in + 2p - d(k-1) - 1) / s + 1}, where in ceil mode windows that would start in the right padding
     * are ignored.
     */
    private static long referenceOutputSize(int in, int k, int stride, int pad, int dilation, boolean ceilMode) {
        double raw = (in + 2.0 * pad - dilation * (k - 1.0) - 1) / stride + 1;
        long out = (long) (ceilMode ? Math.ceil(raw) : Math.floor(raw));
        while (ceilMode && out > 0 && (out - 1) * stride - pad >= in) out--;
        return out;
    }

    @Example
    void ceilModeDropsAWindowStartingInTheRightPadding() {
        float[] data = new float[25];
        for (int i = 0; i < 25; i++) data[i] = i;
        NDArray x = NDArray.of(data, 1, 1, 5, 5);
        // Windows start at -1 and 2; a third would start at 5, inside the right padding, so ceil mode drops it.
        NDArray y = Pool.maxPool2d(x, new int[] {3}, new int[] {3}, new int[] {1}, null, true);
        assertArrayEquals(new long[] {1, 1, 2, 2}, y.shape());
        assertArrayEquals(new float[] {6, 9, 21, 24}, y.toFloatArray());
        // Without padding ceil mode keeps the partial window starting at 3: rows 3..4.
        NDArray z = Pool.maxPool2d(x, new int[] {3}, new int[] {3}, null, null, true);
        assertArrayEquals(new float[] {12, 14, 22, 24}, z.toFloatArray());
    }

    @Example
    void avgPoolDivisorCountsPaddingOnlyWhenAsked() {
        NDArray ones = NDArray.full(DType.F32, 1, 1, 1, 3, 3);
        NDArray incl = Pool.avgPool2d(ones, new int[] {2}, new int[] {2}, new int[] {1}, false, true);
        assertArrayEquals(new float[] {0.25f, 0.5f, 0.5f, 1f}, incl.toFloatArray());
        NDArray excl = Pool.avgPool2d(ones, new int[] {2}, new int[] {2}, new int[] {1}, false, false);
        assertArrayEquals(new float[] {1f, 1f, 1f, 1f}, excl.toFloatArray());
    }

    @Example
    void halfPrecisionConvolutionAndPoolingComputeInF32AndRoundOnce() {
        Random r = new Random(9);
        NDArray x = Tensors.randomF32(r, 1, 2, 6, 6).to(DType.BF16);
        NDArray w = Tensors.randomF32(r, 3, 2, 3, 3).to(DType.BF16);
        NDArray y = Conv.conv2d(x, w, null, null, new int[] {1}, null, 1);
        assertEquals(DType.BF16, y.dtype());
        double[][] ref = Naive.conv2d(x, w, null, new int[] {1, 1}, new int[] {1, 1}, new int[] {1, 1}, 1, 6, 6);
        double[] tol = new double[ref[0].length];
        for (int i = 0; i < tol.length; i++) tol[i] = 0x1p-8 * Math.abs(ref[0][i]) + 1e-5 * ref[1][i];
        Tensors.assertClose(ref[0], y, tol, "bf16 conv2d");
        NDArray h = x.to(DType.F16);
        NDArray pooled = Pool.maxPool2d(h, new int[] {2}, null, null, null, false);
        assertEquals(DType.F16, pooled.dtype());
        assertArrayEquals(Pool.maxPool2d(h.to(DType.F32), new int[] {2}, null, null, null, false).toFloatArray(),
                pooled.toFloatArray(), "max of f16 values is exact");
    }
}
