package dev.kiln.runtime.kernels;

import dev.kiln.ir.DType;
import dev.kiln.runtime.NDArray;
import net.jqwik.api.Assume;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** conv2d's input and weight gradients against direct scatter loops, over random geometries in f32 and f64. */
class NnConvGradPropertyTest {

    @Property(tries = 60)
    void inputAndWeightGradientsMatchDirectLoops(@ForAll @IntRange(min = 1, max = 3) int batch,
                                                 @ForAll @IntRange(min = 1, max = 2) int groups,
                                                 @ForAll @IntRange(min = 1, max = 3) int inPerGroup,
                                                 @ForAll @IntRange(min = 1, max = 3) int outPerGroup,
                                                 @ForAll @IntRange(min = 1, max = 8) int h, @ForAll @IntRange(min = 1, max = 8) int w,
                                                 @ForAll @IntRange(min = 1, max = 3) int kh, @ForAll @IntRange(min = 1, max = 3) int kw,
                                                 @ForAll @IntRange(min = 1, max = 3) int stride, @ForAll @IntRange(max = 2) int pad,
                                                 @ForAll @IntRange(min = 1, max = 2) int dilation, @ForAll boolean f64,
                                                 @ForAll boolean channelsLast, @ForAll long seed) {
        int[] s = {stride, 1 + stride % 2}, p = {pad, (pad + 1) % 3}, d = {dilation, 3 - dilation};
        long oh = ConvGrad.natural(h, kh, s[0], p[0], d[0]), ow = ConvGrad.natural(w, kw, s[1], p[1], d[1]);
        Assume.that(oh >= 1 && ow >= 1);
        Random r = new Random(seed);
        DType t = f64 ? DType.F64 : DType.F32;
        int c = groups * inPerGroup, o = groups * outPerGroup;
        NDArray x = channelsLast ? Tensors.random(r, t, batch, h, w, c).permute(0, 3, 1, 2) : Tensors.random(r, t, batch, c, h, w);
        NDArray weight = Tensors.random(r, t, o, inPerGroup, kh, kw);
        NDArray g = channelsLast ? Tensors.random(r, t, batch, oh, ow, o).permute(0, 3, 1, 2) : Tensors.random(r, t, batch, o, oh, ow);
        double tol = f64 ? 1e-12 : 1e-4;

        NDArray dx = ConvGrad.conv2dInputGrad(g, weight, new int[] {h, w}, s, p, d, groups);
        Tensors.assertShape(new long[] {batch, c, h, w}, dx);
        Tensors.assertCloseRel(NnNaive.conv2dInputGrad(g, weight, h, w, s, p, d, groups), dx, tol, "conv2d input grad");

        NDArray dw = ConvGrad.conv2dWeightGrad(x, g, new int[] {kh, kw}, s, p, d, groups);
        Tensors.assertShape(new long[] {o, inPerGroup, kh, kw}, dw);
        Tensors.assertCloseRel(NnNaive.conv2dWeightGrad(x, g, kh, kw, s, p, d, groups), dw, tol, "conv2d weight grad");
    }

    @Property(tries = 20)
    void gradientsAreTheAdjointsOfTheForwardConvolution(@ForAll @IntRange(min = 1, max = 6) int h,
                                                        @ForAll @IntRange(min = 1, max = 3) int k,
                                                        @ForAll @IntRange(min = 1, max = 2) int stride,
                                                        @ForAll @IntRange(max = 1) int pad, @ForAll long seed) {
        Assume.that(h + 2 * pad >= k);
        Random r = new Random(seed);
        int[] s = {stride, stride}, p = {pad, pad}, d = {1, 1};
        NDArray x = Tensors.random(r, DType.F64, 2, 2, h, h);
        NDArray w = Tensors.random(r, DType.F64, 3, 2, k, k);
        NDArray y = Conv.conv2d(x, w, null, s, p, d, 1);
        NDArray g = Tensors.random(r, DType.F64, y.shape());
        // <conv(x, w), g> = <x, dx> = <w, dw> since conv is bilinear.
        double lhs = dot(y, g);
        assertEquals(lhs, dot(x, ConvGrad.conv2dInputGrad(g, w, new int[] {h, h}, s, p, d, 1)), 1e-10);
        assertEquals(lhs, dot(w, ConvGrad.conv2dWeightGrad(x, g, new int[] {k, k}, s, p, d, 1)), 1e-10);
    }

    @Example
    void chunksOfImagesGiveTheSameWeightGradientAsOneImageAtATime() {
        // Enough images that the unfolded matrix exceeds the chunk budget, so several chunks accumulate.
        Random r = new Random(3);
        long perImage = 8L * 5 * 5 * 30 * 30 * 4;
        int batch = (int) (ConvCore.COL_BUDGET_BYTES / perImage) + 2;
        NDArray x = Tensors.random(r, DType.F32, batch, 8, 30, 30);
        NDArray g = Tensors.random(r, DType.F32, batch, 2, 30, 30);
        int[] one = {1, 1}, pad = {2, 2}, k = {5, 5};
        NDArray dw = ConvGrad.conv2dWeightGrad(x, g, k, one, pad, one, 1);
        double[] sum = new double[dw.toDoubleArray().length];
        for (int b = 0; b < batch; b += 16) {
            int n = Math.min(16, batch - b);
            double[] part = ConvGrad.conv2dWeightGrad(slice(x, b, n), slice(g, b, n), k, one, pad, one, 1).toDoubleArray();
            for (int i = 0; i < sum.length; i++) sum[i] += part[i];
        }
        Tensors.assertCloseRel(sum, dw, 1e-3, "chunked weight grad");
        NDArray dx = ConvGrad.conv2dInputGrad(g, dw, new int[] {30, 30}, one, pad, one, 1);
        NDArray last = ConvGrad.conv2dInputGrad(slice(g, batch - 1, 1), dw, new int[] {30, 30}, one, pad, one, 1);
        Tensors.assertCloseRel(last.toDoubleArray(), slice(dx, batch - 1, 1), 1e-5, "chunked input grad");
    }

    @Example
    void badArgumentsNameTheOp() {
        NDArray g = NDArray.zeros(DType.F32, 1, 4, 3, 3);
        NDArray w = NDArray.zeros(DType.F32, 4, 2, 3, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ConvGrad.conv2dInputGrad(g, w, new int[] {6, 6}, null, null, null, 1));
        assertTrue(e.getMessage().startsWith("conv2d_input_grad: grad_out [1, 4, 3, 3] does not match"), e.getMessage());
        NDArray x = NDArray.zeros(DType.F32, 1, 2, 5, 5);
        e = assertThrows(IllegalArgumentException.class,
                () -> ConvGrad.conv2dWeightGrad(x, NDArray.zeros(DType.F32, 1, 4, 4, 4), new int[] {3, 3}, null, null, null, 1));
        assertTrue(e.getMessage().startsWith("conv2d_weight_grad: grad_out [1, 4, 4, 4] has more positions"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> ConvGrad.conv2dWeightGrad(x, NDArray.zeros(DType.F64, 1, 4, 3, 3), new int[] {3, 3}, null, null, null, 1));
        assertTrue(e.getMessage().startsWith("conv2d_weight_grad: dtypes f32 and f64 differ"), e.getMessage());
    }

    static double dot(NDArray a, NDArray b) {
        double[] x = a.toDoubleArray(), y = b.toDoubleArray();
        assertEquals(x.length, y.length);
        double s = 0;
        for (int i = 0; i < x.length; i++) s += x[i] * y[i];
        return s;
    }

    private static NDArray slice(NDArray t, int start, int n) {
        long[] shape = t.shape();
        long per = t.numel() / shape[0];
        shape[0] = n;
        double[] all = t.toDoubleArray();
        NDArray out = NDArray.zeros(t.dtype(), shape);
        for (long i = 0; i < n * per; i++) out.setFlat(i, all[(int) (start * per + i)]);
        return out;
    }
}
