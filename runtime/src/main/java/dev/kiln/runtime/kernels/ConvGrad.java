package dev.kiln.runtime.kernels;

import dev.kiln.ir.KilnException;
import dev.kiln.ir.DType;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.Shapes;

import java.util.Arrays;

/**
 * The gradients of {@link Conv#conv2d}: w.r.t. the input (a transposed convolution: GEMM then col2im) and
 * w.r.t. the weight (im2col then a GEMM against the output gradient). f32 and f64 natively, f16/bf16 in f32.
 */
public final class ConvGrad {
    private ConvGrad() {}

    /**
     * {@code dx[N, C, inputSize]} of {@code conv2d(x, w)} given {@code gradOut[N, O, oh, ow]}, where
     * {@code w} is {@code [O, C/groups, kh, kw]} and {@code oh, ow} must be the conv output size of {@code inputSize}.
     */
    public static NDArray conv2dInputGrad(NDArray gradOut, NDArray w, int[] inputSize, int[] stride, int[] padding,
                                          int[] dilation, int groups) {
        String op = "conv2d_input_grad";
        checkPair(op, gradOut, w, groups);
        int[] size = Checks.pair(op, "input_size", inputSize, 1, 1);
        Im2col.Geometry g = geometry(op, w, groups, size[0], size[1], stride, padding, dilation, -1, -1);
        if (gradOut.dim(1) != w.dim(0) || gradOut.dim(2) != g.oh() || gradOut.dim(3) != g.ow()) {
            throw new KilnException(op + ": grad_out " + Shapes.str(gradOut.shape()) + " does not match the conv2d"
                    + " output [N, " + w.dim(0) + ", " + g.oh() + ", " + g.ow() + "] of input size " + Arrays.toString(size));
        }
        DType t = gradOut.dtype();
        if (t == DType.F16 || t == DType.BF16) {
            return conv2dInputGrad(gradOut.to(DType.F32), w.to(DType.F32), size, stride, padding, dilation, groups).to(t);
        }
        return ConvCore.inputGrad(gradOut.contiguous(), w.contiguous(), g, groups);
    }

    /**
     * {@code dw[O, C/groups, kernelSize]} of {@code conv2d(x, w)} given {@code gradOut[N, O, oh, ow]}. The output
     * grid may be smaller than the convolution's (only its leading positions then contribute), which is what the
     * weight gradient of a transposed convolution needs.
     */
    public static NDArray conv2dWeightGrad(NDArray x, NDArray gradOut, int[] kernelSize, int[] stride, int[] padding,
                                           int[] dilation, int groups) {
        String op = "conv2d_weight_grad";
        Checks.rank(op, "input", x, 4);
        Checks.rank(op, "grad_out", gradOut, 4);
        Checks.floating(op, x);
        Checks.sameDType(op, x, gradOut);
        if (groups < 1) throw new KilnException(op + ": groups must be >= 1, got " + groups);
        if (x.dim(1) % groups != 0 || gradOut.dim(1) % groups != 0 || x.dim(0) != gradOut.dim(0)) {
            throw new KilnException(op + ": input " + Shapes.str(x.shape()) + " and grad_out "
                    + Shapes.str(gradOut.shape()) + " need equal batch sizes and channel counts divisible by groups=" + groups);
        }
        int[] k = Checks.pair(op, "kernel_size", kernelSize, 1, 1);
        int[] s = Checks.pair(op, "stride", stride, 1, 1);
        int[] p = Checks.pair(op, "padding", padding, 0, 0);
        int[] d = Checks.pair(op, "dilation", dilation, 1, 1);
        long[] natural = {natural(x.dim(2), k[0], s[0], p[0], d[0]), natural(x.dim(3), k[1], s[1], p[1], d[1])};
        if (gradOut.dim(2) > natural[0] || gradOut.dim(3) > natural[1]) {
            throw new KilnException(op + ": grad_out " + Shapes.str(gradOut.shape()) + " has more positions than the"
                    + " convolution of input " + Shapes.str(x.shape()) + " gives (" + Math.max(natural[0], 0) + " x "
                    + Math.max(natural[1], 0) + ")");
        }
        DType t = x.dtype();
        if (t == DType.F16 || t == DType.BF16) {
            return conv2dWeightGrad(x.to(DType.F32), gradOut.to(DType.F32), k, s, p, d, groups).to(t);
        }
        Im2col.Geometry g = new Im2col.Geometry(x.dim(1) / groups, x.dim(2), x.dim(3), k[0], k[1], s[0], s[1], p[0],
                p[1], d[0], d[1], gradOut.dim(2), gradOut.dim(3));
        return ConvCore.weightGrad(x.contiguous(), gradOut.contiguous(), g, groups);
    }

    /** Rank, dtype and group checks shared by the ops that apply a conv weight {@code w} to {@code a}. */
    static void checkPair(String op, NDArray a, NDArray w, int groups) {
        Checks.rank(op, "input", a, 4);
        Checks.rank(op, "weight", w, 4);
        Checks.floating(op, a);
        Checks.sameDType(op, a, w);
        if (groups < 1) throw new KilnException(op + ": groups must be >= 1, got " + groups);
        if (w.dim(0) % groups != 0) {
            throw new KilnException(op + ": groups=" + groups + " does not divide weight dim 0 of "
                    + Shapes.str(w.shape()));
        }
        if (w.dim(2) == 0 || w.dim(3) == 0) {
            throw new KilnException(op + ": weight " + Shapes.str(w.shape()) + " has an empty kernel");
        }
    }

    /**
     * The conv2d geometry of weight {@code w} over an input plane {@code h x w} whose channels per group are
     * {@code w.dim(1)}; the output grid is {@code oh x ow}, or the natural conv output where those are negative.
     */
    static Im2col.Geometry geometry(String op, NDArray w, int groups, long h, long wd, int[] stride, int[] padding,
                                    int[] dilation, long oh, long ow) {
        int[] s = Checks.pair(op, "stride", stride, 1, 1);
        int[] p = Checks.pair(op, "padding", padding, 0, 0);
        int[] d = Checks.pair(op, "dilation", dilation, 1, 1);
        long kh = w.dim(2), kw = w.dim(3);
        long nh = natural(h, kh, s[0], p[0], d[0]), nw = natural(wd, kw, s[1], p[1], d[1]);
        if (nh < 1 || nw < 1) {
            throw new KilnException(op + ": input size " + h + " x " + wd + " is smaller than the kernel window"
                    + " of weight " + Shapes.str(w.shape()) + " with padding " + Arrays.toString(p) + " and dilation "
                    + Arrays.toString(d));
        }
        return new Im2col.Geometry(w.dim(1), h, wd, kh, kw, s[0], s[1], p[0], p[1], d[0], d[1],
                oh < 0 ? nh : oh, ow < 0 ? nw : ow);
    }

    /** The conv output size along one axis, {@code floor((in + 2p - d(k-1) - 1) / s) + 1} (may be <= 0). */
    static long natural(long in, long k, long s, long p, long d) {
        return Math.floorDiv(in + 2 * p - d * (k - 1) - 1, s) + 1;
    }
}
