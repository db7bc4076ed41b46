package dev.kiln.frontend.nn;

import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;

/** Weight initialisers matching PyTorch's layer defaults. */
final class Init {

    private Init() {}

    /**
     * PyTorch's default for Linear and Conv weights and biases: kaiming_uniform with a = sqrt(5),
     * which is uniform in ±1/sqrt(fan_in).
     */
    static Parameter defaultUniform(long fanIn, long... shape) {
        double bound = 1.0 / Math.sqrt(fanIn);
        return new Parameter(Tensor.uniform(Generator.defaultGenerator(), -bound, bound, shape));
    }
}
