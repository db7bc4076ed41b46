package dev.kiln.runtime.kernels;

import dev.kiln.ir.KilnException;
import dev.kiln.ir.DType;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.Shapes;

/**
 * 2-D convolution (PyTorch {@code conv2d} semantics, cross-correlation) via im2col and one GEMM per chunk of
 * images and group (see {@link ConvCore}). f32 and f64 run natively; f16/bf16 are computed in f32.
 */
public final class Conv {
    private Conv() {}

    /**
     * Convolves {@code x[N, C, H, W]} (or unbatched {@code [C, H, W]}) with {@code w[O, C/groups, kh, kw]}, adds
     * {@code bias[O]} if given. {@code stride}, {@code padding} and {@code dilation} take 1 or 2 values (null
     * means 1, 0 and 1). Output size per dimension: {@code (in + 2p - d(k-1) - 1) / s + 1}.
     */
    public static NDArray conv2d(NDArray x, NDArray w, NDArray biasOrNull, int[] stride, int[] padding,
                                 int[] dilation, int groups) {
        String op = "conv2d";
        Checks.rank(op, "input", x, 3, 4);
        Checks.rank(op, "weight", w, 4);
        Checks.floating(op, x);
        Checks.sameDType(op, x, w);
        if (x.rank() == 3) {
            return conv2d(x.unsqueeze(0), w, biasOrNull, stride, padding, dilation, groups).squeeze(0);
        }
        int[] s = Checks.pair(op, "stride", stride, 1, 1);
        int[] p = Checks.pair(op, "padding", padding, 0, 0);
        int[] d = Checks.pair(op, "dilation", dilation, 1, 1);
        long[] xs = x.shape(), ws = w.shape();
        long channels = xs[1], outChannels = ws[0];
        checkChannels(x, w, groups, channels, outChannels);
        if (biasOrNull != null) {
            Checks.sameDType(op, x, biasOrNull);
            if (biasOrNull.rank() != 1 || biasOrNull.dim(0) != outChannels) {
                throw new KilnException("conv2d: bias " + Shapes.str(biasOrNull.shape())
                        + " must have shape [" + outChannels + "] to match weight " + Shapes.str(ws));
            }
        }
        if (ws[2] == 0 || ws[3] == 0) {
            throw new KilnException("conv2d: weight " + Shapes.str(ws) + " has an empty kernel");
        }
        long oh = outputSize(x, w, "height", xs[2], ws[2], s[0], p[0], d[0]);
        long ow = outputSize(x, w, "width", xs[3], ws[3], s[1], p[1], d[1]);
        DType t = x.dtype();
        if (t == DType.F16 || t == DType.BF16) {
            return conv2d(x.to(DType.F32), w.to(DType.F32), biasOrNull == null ? null : biasOrNull.to(DType.F32),
                    s, p, d, groups).to(t);
        }
        Im2col.Geometry g = new Im2col.Geometry(channels / groups, xs[2], xs[3], ws[2], ws[3], s[0], s[1], p[0],
                p[1], d[0], d[1], oh, ow);
        return ConvCore.forward(x.contiguous(), w.contiguous(), biasOrNull, g, groups);
    }

    private static void checkChannels(NDArray x, NDArray w, int groups, long channels, long outChannels) {
        String shapes = "input " + Shapes.str(x.shape()) + ", weight " + Shapes.str(w.shape());
        if (groups < 1) throw new KilnException("conv2d: groups must be >= 1, got " + groups);
        if (channels % groups != 0) {
            throw new KilnException("conv2d: groups=" + groups + " does not divide the " + channels
                    + " input channels (" + shapes + ")");
        }
        if (outChannels % groups != 0) {
            throw new KilnException("conv2d: groups=" + groups + " does not divide the " + outChannels
                    + " output channels (" + shapes + ")");
        }
        if (w.dim(1) * groups != channels) {
            throw new KilnException("conv2d: weight expects " + w.dim(1) + " input channels per group x "
                    + groups + " groups = " + w.dim(1) * groups + " channels but the input has " + channels
                    + " (" + shapes + ")");
        }
    }

    private static long outputSize(NDArray x, NDArray w, String dimension, long in, long k, long s, long p, long d) {
        long padded = in + 2 * p;
        long span = d * (k - 1) + 1;
        if (padded < span) {
            throw new KilnException("conv2d: output size is not positive: input " + Shapes.str(x.shape())
                    + " has " + dimension + " " + padded + " after padding but weight " + Shapes.str(w.shape())
                    + " spans " + span + " with dilation " + d);
        }
        return (padded - span) / s + 1;
    }
}
