package dev.kiln.frontend.autograd;

/** Gradient rules of the convolution, pooling, normalisation, embedding and dropout ops. */
final class NnGrads {

    private NnGrads() {}

    static void register() {
    }
}
