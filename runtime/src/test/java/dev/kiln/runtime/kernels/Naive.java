package dev.kiln.runtime.kernels;

import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.Shapes;

import java.util.function.DoubleBinaryOperator;

/**
 * Deliberately simple reference implementations, written from the definitions (index arithmetic, no strides,
 * no shared code with the kernels) to check the kernels against.
 */
final class Naive {
    private Naive() {}

    /** Row-major multi-index of {@code flat} in {@code shape}. */
    static long[] unravel(long flat, long[] shape) {
        long[] idx = new long[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            idx[d] = flat % shape[d];
            flat /= shape[d];
        }
        return idx;
    }

    /** Index into a broadcast operand of {@code shape} for output index {@code out} (aligned right). */
    static long[] broadcastIndex(long[] out, long[] shape) {
        long[] idx = new long[shape.length];
        int lead = out.length - shape.length;
        for (int d = 0; d < shape.length; d++) idx[d] = shape[d] == 1 ? 0 : out[d + lead];
        return idx;
    }

    static long[] broadcastShape(long[] a, long[] b) {
        int rank = Math.max(a.length, b.length);
        long[] out = new long[rank];
        for (int i = 0; i < rank; i++) {
            long da = i - (rank - a.length) >= 0 ? a[i - (rank - a.length)] : 1;
            long db = i - (rank - b.length) >= 0 ? b[i - (rank - b.length)] : 1;
            out[i] = Math.max(da, db);
        }
        return out;
    }

    /** Broadcast elementwise op evaluated per output element with f32 rounding of the result. */
    static float[] binaryF32(NDArray a, NDArray b, DoubleBinaryOperator f) {
        long[] shape = broadcastShape(a.shape(), b.shape());
        float[] out = new float[(int) Shapes.numel(shape)];
        for (int i = 0; i < out.length; i++) {
            long[] o = unravel(i, shape);
            float x = (float) a.getDouble(broadcastIndex(o, a.shape()));
            float y = (float) b.getDouble(broadcastIndex(o, b.shape()));
            out[i] = (float) f.applyAsDouble(x, y);
        }
        return out;
    }

    /** {@code [m, k] x [k, n]} in double. */
    static double[] matmul2d(double[] a, double[] b, int m, int n, int k) {
        double[] c = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
                c[i * n + j] = s;
            }
        }
        return c;
    }

    /** Same loops accumulating sum |a||b|, the scale of rounding error of each output. */
    static double[] matmulAbs(double[] a, double[] b, int m, int n, int k) {
        double[] abs = new double[a.length];
        double[] babs = new double[b.length];
        for (int i = 0; i < a.length; i++) abs[i] = Math.abs(a[i]);
        for (int i = 0; i < b.length; i++) babs[i] = Math.abs(b[i]);
        return matmul2d(abs, babs, m, n, k);
    }

    /** Direct convolution in double, PyTorch definition; returns the flat output and its |x||w| scale. */
    static double[][] conv2d(NDArray x, NDArray w, NDArray bias, int[] s, int[] p, int[] d, int groups,
                             long oh, long ow) {
        long n = x.dim(0), c = x.dim(1), h = x.dim(2), wd = x.dim(3);
        long o = w.dim(0), cg = w.dim(1), kh = w.dim(2), kw = w.dim(3);
        long og = o / groups;
        double[] out = new double[(int) (n * o * oh * ow)];
        double[] scale = new double[out.length];
        int idx = 0;
        for (long b = 0; b < n; b++) {
            for (long oc = 0; oc < o; oc++) {
                long g = oc / og;
                for (long y = 0; y < oh; y++) {
                    for (long xx = 0; xx < ow; xx++) {
                        double acc = bias == null ? 0 : bias.getDouble(oc);
                        double sc = Math.abs(acc);
                        for (long ic = 0; ic < cg; ic++) {
                            for (long i = 0; i < kh; i++) {
                                for (long j = 0; j < kw; j++) {
                                    long iy = y * s[0] - p[0] + i * d[0];
                                    long ix = xx * s[1] - p[1] + j * d[1];
                                    if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                                    double v = x.getDouble(b, g * cg + ic, iy, ix) * w.getDouble(oc, ic, i, j);
                                    acc += v;
                                    sc += Math.abs(v);
                                }
                            }
                        }
                        scale[idx] = sc;
                        out[idx++] = acc;
                    }
                }
            }
        }
        assert c == cg * groups;
        return new double[][] {out, scale};
    }
}
