package dev.kiln.runtime.kernels;

import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.Shapes;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * matmul against a naive double triple loop. Tolerance: |got - exact| <= 2e-6 * k * sum_p |a_ip * b_pj|, i.e.
 * about 16x the classic worst-case f32 dot-product error bound (k * 2^-24 relative to that sum).
 */
class GemmPropertyTest {

    @Provide
    Arbitrary<Integer> sizes() {
        return Arbitraries.of(1, 2, 3, 7, 16, 33, 65);
    }

    @Property(tries = 80)
    void matmulMatchesNaiveTripleLoop(@ForAll("sizes") int m, @ForAll("sizes") int n, @ForAll("sizes") int k,
                                      @ForAll @IntRange(max = 2) int batchRankA, @ForAll @IntRange(max = 2) int batchRankB,
                                      @ForAll boolean vectorA, @ForAll boolean vectorB,
                                      @ForAll boolean transposedA, @ForAll long seed) {
        Random r = new Random(seed);
        long[] batch = {1 + r.nextInt(3), 1 + r.nextInt(3)};
        long[] batchA = batchOf(batch, batchRankA, r);
        long[] batchB = batchOf(batch, batchRankB, r);
        NDArray a = vectorA ? Tensors.randomF32(r, k) : matrices(r, batchA, m, k, transposedA);
        NDArray b = vectorB ? Tensors.randomF32(r, k) : Tensors.randomF32(r, concat(batchB, k, n));
        NDArray c = Gemm.matmul(a, b);

        long[] aBatch = vectorA ? new long[0] : batchA;
        long[] bBatch = vectorB ? new long[0] : batchB;
        long[] outBatch = Naive.broadcastShape(aBatch, bBatch);
        int mm = vectorA ? 1 : m, nn = vectorB ? 1 : n;
        long[] expectedShape = outBatch;
        if (!vectorA) expectedShape = append(expectedShape, m);
        if (!vectorB) expectedShape = append(expectedShape, n);
        assertArrayEquals(expectedShape, c.shape(), () -> Shapes.str(a.shape()) + " @ " + Shapes.str(b.shape()));

        int batches = (int) Shapes.numel(outBatch);
        double[] expected = new double[batches * mm * nn];
        double[] tol = new double[expected.length];
        for (int bi = 0; bi < batches; bi++) {
            long[] idx = Naive.unravel(bi, outBatch);
            double[] am = matrix(a, vectorA, Naive.broadcastIndex(idx, aBatch), mm, k, true);
            double[] bm = matrix(b, vectorB, Naive.broadcastIndex(idx, bBatch), k, nn, false);
            double[] ref = Naive.matmul2d(am, bm, mm, nn, k);
            double[] scale = Naive.matmulAbs(am, bm, mm, nn, k);
            for (int i = 0; i < ref.length; i++) {
                expected[bi * mm * nn + i] = ref[i];
                tol[bi * mm * nn + i] = 2e-6 * k * scale[i] + 1e-30;
            }
        }
        Tensors.assertClose(expected, c, tol, Shapes.str(a.shape()) + " @ " + Shapes.str(b.shape()));
    }

    @Property(tries = 40)
    void linearMatchesMatmulWithTransposedWeight(@ForAll("sizes") int in, @ForAll("sizes") int out,
                                                 @ForAll @IntRange(min = 1, max = 4) int rows,
                                                 @ForAll boolean withBias, @ForAll boolean weightIsView,
                                                 @ForAll long seed) {
        Random r = new Random(seed);
        NDArray x = Tensors.randomF32(r, 2, rows, in);
        NDArray w = weightIsView ? Tensors.randomF32(r, in, out).transpose(0, 1) : Tensors.randomF32(r, out, in);
        NDArray bias = withBias ? Tensors.randomF32(r, out) : null;
        NDArray y = Gemm.linear(x, w, bias);
        Tensors.assertShape(new long[] {2, rows, out}, y);
        double[] xs = x.toDoubleArray(), ws = w.toDoubleArray();
        double[] expected = new double[2 * rows * out];
        double[] tol = new double[expected.length];
        for (int i = 0; i < 2 * rows; i++) {
            for (int o = 0; o < out; o++) {
                double s = bias == null ? 0 : bias.getDouble(o), scale = Math.abs(s);
                for (int p = 0; p < in; p++) {
                    s += xs[i * in + p] * ws[o * in + p];
                    scale += Math.abs(xs[i * in + p] * ws[o * in + p]);
                }
                expected[i * out + o] = s;
                tol[i * out + o] = 2e-6 * (in + 1) * scale + 1e-30;
            }
        }
        Tensors.assertClose(expected, y, tol, "linear");
    }

    /** A stack of [m, k] matrices, optionally stored transposed (a column-major view) to exercise BLAS flags. */
    private static NDArray matrices(Random r, long[] batch, int m, int k, boolean transposed) {
        if (!transposed) return Tensors.randomF32(r, concat(batch, m, k));
        return Tensors.randomF32(r, concat(batch, k, m)).transpose(-1, -2);
    }

    private static long[] batchOf(long[] batch, int rank, Random r) {
        long[] s = Arrays.copyOfRange(batch, batch.length - rank, batch.length);
        for (int i = 0; i < s.length; i++) if (r.nextInt(3) == 0) s[i] = 1;
        return s;
    }

    /** Matrix {@code index} of a batched operand as a row-major double array (vectors become 1 x k or k x 1). */
    private static double[] matrix(NDArray t, boolean vector, long[] index, int rows, int cols, boolean left) {
        double[] out = new double[rows * cols];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                long[] at;
                if (vector) at = new long[] {left ? j : i};
                else at = append(append(index, i), j);
                out[i * cols + j] = t.getDouble(at);
            }
        }
        return out;
    }

    private static long[] concat(long[] batch, long r, long c) {
        return append(append(batch, r), c);
    }

    private static long[] append(long[] s, long v) {
        long[] out = Arrays.copyOf(s, s.length + 1);
        out[s.length] = v;
        return out;
    }
}
