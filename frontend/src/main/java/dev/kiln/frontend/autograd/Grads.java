package dev.kiln.frontend.autograd;

import dev.kiln.frontend.Tensor;

import java.util.Arrays;

/** Helpers shared by gradient rules. */
public final class Grads {

    private Grads() {}

    /**
     * Sums a broadcast gradient back to {@code shape}: leading dims added by broadcasting are summed
     * away, and dims that were 1 are summed with keepdim.
     */
    public static Tensor sumToShape(Tensor grad, long[] shape) {
        long[] g = grad.shape();
        if (Arrays.equals(g, shape)) return grad;
        int lead = g.length - shape.length;
        int[] axes = new int[g.length];
        int n = 0;
        for (int i = 0; i < g.length; i++) {
            if (i < lead || (shape[i - lead] == 1 && g[i] != 1)) axes[n++] = i;
        }
        Tensor summed = n == 0 ? grad : grad.sum(Arrays.copyOf(axes, n), true);
        return summed.reshape(shape);
    }

    /** A gradient of {@code like}'s type and shape, all zeros. */
    public static Tensor zerosLike(GradContext ctx, int input) {
        return Tensor.zeros(ctx.inputDType(input), ctx.inputShape(input));
    }
}
