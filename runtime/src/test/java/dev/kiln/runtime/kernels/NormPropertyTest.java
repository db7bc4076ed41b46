package dev.kiln.runtime.kernels;

import dev.kiln.ir.DType;
import dev.kiln.runtime.NDArray;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.util.Arrays;
import java.util.Random;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** batch, layer and group norm against direct formulas; layer/group norm input gradients against finite differences. */
class NormPropertyTest {

    @Property(tries = 40)
    void batchNormMatchesTheFormula(@ForAll @IntRange(min = 1, max = 3) int n, @ForAll @IntRange(min = 1, max = 4) int c,
                                    @ForAll @IntRange(max = 2) int extraDims, @ForAll boolean affine,
                                    @ForAll boolean f64, @ForAll long seed) {
        Random r = new Random(seed);
        DType t = f64 ? DType.F64 : DType.F32;
        long[] shape = extraDims == 0 ? new long[] {n, c} : extraDims == 1 ? new long[] {n, c, 3} : new long[] {n, c, 2, 3};
        NDArray x = Tensors.random(r, t, shape).transpose(0, 1).contiguous().transpose(0, 1); // a strided view
        NDArray mean = Tensors.random(r, t, c), w = Tensors.random(r, t, c), b = Tensors.random(r, t, c);
        NDArray var = NDArray.zeros(t, c);
        for (int i = 0; i < c; i++) var.setFlat(i, r.nextDouble() * 2);
        double eps = 1e-3;
        NDArray y = Norms.batchNorm(x, mean, var, affine ? w : null, affine ? b : null, eps);
        long spatial = x.numel() / (n * (long) c);
        double[] expected = new double[(int) x.numel()];
        for (int i = 0; i < expected.length; i++) {
            int ch = (int) ((i / spatial) % c);
            double v = (x.getFlat(i) - mean.getFlat(ch)) / Math.sqrt(var.getFlat(ch) + eps);
            expected[i] = affine ? v * w.getFlat(ch) + b.getFlat(ch) : v;
        }
        Tensors.assertCloseRel(expected, y, f64 ? 1e-13 : 1e-5, "batch_norm");
    }

    @Property(tries = 40)
    void layerNormMatchesTheFormulaAndItsGradientTheFiniteDifference(@ForAll @IntRange(min = 1, max = 3) int a,
                                                                     @ForAll @IntRange(min = 1, max = 3) int b,
                                                                     @ForAll @IntRange(min = 1, max = 4) int c,
                                                                     @ForAll @IntRange(min = 1, max = 3) int dims,
                                                                     @ForAll boolean affine, @ForAll long seed) {
        Random r = new Random(seed);
        long[] shape = {a, b, c};
        long[] normalized = Arrays.copyOfRange(shape, 3 - dims, 3);
        NDArray x = Tensors.random(r, DType.F64, shape);
        NDArray w = affine ? Tensors.random(r, DType.F64, normalized) : null, bias = affine ? Tensors.random(r, DType.F64, normalized) : null;
        int d = (int) (x.numel() / (dims == 3 ? 1 : dims == 2 ? a : a * b));
        Function<double[], double[]> ref = v -> blocks(v, d, (blk, off) -> off, w, bias, 1e-5);
        Tensors.assertCloseRel(ref.apply(x.toDoubleArray()), Norms.layerNorm(x, w, bias, dims, 1e-5), 1e-12, "layer_norm");
        NDArray g = Tensors.random(r, DType.F64, shape);
        Tensors.assertCloseRel(numericGradient(ref, x.toDoubleArray(), g.toDoubleArray()),
                Norms.layerNormGrad(g, x, w, dims, 1e-5), 1e-6, "layer_norm grad");
        NDArray y32 = Norms.layerNorm(x.to(DType.F32), w == null ? null : w.to(DType.F32), bias == null ? null : bias.to(DType.F32), dims, 1e-5);
        assertEquals(DType.F32, y32.dtype());
        Tensors.assertCloseRel(ref.apply(x.to(DType.F32).toDoubleArray()), y32, 1e-5, "layer_norm f32");
    }

    @Property(tries = 40)
    void groupNormMatchesTheFormulaAndItsGradientTheFiniteDifference(@ForAll @IntRange(min = 1, max = 2) int n,
                                                                     @ForAll @IntRange(min = 1, max = 3) int groups,
                                                                     @ForAll @IntRange(min = 1, max = 3) int perGroup,
                                                                     @ForAll @IntRange(min = 1, max = 4) int spatial,
                                                                     @ForAll boolean affine, @ForAll long seed) {
        Random r = new Random(seed);
        int c = groups * perGroup;
        NDArray x = Tensors.random(r, DType.F64, n, c, spatial);
        NDArray w = affine ? Tensors.random(r, DType.F64, c) : null, b = affine ? Tensors.random(r, DType.F64, c) : null;
        int block = perGroup * spatial;
        Function<double[], double[]> ref = v -> blocks(v, block, (blk, off) -> (blk % groups) * perGroup + off / spatial, w, b, 1e-5);
        Tensors.assertCloseRel(ref.apply(x.toDoubleArray()), Norms.groupNorm(x, w, b, groups, 1e-5), 1e-12, "group_norm");
        NDArray g = Tensors.random(r, DType.F64, n, c, spatial);
        // central differences err in proportion to the gradient, which a near-constant group makes large
        Tensors.assertCloseRel(numericGradient(ref, x.toDoubleArray(), g.toDoubleArray()),
                Norms.groupNormGrad(g, x, w, groups, 1e-5), 1e-6, "group_norm grad");
    }

    @Example
    void badShapesNameTheOp() {
        NDArray x = NDArray.zeros(DType.F32, 2, 6, 4);
        assertEquals("group_norm: 6 channels of input [2, 6, 4] are not divisible by groups 4", message(
                () -> Norms.groupNorm(x, null, null, 4, 1e-5)));
        assertEquals("layer_norm: weight must have the normalized shape [6, 4], got [4]", message(
                () -> Norms.layerNorm(x, NDArray.zeros(DType.F32, 4), null, 2, 1e-5)));
        assertEquals("batch_norm: var must have shape [6] for input [2, 6, 4], got [4]", message(
                () -> Norms.batchNorm(x, NDArray.zeros(DType.F32, 6), NDArray.zeros(DType.F32, 4), null, null, 1e-5)));
        assertEquals("layer_norm: normalized_dims must be in [1, 3] for input [2, 6, 4], got 4", message(
                () -> Norms.layerNorm(x, null, null, 4, 1e-5)));
    }

    @Example
    void constantRowsNormaliseToZeroNotNaN() {
        NDArray x = NDArray.full(DType.F32, 3, 2, 4);
        assertArrayEquals(new float[8], Norms.layerNorm(x, null, null, 1, 1e-5).toFloatArray());
    }

    interface Index {
        int at(int block, int offset);
    }

    /** Normalises each block of {@code len} consecutive values; weight/bias element {@code idx(block, offset)}. */
    static double[] blocks(double[] v, int len, Index idx, NDArray w, NDArray b, double eps) {
        double[] out = new double[v.length];
        for (int blk = 0; blk < v.length / len; blk++) {
            double mean = 0, var = 0;
            for (int i = 0; i < len; i++) mean += v[blk * len + i] / len;
            for (int i = 0; i < len; i++) var += Math.pow(v[blk * len + i] - mean, 2) / len;
            for (int i = 0; i < len; i++) {
                double y = (v[blk * len + i] - mean) / Math.sqrt(var + eps);
                if (w != null) y = y * w.getFlat(idx.at(blk, i)) + b.getFlat(idx.at(blk, i));
                out[blk * len + i] = y;
            }
        }
        return out;
    }

    /** Central differences of {@code sum(f(x) * g)}. */
    static double[] numericGradient(Function<double[], double[]> f, double[] x, double[] g) {
        double[] grad = new double[x.length];
        double h = 1e-6;
        for (int i = 0; i < x.length; i++) {
            double[] plus = x.clone(), minus = x.clone();
            plus[i] += h;
            minus[i] -= h;
            double[] fp = f.apply(plus), fm = f.apply(minus);
            double acc = 0;
            for (int k = 0; k < fp.length; k++) acc += (fp[k] - fm[k]) * g[k];
            grad[i] = acc / (2 * h);
        }
        return grad;
    }

    private static String message(Runnable r) {
        return assertThrows(IllegalArgumentException.class, r::run).getMessage();
    }
}
