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
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Pooling gradients and adaptive average pooling against direct definitions. */
class NnPoolGradPropertyTest {

    @Property(tries = 80)
    void maxPoolGradientGoesToTheFirstMaximumOfEachWindow(@ForAll @IntRange(min = 1, max = 7) int h,
                                                         @ForAll @IntRange(min = 1, max = 7) int w,
                                                         @ForAll @IntRange(min = 1, max = 3) int k,
                                                         @ForAll @IntRange(min = 1, max = 3) int stride,
                                                         @ForAll @IntRange(max = 1) int pad,
                                                         @ForAll @IntRange(min = 1, max = 2) int dilation,
                                                         @ForAll boolean ceilMode, @ForAll boolean f64,
                                                         @ForAll boolean ties, @ForAll long seed) {
        Assume.that(pad <= k / 2);
        long oh = Pool.outputSize(h, k, stride, pad, dilation, ceilMode), ow = Pool.outputSize(w, k, stride, pad, dilation, ceilMode);
        Assume.that(oh >= 1 && ow >= 1);
        Random r = new Random(seed);
        DType t = f64 ? DType.F64 : DType.F32;
        NDArray x = Tensors.random(r, t, 2, 2, w, h).transpose(2, 3); // a strided view
        if (ties) for (long i = 0; i < x.numel(); i++) x.setFlat(i, r.nextInt(3)); // many equal maxima
        NDArray g = Tensors.random(r, t, 2, 2, oh, ow);
        int[] kk = {k, k}, s = {stride, stride}, p = {pad, pad}, d = {dilation, dilation};
        NDArray dx = PoolGrad.maxPool2dGrad(g, x, kk, s, p, d, ceilMode);
        Tensors.assertShape(x.shape(), dx);
        double[] expected = new double[(int) x.numel()];
        for (int plane = 0; plane < 4; plane++) {
            for (long i = 0; i < oh; i++) {
                for (long j = 0; j < ow; j++) {
                    double max = Double.NEGATIVE_INFINITY;
                    long at = -1;
                    for (int a = 0; a < k; a++) {
                        for (int b = 0; b < k; b++) {
                            long yy = i * stride - pad + (long) a * dilation, xx = j * stride - pad + (long) b * dilation;
                            if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
                            double v = x.getDouble(plane / 2, plane % 2, yy, xx);
                            if (at < 0 || v > max) {
                                max = v;
                                at = (plane * (long) h + yy) * w + xx;
                            }
                        }
                    }
                    if (at >= 0) expected[(int) at] += g.getDouble(plane / 2, plane % 2, i, j);
                }
            }
        }
        Tensors.assertClose(expected, dx, f64 ? 1e-15 : 1e-6, "max_pool2d grad");
    }

    @Property(tries = 60)
    void avgPoolGradientIsTheAdjointOfTheForward(@ForAll @IntRange(min = 1, max = 6) int h,
                                                 @ForAll @IntRange(min = 1, max = 6) int w,
                                                 @ForAll @IntRange(min = 1, max = 3) int k,
                                                 @ForAll @IntRange(min = 1, max = 3) int stride,
                                                 @ForAll @IntRange(max = 1) int pad, @ForAll boolean ceilMode,
                                                 @ForAll boolean countIncludePad, @ForAll long seed) {
        Assume.that(pad <= k / 2);
        long oh = Pool.outputSize(h, k, stride, pad, 1, ceilMode), ow = Pool.outputSize(w, k, stride, pad, 1, ceilMode);
        Assume.that(oh >= 1 && ow >= 1);
        int[] kk = {k, k}, s = {stride, stride}, p = {pad, pad};
        NDArray g = Tensors.random(new Random(seed), DType.F64, 1, 2, oh, ow);
        NDArray dx = PoolGrad.avgPool2dGrad(g, new int[] {h, w}, kk, s, p, ceilMode, countIncludePad);
        Tensors.assertShape(new long[] {1, 2, h, w}, dx);
        double[] expected = NnNaive.linearAdjoint(e -> Pool.avgPool2d(NDArray.of(e, 1, 2, h, w), kk, s, p, ceilMode,
                countIncludePad).toDoubleArray(), 2 * h * w, g.toDoubleArray());
        Tensors.assertClose(expected, dx, 1e-14, "avg_pool2d grad");
    }

    @Property(tries = 60)
    void adaptiveAvgPoolMatchesItsDefinitionAndItsGradientIsTheAdjoint(@ForAll @IntRange(min = 1, max = 9) int h,
                                                                      @ForAll @IntRange(min = 1, max = 9) int w,
                                                                      @ForAll @IntRange(min = 1, max = 5) int oh,
                                                                      @ForAll @IntRange(min = 1, max = 5) int ow,
                                                                      @ForAll boolean f64, @ForAll long seed) {
        Random r = new Random(seed);
        DType t = f64 ? DType.F64 : DType.F32;
        NDArray x = Tensors.random(r, t, 2, 3, h, w);
        NDArray y = AdaptivePool.adaptiveAvgPool2d(x, new int[] {oh, ow});
        Tensors.assertShape(new long[] {2, 3, oh, ow}, y);
        Tensors.assertClose(NnNaive.adaptiveAvgPool2d(x, oh, ow), y, f64 ? 1e-15 : 1e-6, "adaptive_avg_pool2d");
        NDArray g = Tensors.random(r, DType.F64, 1, 1, oh, ow);
        NDArray dx = AdaptivePool.adaptiveAvgPool2dGrad(g, new int[] {h, w});
        double[] expected = NnNaive.linearAdjoint(e -> NnNaive.adaptiveAvgPool2d(NDArray.of(e, 1, 1, h, w), oh, ow), h * w,
                g.toDoubleArray());
        Tensors.assertClose(expected, dx, 1e-14, "adaptive_avg_pool2d grad");
    }

    @Example
    void adaptivePoolingToOneIsTheGlobalMeanAndWindowsMayOverlap() {
        NDArray x = NDArray.of(new float[] {1, 2, 3, 4, 5, 6}, 1, 1, 2, 3);
        assertArrayEquals(new float[] {3.5f}, AdaptivePool.adaptiveAvgPool2d(x, new int[] {1, 1}).toFloatArray());
        // W=3 into 2: windows [0, 2) and [1, 3) share the middle column.
        assertArrayEquals(new float[] {1.5f, 2.5f, 4.5f, 5.5f}, AdaptivePool.adaptiveAvgPool2d(x, new int[] {2, 2}).toFloatArray());
        NDArray dx = AdaptivePool.adaptiveAvgPool2dGrad(NDArray.full(DType.F32, 1, 1, 1, 2, 2), new int[] {2, 3});
        assertArrayEquals(new float[] {0.5f, 1f, 0.5f, 0.5f, 1f, 0.5f}, dx.toFloatArray());
    }

    @Example
    void maxPoolTiesAndNaNFollowPyTorch() {
        NDArray x = NDArray.of(new float[] {1, 5, 5, 1}, 1, 1, 2, 2);
        NDArray g = NDArray.of(new float[] {1}, 1, 1, 1, 1);
        int[] two = {2, 2};
        assertArrayEquals(new float[] {0, 1, 0, 0}, PoolGrad.maxPool2dGrad(g, x, two, two, null, null, false).toFloatArray());
        NDArray nan = NDArray.of(new float[] {Float.NaN, 5, Float.NaN, 9}, 1, 1, 2, 2);
        assertArrayEquals(new float[] {0, 0, 1, 0}, PoolGrad.maxPool2dGrad(g, nan, two, two, null, null, false).toFloatArray());
    }

    @Example
    void gradOutMustHaveThePooledShape() {
        NDArray x = NDArray.zeros(DType.F32, 1, 1, 4, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PoolGrad.maxPool2dGrad(
                NDArray.zeros(DType.F32, 1, 1, 3, 3), x, new int[] {2, 2}, new int[] {2, 2}, null, null, false));
        assertEquals("max_pool2d_grad: grad_out [1, 1, 3, 3] does not match the pooled shape [1, 1, 2, 2]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> AdaptivePool.adaptiveAvgPool2d(
                NDArray.zeros(DType.I64, 1, 1, 2, 2), new int[] {1, 1}));
        assertEquals("adaptive_avg_pool2d: expects a floating-point tensor, got i64 of shape [1, 1, 2, 2]", e.getMessage());
    }
}
