package dev.kiln.frontend.autograd;

/** Gradient rules of the elementwise math, comparison, logic and reduction ops. */
final class MathGrads {

    private MathGrads() {}

    static void register() {
    }
}
