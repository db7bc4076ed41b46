package dev.kiln.frontend.nn;

import dev.kiln.frontend.Tensor;

/** The hyperbolic tangent as a module. */
public final class Tanh extends Module {

    @Override
    public Tensor forward(Tensor input) { return input.tanh(); }
}
