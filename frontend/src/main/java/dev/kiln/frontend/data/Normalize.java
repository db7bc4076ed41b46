package dev.kiln.frontend.data;

import dev.kiln.frontend.Tensor;
import dev.kiln.ir.DType;
import dev.kiln.runtime.NDArray;

import java.util.Arrays;

/**
 * {@code (x - mean) / std}, per channel for images {@code [..., C, H, W]} (channel dim -3, as torchvision's
 * {@code Normalize}) or with one mean and std for any tensor. The result is f32 (f64 for f64 input), so integer
 * images such as u8 can be normalised directly.
 */
public final class Normalize implements Transform {

    private final double[] mean;
    private final double[] std;

    /** One mean and std for every element. */
    public Normalize(double mean, double std) { this(new double[] {mean}, new double[] {std}); }

    /** Per-channel means and stds (one entry each applies to every channel). */
    public Normalize(double[] mean, double[] std) {
        if (mean.length == 0 || mean.length != std.length) {
            throw new IllegalArgumentException("Normalize: mean " + Arrays.toString(mean) + " and std "
                    + Arrays.toString(std) + " must be non-empty and of the same length");
        }
        for (int c = 0; c < mean.length; c++) {
            if (!Double.isFinite(mean[c])) throw new IllegalArgumentException("Normalize: mean[" + c + "] is " + mean[c]);
            if (!Double.isFinite(std[c]) || std[c] == 0) {
                throw new IllegalArgumentException("Normalize: std[" + c + "] is " + std[c] + "; it must be finite and non-zero");
            }
        }
        this.mean = mean.clone();
        this.std = std.clone();
    }

    @Override
    public Tensor apply(Tensor x) {
        NDArray in = x.data();
        long[] shape = in.shape();
        int channels = mean.length;
        long inner = 1;
        if (channels > 1) {
            if (shape.length < 3 || shape[shape.length - 3] != channels) {
                throw new IllegalArgumentException("Normalize: " + channels + " channel means need an image shaped"
                        + " [..., " + channels + ", H, W], got " + Arrays.toString(shape));
            }
            inner = shape[shape.length - 2] * shape[shape.length - 1];
        }
        DType outType = in.dtype() == DType.F64 ? DType.F64 : DType.F32;
        NDArray out = in.dtype() == outType ? in.copy() : in.to(outType).contiguous();
        long n = out.numel();
        for (long i = 0; i < n; i++) {
            int c = channels == 1 ? 0 : (int) ((i / inner) % channels);
            out.setFlat(i, (out.getFlat(i) - mean[c]) / std[c]);
        }
        return Tensor.wrap(out);
    }
}
