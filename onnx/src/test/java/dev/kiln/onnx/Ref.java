package dev.kiln.onnx;

import dev.kiln.ir.DType;

import java.util.Arrays;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;

/**
 * Reference implementations of the exported ops with PyTorch semantics, written as plain loops,
 * independent of the exporter and of ONNX, to check ONNX Runtime's results against.
 */
final class Ref {

    private Ref() {}

    static Nd map(Nd x, DoubleUnaryOperator f) {
        double[] v = new double[x.values().length];
        for (int i = 0; i < v.length; i++) v[i] = f.applyAsDouble(x.get(i));
        return x.withValues(x.dtype(), v);
    }

    /** NumPy-broadcast binary op producing {@code outType}. */
    static Nd zip(Nd a, Nd b, DType outType, DoubleBinaryOperator f) {
        int rank = Math.max(a.rank(), b.rank());
        long[] shape = new long[rank];
        for (int i = 0; i < rank; i++) shape[i] = Math.max(dimFromEnd(a, rank - i), dimFromEnd(b, rank - i));
        double[] v = new double[(int) Nd.count(shape)];
        int[] idx = new int[rank];
        for (int flat = 0; flat < v.length; flat++) {
            unravel(flat, shape, idx);
            v[flat] = f.applyAsDouble(a.get(broadcastIndex(a, idx)), b.get(broadcastIndex(b, idx)));
        }
        return new Nd(outType, shape, v);
    }

    private static long dimFromEnd(Nd x, int k) { return k <= x.rank() ? x.shape()[x.rank() - k] : 1; }

    private static int broadcastIndex(Nd x, int[] idx) {
        int off = idx.length - x.rank(), flat = 0;
        for (int i = 0; i < x.rank(); i++) flat = flat * (int) x.shape()[i] + (x.shape()[i] == 1 ? 0 : idx[off + i]);
        return flat;
    }

    static void unravel(int flat, long[] shape, int[] idx) {
        for (int i = shape.length - 1; i >= 0; i--) {
            idx[i] = (int) (flat % shape[i]);
            flat /= (int) shape[i];
        }
    }

    static int ravel(int[] idx, long[] shape) {
        int flat = 0;
        for (int i = 0; i < shape.length; i++) flat = flat * (int) shape[i] + idx[i];
        return flat;
    }

    /** a [..., M, K] @ b [K, N] (b 2-D), or 1-D operands as NumPy promotes them. */
    static Nd matmul(Nd a, Nd b) {
        boolean aVec = a.rank() == 1, bVec = b.rank() == 1;
        long[] as = aVec ? new long[] {1, a.shape()[0]} : a.shape();
        long[] bs = bVec ? new long[] {b.shape()[0], 1} : b.shape();
        if (bs.length != 2) throw new IllegalArgumentException("reference matmul takes a 1-D or 2-D right operand");
        int m = (int) as[as.length - 2], k = (int) as[as.length - 1], n = (int) bs[1];
        int batch = (int) (Nd.count(as) / ((long) m * k));
        double[] v = new double[batch * m * n];
        for (int p = 0; p < batch; p++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int q = 0; q < k; q++) s += a.get(p * m * k + i * k + q) * b.get(q * n + j);
                    v[p * m * n + i * n + j] = s;
                }
            }
        }
        long[] out = Arrays.copyOf(as, as.length);
        out[out.length - 1] = n;
        if (aVec) out = Arrays.copyOfRange(out, 1, out.length);
        if (bVec) out = Arrays.copyOf(out, out.length - 1);
        return new Nd(a.dtype(), out, v);
    }

    static Nd transpose2d(Nd w) { return permute(w, 1, 0); }

    /** torch.nn.functional.linear: x @ w^T + bias (bias may be null). */
    static Nd linear(Nd x, Nd w, Nd bias) {
        Nd y = matmul(x, transpose2d(w));
        return bias == null ? y : zip(y, bias, y.dtype(), Double::sum);
    }

    static Nd permute(Nd x, int... perm) {
        long[] shape = new long[perm.length];
        for (int i = 0; i < perm.length; i++) shape[i] = x.shape()[perm[i]];
        double[] v = new double[x.values().length];
        int[] out = new int[perm.length], in = new int[perm.length];
        for (int flat = 0; flat < v.length; flat++) {
            unravel(flat, shape, out);
            for (int i = 0; i < perm.length; i++) in[perm[i]] = out[i];
            v[flat] = x.get(ravel(in, x.shape()));
        }
        return new Nd(x.dtype(), shape, v);
    }

    /** torch conv2d over NCHW with weight [O, C/g, kH, kW]. */
    static Nd conv2d(Nd x, Nd w, Nd bias, int[] stride, int[] pad, int[] dil, int groups) {
        int n = (int) x.shape()[0], c = (int) x.shape()[1], h = (int) x.shape()[2], wd = (int) x.shape()[3];
        int o = (int) w.shape()[0], cg = (int) w.shape()[1], kh = (int) w.shape()[2], kw = (int) w.shape()[3];
        int oh = (h + 2 * pad[0] - dil[0] * (kh - 1) - 1) / stride[0] + 1;
        int ow = (wd + 2 * pad[1] - dil[1] * (kw - 1) - 1) / stride[1] + 1;
        int og = o / groups;
        double[] v = new double[n * o * oh * ow];
        for (int b = 0; b < n; b++) for (int oc = 0; oc < o; oc++) for (int y = 0; y < oh; y++) for (int xx = 0; xx < ow; xx++) {
            double s = bias == null ? 0 : bias.get(oc);
            int g = oc / og;
            for (int ic = 0; ic < cg; ic++) for (int i = 0; i < kh; i++) for (int j = 0; j < kw; j++) {
                int iy = y * stride[0] - pad[0] + i * dil[0], ix = xx * stride[1] - pad[1] + j * dil[1];
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                s += x.get(((b * c + g * cg + ic) * h + iy) * wd + ix) * w.get(((oc * cg + ic) * kh + i) * kw + j);
            }
            v[((b * o + oc) * oh + y) * ow + xx] = s;
        }
        return new Nd(x.dtype(), new long[] {n, o, oh, ow}, v);
    }

    /** PyTorch's pooled output size, including the ceil_mode rule that a window must start before the right padding. */
    static int poolOut(int in, int k, int s, int p, int d, boolean ceil) {
        int span = in + 2 * p - d * (k - 1) - 1;
        int out = (ceil ? Math.ceilDiv(span, s) : span / s) + 1;
        if (ceil && (out - 1) * s >= in + p) out--;
        return out;
    }

    static Nd maxPool2d(Nd x, int[] k, int[] s, int[] p, int[] d, boolean ceil) {
        return pool(x, k, s, p, d, ceil, win -> win.max);
    }

    /** torch avg_pool2d: the divisor counts padding (count_include_pad) but never the ceil_mode overhang. */
    static Nd avgPool2d(Nd x, int[] k, int[] s, int[] p, boolean ceil, boolean countIncludePad) {
        return pool(x, k, s, p, new int[] {1, 1}, ceil, win -> win.sum / (countIncludePad ? win.paddedCount : win.realCount));
    }

    private static final class Window { double max = Double.NEGATIVE_INFINITY, sum; int realCount, paddedCount; }

    private static Nd pool(Nd x, int[] k, int[] s, int[] p, int[] d, boolean ceil, java.util.function.ToDoubleFunction<Window> r) {
        int n = (int) x.shape()[0], c = (int) x.shape()[1], h = (int) x.shape()[2], w = (int) x.shape()[3];
        int oh = poolOut(h, k[0], s[0], p[0], d[0], ceil), ow = poolOut(w, k[1], s[1], p[1], d[1], ceil);
        double[] v = new double[n * c * oh * ow];
        for (int b = 0; b < n * c; b++) for (int y = 0; y < oh; y++) for (int xx = 0; xx < ow; xx++) {
            Window win = new Window();
            int y0 = y * s[0] - p[0], x0 = xx * s[1] - p[1];
            int yEnd = Math.min(y0 + (k[0] - 1) * d[0] + 1, h + p[0]), xEnd = Math.min(x0 + (k[1] - 1) * d[1] + 1, w + p[1]);
            win.paddedCount = (yEnd - y0) * (xEnd - x0);
            for (int i = 0; i < k[0]; i++) for (int j = 0; j < k[1]; j++) {
                int iy = y0 + i * d[0], ix = x0 + j * d[1];
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                double val = x.get((b * h + iy) * w + ix);
                win.max = Math.max(win.max, val);
                win.sum += val;
                win.realCount++;
            }
            v[(b * oh + y) * ow + xx] = r.applyAsDouble(win);
        }
        return new Nd(x.dtype(), new long[] {n, c, oh, ow}, v);
    }

    /** softmax (or log_softmax) along {@code axis}. */
    static Nd softmax(Nd x, int axis, boolean log) {
        int a = axis < 0 ? axis + x.rank() : axis;
        int len = (int) x.shape()[a], inner = 1;
        for (int i = a + 1; i < x.rank(); i++) inner *= (int) x.shape()[i];
        int outer = x.values().length / (len * inner);
        double[] v = new double[x.values().length];
        for (int o = 0; o < outer; o++) for (int in = 0; in < inner; in++) {
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int i = 0; i < len; i++) max = Math.max(max, x.get((o * len + i) * inner + in));
            for (int i = 0; i < len; i++) sum += Math.exp(x.get((o * len + i) * inner + in) - max);
            for (int i = 0; i < len; i++) {
                double z = x.get((o * len + i) * inner + in) - max;
                v[(o * len + i) * inner + in] = log ? z - Math.log(sum) : Math.exp(z) / sum;
            }
        }
        return x.withValues(x.dtype(), v);
    }

    /** torch sum/mean over {@code axes} (empty: all) with or without kept dims. */
    static Nd reduce(Nd x, int[] axes, boolean keepDim, boolean mean) {
        boolean[] reduced = new boolean[x.rank()];
        if (axes.length == 0) Arrays.fill(reduced, true);
        for (int ax : axes) reduced[ax < 0 ? ax + x.rank() : ax] = true;
        long[] kept = new long[x.rank()];
        for (int i = 0; i < x.rank(); i++) kept[i] = reduced[i] ? 1 : x.shape()[i];
        double[] sums = new double[(int) Nd.count(kept)];
        int[] idx = new int[x.rank()];
        for (int flat = 0; flat < x.values().length; flat++) {
            unravel(flat, x.shape(), idx);
            for (int i = 0; i < idx.length; i++) if (reduced[i]) idx[i] = 0;
            sums[ravel(idx, kept)] += x.get(flat);
        }
        if (mean) {
            long n = x.values().length / Math.max(sums.length, 1);
            for (int i = 0; i < sums.length; i++) sums[i] /= n;
        }
        long[] shape = keepDim ? kept : java.util.stream.IntStream.range(0, x.rank()).filter(i -> !reduced[i])
                .mapToLong(i -> x.shape()[i]).toArray();
        return new Nd(x.dtype(), shape, sums);
    }

    static Nd reshape(Nd x, long... shape) { return new Nd(x.dtype(), shape, x.values().clone()); }

    static double sum(Nd x) { return Arrays.stream(x.values()).sum(); }
}
