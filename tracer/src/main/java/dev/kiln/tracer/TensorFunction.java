package dev.kiln.tracer;

import dev.kiln.frontend.Tensor;

import java.io.Serializable;

/**
 * A function of one tensor that {@link Kiln#compile(TensorFunction, CompileOptions)} can capture: it
 * is Serializable so that the lambda's implementation method can be found and read. Lambdas that
 * capture variables are rejected; pass those values as inputs.
 */
@FunctionalInterface
public interface TensorFunction extends Serializable {
    Tensor apply(Tensor x);
}
