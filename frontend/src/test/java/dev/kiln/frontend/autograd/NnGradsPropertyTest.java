package dev.kiln.frontend.autograd;

import dev.kiln.frontend.Dispatch;
import dev.kiln.frontend.F;
import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import dev.kiln.ir.Builder;
import dev.kiln.ir.DType;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.RandomSource;
import net.jqwik.api.Assume;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.util.List;
import java.util.Map;

import static dev.kiln.frontend.autograd.GradCheck.check;
import static dev.kiln.frontend.autograd.GradCheck.leaf;
import static dev.kiln.frontend.autograd.GradCheck.leafIn;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** Gradient checks of the convolution, pooling, normalisation and embedding ops in f64 on small random shapes. */
class NnGradsPropertyTest {

    @Property(tries = 15)
    void conv2d(@ForAll @IntRange(min = 1, max = 2) int groups, @ForAll @IntRange(min = 1, max = 2) int inPerGroup,
                @ForAll @IntRange(min = 1, max = 2) int outPerGroup, @ForAll @IntRange(min = 1, max = 5) int h,
                @ForAll @IntRange(min = 1, max = 3) int k, @ForAll @IntRange(min = 1, max = 2) int stride,
                @ForAll @IntRange(max = 1) int pad, @ForAll @IntRange(min = 1, max = 2) int dilation,
                @ForAll boolean bias, @ForAll long seed) {
        int[] s = {stride, 1}, p = {pad, 1 - pad}, d = {dilation, 1};
        Assume.that(h + 2 * pad >= dilation * (k - 1) + 1 && h + 2 * (1 - pad) >= k);
        Generator g = new Generator(seed);
        Tensor x = leaf(g, 2, groups * inPerGroup, h, h), w = leaf(g, groups * outPerGroup, inPerGroup, k, k);
        Tensor b = bias ? leaf(g, groups * outPerGroup) : null;
        Tensor[] inputs = bias ? new Tensor[] {x, w, b} : new Tensor[] {x, w};
        check("conv2d", xs -> F.conv2d(xs.get(0), xs.get(1), bias ? xs.get(2) : null, s, p, d, groups), inputs);
    }

    @Property(tries = 15)
    void convTranspose2d(@ForAll @IntRange(min = 1, max = 2) int groups, @ForAll @IntRange(min = 1, max = 2) int inPerGroup,
                         @ForAll @IntRange(min = 1, max = 2) int outPerGroup, @ForAll @IntRange(min = 1, max = 4) int h,
                         @ForAll @IntRange(min = 1, max = 3) int k, @ForAll @IntRange(min = 1, max = 3) int stride,
                         @ForAll @IntRange(max = 1) int pad, @ForAll @IntRange(min = 1, max = 2) int dilation,
                         @ForAll @IntRange(max = 1) int outPad, @ForAll boolean bias, @ForAll long seed) {
        Assume.that(outPad < stride || outPad < dilation);
        Assume.that((h - 1) * stride - 2 * pad + dilation * (k - 1) + outPad + 1 >= 1 && (h - 1) + k - 2 * pad >= 1);
        Generator g = new Generator(seed);
        Tensor x = leaf(g, 2, groups * inPerGroup, h, h + 1), w = leaf(g, groups * inPerGroup, outPerGroup, k, k);
        Tensor b = bias ? leaf(g, groups * outPerGroup) : null;
        var attrs = Builder.attrs("stride", new int[] {stride, 1}, "padding", new int[] {pad, pad},
                "output_padding", new int[] {outPad, 0}, "dilation", new int[] {dilation, 1}, "groups", groups);
        Tensor[] inputs = bias ? new Tensor[] {x, w, b} : new Tensor[] {x, w};
        check("conv_transpose2d", xs -> Dispatch.call("conv_transpose2d", attrs, xs.toArray(Tensor[]::new)), inputs);
    }

    @Property(tries = 20)
    void maxPool2d(@ForAll @IntRange(min = 1, max = 6) int h, @ForAll @IntRange(min = 1, max = 3) int k,
                   @ForAll @IntRange(min = 1, max = 3) int stride, @ForAll @IntRange(max = 1) int pad,
                   @ForAll @IntRange(min = 1, max = 2) int dilation, @ForAll boolean ceilMode, @ForAll long seed) {
        Assume.that(pad <= k / 2 && h + 2 * pad >= dilation * (k - 1) + 1);
        Generator g = new Generator(seed);
        Tensor x = distinct(g, 2, 2, h, h + 1);
        int[] kk = {k, k}, s = {stride, stride}, p = {pad, pad}, d = {dilation, dilation};
        check("max_pool2d", xs -> F.maxPool2d(xs.get(0), kk, s, p, d, ceilMode), x);
    }

    @Property(tries = 20)
    void avgPool2d(@ForAll @IntRange(min = 1, max = 6) int h, @ForAll @IntRange(min = 1, max = 3) int k,
                   @ForAll @IntRange(min = 1, max = 3) int stride, @ForAll @IntRange(max = 1) int pad,
                   @ForAll boolean ceilMode, @ForAll boolean countIncludePad, @ForAll long seed) {
        Assume.that(pad <= k / 2 && h + 2 * pad >= k);
        Generator g = new Generator(seed);
        int[] kk = {k, k}, s = {stride, stride}, p = {pad, pad};
        check("avg_pool2d", xs -> F.avgPool2d(xs.get(0), kk, s, p, ceilMode, countIncludePad), leaf(g, 2, 2, h, h + 1));
    }

    @Property(tries = 20)
    void adaptiveAvgPool2d(@ForAll @IntRange(min = 1, max = 7) int h, @ForAll @IntRange(min = 1, max = 4) int oh,
                           @ForAll @IntRange(min = 1, max = 4) int ow, @ForAll long seed) {
        Generator g = new Generator(seed);
        var attrs = Builder.attrs("output_size", new int[] {oh, ow});
        check("adaptive_avg_pool2d", xs -> Dispatch.call("adaptive_avg_pool2d", attrs, xs.get(0)), leaf(g, 2, 2, h, h + 2));
    }

    @Property(tries = 20)
    void batchNormAllFiveInputs(@ForAll @IntRange(min = 1, max = 3) int n, @ForAll @IntRange(min = 1, max = 3) int c,
                                @ForAll @IntRange(max = 2) int extraDims, @ForAll long seed) {
        Generator g = new Generator(seed);
        long[] shape = extraDims == 0 ? new long[] {n, c} : extraDims == 1 ? new long[] {n, c, 3} : new long[] {n, c, 2, 2};
        var eps = Builder.attrs("eps", 1e-3);
        check("batch_norm", xs -> Dispatch.call("batch_norm", eps, xs.toArray(Tensor[]::new)),
                leaf(g, shape), leaf(g, c), leafIn(g, 0.5, 2, c), leaf(g, c), leaf(g, c));
        check("batch_norm without affine", xs -> Dispatch.call("batch_norm", eps, xs.toArray(Tensor[]::new)),
                leaf(g, shape), leaf(g, c), leafIn(g, 0.5, 2, c));
    }

    @Property(tries = 15)
    void batchNormWithBatchStatisticsAsInTraining(@ForAll @IntRange(min = 2, max = 3) int n,
                                                  @ForAll @IntRange(min = 1, max = 3) int c, @ForAll long seed) {
        Generator g = new Generator(seed);
        int[] axes = {0, 2, 3};
        check("batch_norm(x, mean(x), var(x))", xs -> {
            Tensor x = xs.get(0);
            Tensor mean = x.mean(axes, false);
            Tensor centered = x.sub(mean.reshape(1, c, 1, 1));
            Tensor var = centered.mul(centered).mean(axes, false);
            return Dispatch.call("batch_norm", Map.of(), x, mean, var, xs.get(1), xs.get(2));
        }, leaf(g, n, c, 2, 2), leaf(g, c), leaf(g, c));
    }

    @Property(tries = 20)
    void layerNorm(@ForAll @IntRange(min = 1, max = 3) int a, @ForAll @IntRange(min = 1, max = 3) int b,
                   @ForAll @IntRange(min = 2, max = 4) int c, @ForAll @IntRange(min = 1, max = 3) int dims,
                   @ForAll boolean affine, @ForAll long seed) {
        Generator g = new Generator(seed);
        long[] shape = {a, b, c};
        long[] normalized = java.util.Arrays.copyOfRange(shape, 3 - dims, 3);
        var attrs = Builder.attrs("normalized_dims", dims);
        Tensor x = leaf(g, shape);
        Tensor[] inputs = affine ? new Tensor[] {x, leaf(g, normalized), leaf(g, normalized)} : new Tensor[] {x};
        check("layer_norm", xs -> Dispatch.call("layer_norm", attrs, xs.toArray(Tensor[]::new)), inputs);
    }

    @Property(tries = 20)
    void groupNorm(@ForAll @IntRange(min = 1, max = 2) int n, @ForAll @IntRange(min = 1, max = 3) int groups,
                   @ForAll @IntRange(min = 1, max = 2) int perGroup, @ForAll @IntRange(min = 1, max = 3) int spatial,
                   @ForAll boolean affine, @ForAll long seed) {
        Assume.that(perGroup * spatial > 1);
        Generator g = new Generator(seed);
        int c = groups * perGroup;
        var attrs = Builder.attrs("groups", groups);
        Tensor x = leaf(g, n, c, spatial, 2);
        Tensor[] inputs = affine ? new Tensor[] {x, leaf(g, c), leaf(g, c)} : new Tensor[] {x};
        check("group_norm", xs -> Dispatch.call("group_norm", attrs, xs.toArray(Tensor[]::new)), inputs);
    }

    @Property(tries = 20)
    void embeddingWeight(@ForAll @IntRange(min = 1, max = 5) int v, @ForAll @IntRange(min = 1, max = 3) int d,
                         @ForAll @IntRange(min = -1, max = 4) int pad, @ForAll long seed) {
        Generator g = new Generator(seed);
        int padding = Math.min(pad, v - 1);
        long[] idx = new long[6];
        for (int i = 0; i < idx.length; i++) idx[i] = (long) (g.nextUniform() * v);
        Tensor indices = Tensor.of(idx, 2, 3);
        var attrs = Builder.attrs("padding_idx", padding);
        Tensor w = leaf(g, v, d);
        // The padding row gets no gradient (as in PyTorch), although the lookup does read it.
        check("embedding", xs -> Dispatch.call("embedding", attrs, xs.get(0), indices).mul(padMask(indices, padding, d)), w);
    }

    @Example
    void dropoutMaskCarriesNoGradientAndGradientsFlowThroughTheProduct() {
        RandomSource.manualSeed(7);
        Tensor x = leaf(new Generator(1), 4, 50);
        Tensor mask = Dispatch.call("dropout_mask", Builder.attrs("p", 0.5), x);
        assertFalse(mask.requiresGrad());
        x.mul(mask).sum().backward();
        assertArrayEquals(mask.toDoubleArray(), x.grad().toDoubleArray());
    }

    /** Zeroes the rows looked up at padding_idx so the finite difference sees only what gets a gradient. */
    private static Tensor padMask(Tensor indices, int padding, int d) {
        long[] idx = indices.toLongArray();
        double[] m = new double[idx.length * d];
        for (int i = 0; i < m.length; i++) m[i] = idx[i / d] == padding ? 0 : 1;
        return Tensor.of(m, 2, 3, d);
    }

    /** A leaf of distinct values (spaced 0.01 apart, shuffled) so every pooling window has a clear maximum. */
    private static Tensor distinct(Generator g, long... shape) {
        NDArray a = NDArray.zeros(DType.F64, shape);
        int n = (int) a.numel();
        List<Integer> order = new java.util.ArrayList<>(java.util.stream.IntStream.range(0, n).boxed().toList());
        for (int i = n - 1; i > 0; i--) java.util.Collections.swap(order, i, (int) (g.nextUniform() * (i + 1)));
        for (int i = 0; i < n; i++) a.setFlat(i, order.get(i) * 0.01);
        return Tensor.wrap(a).setRequiresGrad(true);
    }
}
