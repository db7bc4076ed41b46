package dev.kiln.frontend.nn;

import dev.kiln.frontend.Tensor;

/** Zeroes elements with probability {@code p} in training (scaling the rest by 1/(1-p)); identity in eval. */
public final class Dropout extends Module {

    private final double p;

    public Dropout() { this(0.5); }

    public Dropout(double p) {
        if (p < 0 || p > 1) throw new IllegalArgumentException("Dropout: p must be in [0, 1], got " + p);
        this.p = p;
    }

    @Override
    public Tensor forward(Tensor input) { return dev.kiln.frontend.F.dropout(input, p, isTraining()); }

    @Override
    protected String extraRepr() { return "p=" + p; }
}
