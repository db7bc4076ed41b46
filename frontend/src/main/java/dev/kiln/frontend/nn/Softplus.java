package dev.kiln.frontend.nn;

import dev.kiln.frontend.Tensor;

/** {@code log(1 + exp(beta x)) / beta}, linear above {@code threshold}. */
public final class Softplus extends Module {

    private final double beta;
    private final double threshold;

    public Softplus() { this(1, 20); }

    public Softplus(double beta, double threshold) {
        this.beta = beta;
        this.threshold = threshold;
    }

    @Override
    public Tensor forward(Tensor input) { return input.softplus(beta, threshold); }

    @Override
    protected String extraRepr() { return "beta=" + beta + ", threshold=" + threshold; }
}
