package dev.kiln.runtime.kernels;

import dev.kiln.ir.KilnException;
import dev.kiln.ir.DType;
import dev.kiln.runtime.Elements;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.Shapes;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Batch, layer and group normalisation with PyTorch semantics, and the input gradients of layer and group norm.
 * Statistics and arithmetic run in double (biased variance, two passes) and round once to the input dtype.
 * Layer and group norm both normalise contiguous blocks of the row-major input: a row of the trailing
 * normalised dims, or one image's group of channels with their spatial dims.
 */
public final class Norms {
    private Norms() {}

    /** Maps (block, offset in block) to the index of the block element's weight and bias. */
    @FunctionalInterface
    private interface ParamIndex {
        int at(long block, long offset);
    }

    /**
     * {@code (x - mean[c]) / sqrt(var[c] + eps) * weight[c] + bias[c]} over {@code x[N, C, ...]}; weight and bias
     * may be null. Computed as {@code x * a[c] + b[c]}, as PyTorch's CPU kernel does.
     */
    public static NDArray batchNorm(NDArray x, NDArray mean, NDArray var, NDArray weight, NDArray bias, double eps) {
        String op = "batch_norm";
        checkInput(op, x);
        long c = x.dim(1);
        double[] mu = param(op, "mean", mean, x, c), v = param(op, "var", var, x, c);
        double[] w = weight == null ? null : param(op, "weight", weight, x, c);
        double[] b = bias == null ? null : param(op, "bias", bias, x, c);
        double[] scale = new double[(int) c], shift = new double[(int) c];
        for (int i = 0; i < c; i++) {
            scale[i] = (w == null ? 1 : w[i]) / Math.sqrt(v[i] + eps);
            shift[i] = (b == null ? 0 : b[i]) - mu[i] * scale[i];
        }
        NDArray xc = x.contiguous();
        NDArray y = NDArray.zeros(x.dtype(), x.shape());
        long planes = x.dim(0) * c, plane = planes == 0 ? 0 : x.numel() / planes;
        MemorySegment xs = xc.segment(), ys = y.segment();
        DType t = x.dtype();
        Parallel.forRange(planes, Math.max(1, Parallel.PARALLEL_THRESHOLD / Math.max(1, plane)), (start, end) -> {
            for (long p = start; p < end; p++) {
                double a = scale[(int) (p % c)], s = shift[(int) (p % c)];
                for (long i = p * plane; i < (p + 1) * plane; i++) {
                    Elements.setDouble(ys, t, i, Elements.getDouble(xs, t, xc.offset() + i) * a + s);
                }
            }
        });
        return y;
    }

    /** Normalises over the last {@code dims} dims of {@code x}; weight and bias (null allowed) have their shape. */
    public static NDArray layerNorm(NDArray x, NDArray weight, NDArray bias, int dims, double eps) {
        String op = "layer_norm";
        long d = layerBlock(op, x, dims);
        double[] w = trailing(op, "weight", weight, x, dims), b = trailing(op, "bias", bias, x, dims);
        return normalize(x, d, w, b, eps, (blk, off) -> (int) off);
    }

    /** Normalises each group of {@code C/groups} channels (with their spatial dims) of {@code x[N, C, ...]}. */
    public static NDArray groupNorm(NDArray x, NDArray weight, NDArray bias, int groups, double eps) {
        String op = "group_norm";
        long c = x.rank() >= 2 ? x.dim(1) : 0;
        long block = groupBlock(op, x, groups);
        double[] w = weight == null ? null : param(op, "weight", weight, x, c);
        double[] b = bias == null ? null : param(op, "bias", bias, x, c);
        return normalize(x, block, w, b, eps, groupIndex(x, groups));
    }

    /** {@code dx} of {@link #layerNorm} given {@code gradOut}; the bias does not enter it. */
    public static NDArray layerNormGrad(NDArray gradOut, NDArray x, NDArray weight, int dims, double eps) {
        String op = "layer_norm_grad";
        long d = layerBlock(op, x, dims);
        checkGradOut(op, gradOut, x);
        return normalizeGrad(gradOut, x, d, trailing(op, "weight", weight, x, dims), eps, (blk, off) -> (int) off);
    }

    /** {@code dx} of {@link #groupNorm} given {@code gradOut}; the bias does not enter it. */
    public static NDArray groupNormGrad(NDArray gradOut, NDArray x, NDArray weight, int groups, double eps) {
        String op = "group_norm_grad";
        long block = groupBlock(op, x, groups);
        checkGradOut(op, gradOut, x);
        double[] w = weight == null ? null : param(op, "weight", weight, x, x.dim(1));
        return normalizeGrad(gradOut, x, block, w, eps, groupIndex(x, groups));
    }

    private static NDArray normalize(NDArray x, long blockLen, double[] w, double[] b, double eps, ParamIndex idx) {
        NDArray xc = x.contiguous();
        NDArray y = NDArray.zeros(x.dtype(), x.shape());
        DType t = x.dtype();
        MemorySegment xs = xc.segment(), ys = y.segment();
        forBlocks(x.numel(), blockLen, (blk, buf) -> {
            long base = blk * blockLen;
            for (int i = 0; i < blockLen; i++) buf[i] = Elements.getDouble(xs, t, xc.offset() + base + i);
            double[] stats = stats(buf, (int) blockLen, eps);
            for (int i = 0; i < blockLen; i++) {
                double v = (buf[i] - stats[0]) * stats[1];
                if (w != null) v *= w[idx.at(blk, i)];
                if (b != null) v += b[idx.at(blk, i)];
                Elements.setDouble(ys, t, base + i, v);
            }
        });
        return y;
    }

    /** Per block: {@code dx = invstd * (g' - mean(g') - xhat * mean(g' * xhat))} with {@code g' = g * weight}. */
    private static NDArray normalizeGrad(NDArray gradOut, NDArray x, long blockLen, double[] w, double eps, ParamIndex idx) {
        NDArray xc = x.contiguous(), gc = gradOut.contiguous();
        NDArray dx = NDArray.zeros(x.dtype(), x.shape());
        DType t = x.dtype();
        MemorySegment xs = xc.segment(), gs = gc.segment(), ds = dx.segment();
        forBlocks(x.numel(), blockLen, (blk, buf) -> {
            long base = blk * blockLen;
            int n = (int) blockLen;
            for (int i = 0; i < n; i++) buf[i] = Elements.getDouble(xs, t, xc.offset() + base + i);
            double[] stats = stats(buf, n, eps);
            double sumG = 0, sumGx = 0;
            for (int i = 0; i < n; i++) {
                double g = Elements.getDouble(gs, t, gc.offset() + base + i) * (w == null ? 1 : w[idx.at(blk, i)]);
                buf[i] = (buf[i] - stats[0]) * stats[1];
                sumG += g;
                sumGx += g * buf[i];
            }
            double meanG = sumG / n, meanGx = sumGx / n;
            for (int i = 0; i < n; i++) {
                double g = Elements.getDouble(gs, t, gc.offset() + base + i) * (w == null ? 1 : w[idx.at(blk, i)]);
                Elements.setDouble(ds, t, base + i, stats[1] * (g - meanG - buf[i] * meanGx));
            }
        });
        return dx;
    }

    /** {mean, 1/sqrt(biased var + eps)} of {@code v[0..n)}, two-pass (shared with {@link Fused#skipLayerNorm}). */
    static double[] stats(double[] v, int n, double eps) {
        double sum = 0;
        for (int i = 0; i < n; i++) sum += v[i];
        double mean = sum / n, sq = 0;
        for (int i = 0; i < n; i++) sq += (v[i] - mean) * (v[i] - mean);
        return new double[] {mean, 1 / Math.sqrt(sq / n + eps)};
    }

    /** Work on one block of a tensor split into equal contiguous blocks, with a scratch buffer of one block. */
    @FunctionalInterface
    interface Block {
        void run(long block, double[] buffer);
    }

    /** Runs {@code body} on each block of {@code blockLen} elements, in parallel for large inputs; each worker has its own buffer. */
    static void forBlocks(long numel, long blockLen, Block body) {
        long blocks = blockLen == 0 ? 0 : numel / blockLen;
        Parallel.forRange(blocks, Math.max(1, Parallel.PARALLEL_THRESHOLD / Math.max(1, blockLen)), (start, end) -> {
            double[] buf = new double[(int) blockLen];
            for (long blk = start; blk < end; blk++) body.run(blk, buf);
        });
    }

    private static ParamIndex groupIndex(NDArray x, int groups) {
        long c = x.dim(1), perGroup = c / groups, spatial = x.numel() / Math.max(1, x.dim(0) * c);
        return (blk, off) -> (int) ((blk % groups) * perGroup + off / Math.max(1, spatial));
    }

    private static void checkInput(String op, NDArray x) {
        Checks.floating(op, x);
        if (x.rank() < 2) {
            throw new KilnException(op + ": input must be [N, C, ...] with rank >= 2, got shape " + Shapes.str(x.shape()));
        }
    }

    private static long layerBlock(String op, NDArray x, int dims) {
        Checks.floating(op, x);
        if (dims < 1 || dims > x.rank()) {
            throw new KilnException(op + ": normalized_dims must be in [1, " + x.rank() + "] for input "
                    + Shapes.str(x.shape()) + ", got " + dims);
        }
        long d = Shapes.numel(Arrays.copyOfRange(x.shape(), x.rank() - dims, x.rank()));
        Checks.toInt(op, "normalized size", d);
        return d;
    }

    private static long groupBlock(String op, NDArray x, int groups) {
        checkInput(op, x);
        long c = x.dim(1);
        if (groups < 1 || c % groups != 0) {
            throw new KilnException(op + ": " + c + " channels of input " + Shapes.str(x.shape())
                    + " are not divisible by groups " + groups);
        }
        long block = x.dim(0) == 0 ? 0 : x.numel() / x.dim(0) / groups;
        Checks.toInt(op, "group size", block);
        return block;
    }

    private static double[] param(String op, String name, NDArray p, NDArray x, long c) {
        Checks.sameDType(op, x, p);
        if (p.rank() != 1 || p.dim(0) != c) {
            throw new KilnException(op + ": " + name + " must have shape [" + c + "] for input "
                    + Shapes.str(x.shape()) + ", got " + Shapes.str(p.shape()));
        }
        return p.toDoubleArray();
    }

    private static double[] trailing(String op, String name, NDArray p, NDArray x, int dims) {
        if (p == null) return null;
        Checks.sameDType(op, x, p);
        long[] expected = Arrays.copyOfRange(x.shape(), x.rank() - dims, x.rank());
        if (!Arrays.equals(p.shape(), expected)) {
            throw new KilnException(op + ": " + name + " must have the normalized shape " + Shapes.str(expected)
                    + ", got " + Shapes.str(p.shape()));
        }
        return p.toDoubleArray();
    }

    private static void checkGradOut(String op, NDArray gradOut, NDArray x) {
        Checks.sameDType(op, gradOut, x);
        if (!Arrays.equals(gradOut.shape(), x.shape())) {
            throw new KilnException(op + ": grad_out " + Shapes.str(gradOut.shape()) + " must have the shape of x "
                    + Shapes.str(x.shape()));
        }
    }
}
