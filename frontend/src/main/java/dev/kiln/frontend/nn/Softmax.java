package dev.kiln.frontend.nn;

import dev.kiln.frontend.Tensor;

/** Softmax along one axis. */
public final class Softmax extends Module {

    private final int axis;

    public Softmax(int axis) { this.axis = axis; }

    @Override
    public Tensor forward(Tensor input) { return input.softmax(axis); }

    @Override
    protected String extraRepr() { return "dim=" + axis; }
}
