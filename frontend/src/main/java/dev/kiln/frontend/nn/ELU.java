package dev.kiln.frontend.nn;

import dev.kiln.frontend.Tensor;

/** {@code x} for positive inputs, {@code alpha (exp(x) - 1)} otherwise. */
public final class ELU extends Module {

    private final double alpha;

    public ELU() { this(1.0); }

    public ELU(double alpha) { this.alpha = alpha; }

    @Override
    public Tensor forward(Tensor input) { return input.elu(alpha); }

    @Override
    protected String extraRepr() { return "alpha=" + alpha; }
}
