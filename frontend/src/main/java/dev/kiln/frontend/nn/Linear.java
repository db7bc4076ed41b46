package dev.kiln.frontend.nn;

import dev.kiln.frontend.F;
import dev.kiln.frontend.Tensor;

/** {@code y = x W^T + b} with weight {@code [out, in]}, initialised as in PyTorch. */
public final class Linear extends Module {

    private final Parameter weight;
    private final Parameter bias;

    public Linear(int inFeatures, int outFeatures) { this(inFeatures, outFeatures, true); }

    public Linear(int inFeatures, int outFeatures, boolean withBias) {
        if (inFeatures < 1 || outFeatures < 1) {
            throw new IllegalArgumentException("Linear: features must be >= 1, got in=" + inFeatures + ", out=" + outFeatures);
        }
        this.weight = Init.defaultWeight(outFeatures, inFeatures);
        this.bias = withBias ? Init.defaultBias(inFeatures, outFeatures) : null;
    }

    @Override
    public Tensor forward(Tensor input) { return F.linear(input, weight, bias); }

    public Parameter weight() { return weight; }

    public Parameter bias() { return bias; }

    @Override
    protected String extraRepr() {
        return "in_features=" + weight.dim(1) + ", out_features=" + weight.dim(0) + ", bias=" + (bias != null);
    }
}
