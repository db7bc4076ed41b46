package dev.kiln.frontend.nn;

import dev.kiln.frontend.Tensor;

/** {@code max(x, 0)} as a module. */
public final class ReLU extends Module {
    @Override
    public Tensor forward(Tensor input) { return input.relu(); }
}
