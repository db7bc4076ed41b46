package dev.kiln.frontend.optim;

import dev.kiln.frontend.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Gradient clipping, as {@code torch.nn.utils.clip_grad_norm_} and {@code clip_grad_value_}. Both modify the
 * gradients in place (directly on their memory, outside autograd) and skip parameters without a gradient.
 */
public final class GradClip {

    private GradClip() {}

    /** {@link #clipGradNorm(Iterable, double, double, boolean)} with the L2 norm, not failing on NaN or inf. */
    public static double clipGradNorm(Iterable<? extends Tensor> params, double maxNorm) {
        return clipGradNorm(params, maxNorm, 2, false);
    }

    /**
     * Scales all gradients together so that their total norm (the {@code normType}-norm of all gradient elements
     * together; {@code Double.POSITIVE_INFINITY} for the max-norm) is at most {@code maxNorm}: with
     * {@code coef = maxNorm / (total + 1e-6)}, every gradient is multiplied by {@code coef} when it is below 1.
     * A NaN or infinite norm makes the gradients NaN, as in PyTorch, unless {@code errorIfNonfinite}, which throws
     * instead (leaving them unchanged).
     *
     * @return the total norm before clipping (0 when no parameter has a gradient)
     */
    public static double clipGradNorm(Iterable<? extends Tensor> params, double maxNorm, double normType,
                                      boolean errorIfNonfinite) {
        if (!(maxNorm >= 0)) throw new IllegalArgumentException("clipGradNorm: maxNorm must be >= 0, got " + maxNorm);
        if (!(normType > 0)) throw new IllegalArgumentException("clipGradNorm: normType must be > 0 (or infinity), got " + normType);
        List<Tensor> grads = grads(params);
        double acc = 0;
        for (Tensor g : grads) {
            FlatAccess a = FlatAccess.of(g.data());
            for (long i = 0; i < g.numel(); i++) {
                double v = Math.abs(a.get(i));
                if (normType == Double.POSITIVE_INFINITY) acc = Double.isNaN(v) || v > acc ? v : acc;
                else if (normType == 2) acc += v * v;
                else acc += Math.pow(v, normType);
            }
            if (Double.isNaN(acc)) break;
        }
        double total = normType == Double.POSITIVE_INFINITY ? acc : normType == 2 ? Math.sqrt(acc) : Math.pow(acc, 1 / normType);
        if (errorIfNonfinite && !Double.isFinite(total)) {
            throw new IllegalStateException("clipGradNorm: the total " + normType + "-norm of the gradients is " + total
                    + "; clipping would make them NaN (pass errorIfNonfinite = false to allow it)");
        }
        double coef = maxNorm / (total + 1e-6);
        if (!(coef >= 1)) {
            for (Tensor g : grads) scale(g, coef);
        }
        return total;
    }

    /** Clamps every gradient element to {@code [-clipValue, clipValue]}. */
    public static void clipGradValue(Iterable<? extends Tensor> params, double clipValue) {
        if (!(clipValue >= 0)) throw new IllegalArgumentException("clipGradValue: clipValue must be >= 0, got " + clipValue);
        for (Tensor g : grads(params)) {
            FlatAccess a = FlatAccess.of(g.data());
            for (long i = 0; i < g.numel(); i++) {
                double v = a.get(i);
                if (v > clipValue) a.set(i, clipValue);
                else if (v < -clipValue) a.set(i, -clipValue);
            }
            g.bumpVersion();
        }
    }

    private static List<Tensor> grads(Iterable<? extends Tensor> params) {
        List<Tensor> out = new ArrayList<>();
        for (Tensor p : params) {
            if (p != null && p.grad() != null) out.add(p.grad());
        }
        return out;
    }

    private static void scale(Tensor g, double coef) {
        FlatAccess a = FlatAccess.of(g.data());
        for (long i = 0; i < g.numel(); i++) a.set(i, a.get(i) * coef);
        g.bumpVersion();
    }
}
