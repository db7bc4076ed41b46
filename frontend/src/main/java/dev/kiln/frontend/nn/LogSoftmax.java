package dev.kiln.frontend.nn;

import dev.kiln.frontend.Tensor;

/** Log-softmax along one axis. */
public final class LogSoftmax extends Module {

    private final int axis;

    public LogSoftmax(int axis) { this.axis = axis; }

    @Override
    public Tensor forward(Tensor input) { return input.logSoftmax(axis); }

    @Override
    protected String extraRepr() { return "dim=" + axis; }
}
