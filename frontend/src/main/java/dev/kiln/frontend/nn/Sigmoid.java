package dev.kiln.frontend.nn;

import dev.kiln.frontend.Tensor;

/** The logistic function as a module. */
public final class Sigmoid extends Module {

    @Override
    public Tensor forward(Tensor input) { return input.sigmoid(); }
}
