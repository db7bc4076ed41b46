package dev.kiln.frontend.nn;

import dev.kiln.frontend.Tensor;

/**
 * A tensor that belongs to a module's state but is not learned (e.g. BatchNorm's running mean):
 * found like parameters, saved in the state dict, updated in place without gradients.
 */
public final class Buffer extends Tensor {

    public Buffer(Tensor value) { super(value.data()); }

    @Override
    public String toString() { return "Buffer" + data(); }
}
