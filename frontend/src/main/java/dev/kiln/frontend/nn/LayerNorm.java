package dev.kiln.frontend.nn;

import dev.kiln.frontend.F;
import dev.kiln.frontend.Tensor;

import java.util.Arrays;

/** Normalises over the trailing {@code normalizedShape} dims, with a learned scale and shift. */
public final class LayerNorm extends Module {

    private final long[] normalizedShape;
    private final double eps;
    private final Parameter weight;
    private final Parameter bias;

    public LayerNorm(long... normalizedShape) { this(normalizedShape, 1e-5, true); }

    public LayerNorm(long[] normalizedShape, double eps, boolean elementwiseAffine) {
        this.normalizedShape = normalizedShape.clone();
        this.eps = eps;
        this.weight = elementwiseAffine ? new Parameter(Tensor.ones(normalizedShape)) : null;
        this.bias = elementwiseAffine ? new Parameter(Tensor.zeros(normalizedShape)) : null;
    }

    @Override
    public Tensor forward(Tensor x) {
        int k = normalizedShape.length;
        long[] shape = x.shape();
        if (shape.length < k || !Arrays.equals(Arrays.copyOfRange(shape, shape.length - k, shape.length), normalizedShape)) {
            throw new IllegalArgumentException("LayerNorm" + Arrays.toString(normalizedShape) + ": input shape " + Arrays.toString(shape)
                    + " does not end with the normalized shape");
        }
        return F.layerNorm(x, k, weight, bias, eps);
    }

    @Override
    protected String extraRepr() { return Arrays.toString(normalizedShape) + ", eps=" + eps; }
}
