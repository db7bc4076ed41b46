package dev.kiln.runtime.kernels;

import dev.kiln.ir.KilnException;
import dev.kiln.ir.DType;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.Shapes;

import java.util.Arrays;

/**
 * 2-D transposed convolution with PyTorch {@code ConvTranspose2d} semantics: the adjoint of {@link Conv#conv2d}
 * w.r.t. its input, computed as a GEMM then col2im. Weight is {@code [C, O/groups, kh, kw]}; output size per axis
 * is {@code (in-1)*s - 2p + d(k-1) + output_padding + 1}. Also its input gradient, which is a conv2d.
 */
public final class ConvTranspose {
    private ConvTranspose() {}

    /**
     * Transposed convolution of {@code x[N, C, H, W]} with {@code w[C, O/groups, kh, kw]} plus {@code bias[O]} if
     * given. Each output padding entry must be smaller than the stride or the dilation along its axis.
     */
    public static NDArray convTranspose2d(NDArray x, NDArray w, NDArray biasOrNull, int[] stride, int[] padding,
                                          int[] outputPadding, int[] dilation, int groups) {
        String op = "conv_transpose2d";
        ConvGrad.checkPair(op, x, w, groups);
        if (x.dim(1) != w.dim(0)) {
            throw new KilnException(op + ": input " + Shapes.str(x.shape()) + " has " + x.dim(1)
                    + " channels but weight " + Shapes.str(w.shape()) + " expects " + w.dim(0));
        }
        long outCh = w.dim(1) * groups;
        if (biasOrNull != null) {
            Checks.sameDType(op, x, biasOrNull);
            if (biasOrNull.rank() != 1 || biasOrNull.dim(0) != outCh) {
                throw new KilnException(op + ": bias " + Shapes.str(biasOrNull.shape()) + " must have shape ["
                        + outCh + "] to match weight " + Shapes.str(w.shape()) + " with groups=" + groups);
            }
        }
        int[] s = Checks.pair(op, "stride", stride, 1, 1);
        int[] p = Checks.pair(op, "padding", padding, 0, 0);
        int[] d = Checks.pair(op, "dilation", dilation, 1, 1);
        int[] op2 = Checks.pair(op, "output_padding", outputPadding, 0, 0);
        for (int i = 0; i < 2; i++) {
            if (op2[i] >= s[i] && op2[i] >= d[i]) {
                throw new KilnException(op + ": output_padding " + Arrays.toString(op2) + " must be smaller than"
                        + " either stride " + Arrays.toString(s) + " or dilation " + Arrays.toString(d));
            }
        }
        long oh = outputSize(op, x, w, 0, s, p, op2, d), ow = outputSize(op, x, w, 1, s, p, op2, d);
        DType t = x.dtype();
        if (t == DType.F16 || t == DType.BF16) {
            return convTranspose2d(x.to(DType.F32), w.to(DType.F32), biasOrNull == null ? null : biasOrNull.to(DType.F32),
                    s, p, op2, d, groups).to(t);
        }
        Im2col.Geometry g = ConvGrad.geometry(op, w, groups, oh, ow, s, p, d, x.dim(2), x.dim(3));
        NDArray out = ConvCore.inputGrad(x.contiguous(), w.contiguous(), g, groups);
        if (biasOrNull != null) ConvCore.addBias(out, biasOrNull);
        return out;
    }

    /**
     * {@code dx[N, C, inputSize]} of {@code convTranspose2d(x, w)} given {@code gradOut[N, O, oh, ow]}: the conv2d of
     * {@code gradOut} with {@code w}, evaluated on the {@code inputSize} grid.
     */
    public static NDArray inputGrad(NDArray gradOut, NDArray w, int[] inputSize, int[] stride, int[] padding,
                                    int[] dilation, int groups) {
        String op = "conv_transpose2d_input_grad";
        ConvGrad.checkPair(op, gradOut, w, groups);
        int[] size = Checks.pair(op, "input_size", inputSize, 1, 1);
        if (gradOut.dim(1) != w.dim(1) * groups) {
            throw new KilnException(op + ": grad_out " + Shapes.str(gradOut.shape()) + " has " + gradOut.dim(1)
                    + " channels but weight " + Shapes.str(w.shape()) + " with groups=" + groups + " gives " + w.dim(1) * groups);
        }
        Im2col.Geometry g = ConvGrad.geometry(op, w, groups, gradOut.dim(2), gradOut.dim(3), stride, padding, dilation,
                size[0], size[1]);
        long nh = ConvGrad.natural(g.h(), g.kh(), g.sh(), g.ph(), g.dh());
        long nw = ConvGrad.natural(g.w(), g.kw(), g.sw(), g.pw(), g.dw());
        if (size[0] > nh || size[1] > nw) {
            throw new KilnException(op + ": input size " + Arrays.toString(size) + " is larger than the"
                    + " convolution of grad_out " + Shapes.str(gradOut.shape()) + " gives (" + nh + " x " + nw + ")");
        }
        DType t = gradOut.dtype();
        if (t == DType.F16 || t == DType.BF16) {
            return inputGrad(gradOut.to(DType.F32), w.to(DType.F32), size, stride, padding, dilation, groups).to(t);
        }
        return ConvCore.forward(gradOut.contiguous(), w.contiguous(), null, g, groups);
    }

    private static long outputSize(String op, NDArray x, NDArray w, int axis, int[] s, int[] p, int[] outputPadding, int[] d) {
        long in = x.dim(2 + axis), k = w.dim(2 + axis);
        long out = (in - 1) * s[axis] - 2L * p[axis] + d[axis] * (k - 1) + outputPadding[axis] + 1;
        if (in < 1 || out < 1) {
            throw new KilnException(op + ": input " + Shapes.str(x.shape()) + " with weight " + Shapes.str(w.shape())
                    + ", stride " + Arrays.toString(s) + ", padding " + Arrays.toString(p) + " gives a non-positive output size "
                    + out + " along " + (axis == 0 ? "height" : "width"));
        }
        return out;
    }
}
