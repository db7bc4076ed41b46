package dev.kiln.tracer;

import dev.kiln.frontend.Tensor;

import java.io.Serializable;

/** A capturable function of two tensors; see {@link TensorFunction}. */
@FunctionalInterface
public interface TensorFunction2 extends Serializable {
    Tensor apply(Tensor x, Tensor y);
}
