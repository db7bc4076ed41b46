package dev.kiln.frontend.nn;

import dev.kiln.frontend.Tensor;

/** The Gaussian error linear unit, exact or with the tanh approximation. */
public final class GELU extends Module {

    private final boolean tanhApproximation;

    public GELU() { this(false); }

    public GELU(boolean tanhApproximation) { this.tanhApproximation = tanhApproximation; }

    @Override
    public Tensor forward(Tensor input) { return input.gelu(tanhApproximation); }

    @Override
    protected String extraRepr() { return "approximate=" + (tanhApproximation ? "tanh" : "none"); }
}
