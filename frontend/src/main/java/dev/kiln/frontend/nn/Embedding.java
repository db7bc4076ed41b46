package dev.kiln.frontend.nn;

import dev.kiln.frontend.F;
import dev.kiln.frontend.Tensor;

/** A lookup table of {@code num} vectors of size {@code dim}, initialised N(0, 1) as in PyTorch. */
public final class Embedding extends Module {

    private final Parameter weight;
    private final long paddingIdx;

    public Embedding(int num, int dim) { this(num, dim, -1); }

    /** {@code paddingIdx} (or -1 for none) names a row kept at zero that receives no gradient. */
    public Embedding(int num, int dim, long paddingIdx) {
        if (paddingIdx >= num || paddingIdx < -1) {
            throw new IllegalArgumentException("Embedding: padding_idx " + paddingIdx + " is out of range for " + num + " embeddings");
        }
        this.weight = new Parameter(Tensor.zeros(num, dim));
        Init.normal(weight, 0, 1);
        if (paddingIdx >= 0) {
            for (long j = 0; j < dim; j++) weight.data().setFlat(paddingIdx * dim + j, 0);
        }
        this.paddingIdx = paddingIdx;
    }

    @Override
    public Tensor forward(Tensor indices) { return F.embedding(indices, weight, paddingIdx); }

    public Parameter weight() { return weight; }

    @Override
    protected String extraRepr() { return weight.dim(0) + ", " + weight.dim(1) + (paddingIdx >= 0 ? ", padding_idx=" + paddingIdx : ""); }
}
