package dev.kiln.frontend.nn;

import dev.kiln.frontend.Tensor;

/** {@code min(max(x, 0), 6)} as a module. */
public final class ReLU6 extends Module {

    @Override
    public Tensor forward(Tensor input) { return input.relu6(); }
}
