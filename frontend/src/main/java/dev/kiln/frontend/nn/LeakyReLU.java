package dev.kiln.frontend.nn;

import dev.kiln.frontend.Tensor;

/** {@code x} for positive inputs, {@code slope * x} otherwise. */
public final class LeakyReLU extends Module {

    private final double negativeSlope;

    public LeakyReLU() { this(0.01); }

    public LeakyReLU(double negativeSlope) { this.negativeSlope = negativeSlope; }

    @Override
    public Tensor forward(Tensor input) { return input.leakyRelu(negativeSlope); }

    @Override
    protected String extraRepr() { return "negative_slope=" + negativeSlope; }
}
