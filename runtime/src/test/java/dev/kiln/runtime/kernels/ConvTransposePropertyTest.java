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

/** conv_transpose2d and its input gradient against the scatter definition and conv2d, in f32 and f64. */
class ConvTransposePropertyTest {

    @Property(tries = 80)
    void matchesTheScatterDefinition(@ForAll @IntRange(min = 1, max = 2) int batch,
                                     @ForAll @IntRange(min = 1, max = 2) int groups,
                                     @ForAll @IntRange(min = 1, max = 3) int inPerGroup,
                                     @ForAll @IntRange(min = 1, max = 3) int outPerGroup,
                                     @ForAll @IntRange(min = 1, max = 6) int h, @ForAll @IntRange(min = 1, max = 6) int w,
                                     @ForAll @IntRange(min = 1, max = 3) int kh, @ForAll @IntRange(min = 1, max = 3) int kw,
                                     @ForAll @IntRange(min = 1, max = 3) int stride, @ForAll @IntRange(max = 2) int pad,
                                     @ForAll @IntRange(min = 1, max = 2) int dilation, @ForAll @IntRange(max = 2) int outPad,
                                     @ForAll boolean bias, @ForAll boolean f64, @ForAll long seed) {
        int[] s = {stride, 1 + stride % 2}, p = {pad, (pad + 1) % 2}, d = {dilation, 3 - dilation}, op = {outPad, outPad % 2};
        for (int i = 0; i < 2; i++) Assume.that(op[i] < s[i] || op[i] < d[i]);
        long oh = (h - 1L) * s[0] - 2L * p[0] + d[0] * (kh - 1L) + op[0] + 1;
        long ow = (w - 1L) * s[1] - 2L * p[1] + d[1] * (kw - 1L) + op[1] + 1;
        Assume.that(oh >= 1 && ow >= 1);
        Random r = new Random(seed);
        DType t = f64 ? DType.F64 : DType.F32;
        int c = groups * inPerGroup, o = groups * outPerGroup;
        NDArray x = Tensors.random(r, t, batch, c, h, w);
        NDArray weight = Tensors.random(r, t, c, outPerGroup, kh, kw);
        NDArray b = bias ? Tensors.random(r, t, o) : null;
        double tol = f64 ? 1e-12 : 1e-5;

        NDArray y = ConvTranspose.convTranspose2d(x, weight, b, s, p, op, d, groups);
        Tensors.assertShape(new long[] {batch, o, oh, ow}, y);
        Tensors.assertCloseRel(NnNaive.convTranspose2d(x, weight, b, s, p, d, groups, oh, ow), y, tol, "conv_transpose2d");

        // Its input gradient is the conv2d of the output gradient, restricted to the input grid.
        NDArray g = Tensors.random(r, t, batch, o, oh, ow);
        NDArray dx = ConvTranspose.inputGrad(g, weight, new int[] {h, w}, s, p, d, groups);
        Tensors.assertShape(new long[] {batch, c, h, w}, dx);
        double[] ref = Naive.conv2d(g, weight, null, s, p, d, groups, h, w)[0];
        Tensors.assertCloseRel(ref, dx, f64 ? 1e-12 : 1e-4, "conv_transpose2d input grad");
        // And the adjoint identity <convT(x), g> = <x, dx> holds.
        if (f64 && !bias) assertEquals(NnConvGradPropertyTest.dot(y, g), NnConvGradPropertyTest.dot(x, dx), 1e-9);
    }

    @Example
    void knownSmallCase() {
        // 1x1 input pixel of value 2 spreads the 2x2 kernel, stride 2, one extra output row/column of padding.
        NDArray x = NDArray.of(new float[] {2, 3}, 1, 1, 1, 2);
        NDArray w = NDArray.of(new float[] {1, 2, 3, 4}, 1, 1, 2, 2);
        NDArray y = ConvTranspose.convTranspose2d(x, w, NDArray.of(new float[] {0.5f}), new int[] {2, 2}, null,
                new int[] {1, 1}, null, 1);
        assertArrayEquals(new long[] {1, 1, 3, 5}, y.shape());
        assertArrayEquals(new float[] {2.5f, 4.5f, 3.5f, 6.5f, 0.5f, 6.5f, 8.5f, 9.5f, 12.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f},
                y.toFloatArray());
    }

    @Example
    void halfPrecisionComputesInF32() {
        Random r = new Random(5);
        NDArray x = Tensors.random(r, DType.F32, 1, 2, 3, 3);
        NDArray w = Tensors.random(r, DType.F32, 2, 2, 2, 2);
        NDArray ref = ConvTranspose.convTranspose2d(x.to(DType.BF16).to(DType.F32), w.to(DType.BF16).to(DType.F32), null,
                new int[] {2, 2}, null, null, null, 1);
        NDArray y = ConvTranspose.convTranspose2d(x.to(DType.BF16), w.to(DType.BF16), null, new int[] {2, 2}, null, null, null, 1);
        assertEquals(DType.BF16, y.dtype());
        assertArrayEquals(ref.to(DType.BF16).toFloatArray(), y.toFloatArray());
    }

    @Example
    void outputPaddingMustBeSmallerThanStrideOrDilation() {
        NDArray x = NDArray.zeros(DType.F32, 1, 1, 3, 3), w = NDArray.zeros(DType.F32, 1, 1, 3, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ConvTranspose.convTranspose2d(x, w, null, new int[] {2, 2}, null, new int[] {2, 0}, null, 1));
        assertEquals("conv_transpose2d: output_padding [2, 0] must be smaller than either stride [2, 2] or dilation [1, 1]",
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> ConvTranspose.convTranspose2d(x, NDArray.zeros(DType.F32, 2, 1, 3, 3), null, null, null, null, null, 1));
        assertEquals("conv_transpose2d: input [1, 1, 3, 3] has 1 channels but weight [2, 1, 3, 3] expects 2", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> ConvTranspose.convTranspose2d(x, w, null, null, new int[] {3, 3}, null, null, 1));
        assertEquals("conv_transpose2d: input [1, 1, 3, 3] with weight [1, 1, 3, 3], stride [1, 1], padding [3, 3] gives a"
                + " non-positive output size -1 along height", e.getMessage());
    }
}
