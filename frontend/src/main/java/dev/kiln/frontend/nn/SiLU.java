package dev.kiln.frontend.nn;

import dev.kiln.frontend.Tensor;

/** {@code x * sigmoid(x)} as a module. */
public final class SiLU extends Module {

    @Override
    public Tensor forward(Tensor input) { return input.silu(); }
}
