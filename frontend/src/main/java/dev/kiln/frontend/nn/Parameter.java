package dev.kiln.frontend.nn;

import dev.kiln.frontend.Tensor;

/**
 * A tensor that is a learnable part of a {@link Module}: found automatically when held in a field,
 * named by its path ({@code conv1.weight}), and traced as a named weight rather than a constant.
 */
public final class Parameter extends Tensor {

    private final boolean requiresGrad;

    public Parameter(Tensor value) { this(value, true); }

    public Parameter(Tensor value, boolean requiresGrad) {
        super(value.data());
        this.requiresGrad = requiresGrad;
    }

    public boolean requiresGrad() { return requiresGrad; }

    @Override
    public String toString() { return "Parameter" + data(); }
}
