package dev.kiln.runtime.kernels;

/** Elementwise functions of one operand. */
enum UnaryOp {
    NEG("neg", true), RELU("relu", true), SIGMOID("sigmoid", false), TANH("tanh", false);

    final String opName;
    /** Whether the op is defined on integer tensors too. */
    final boolean integral;

    UnaryOp(String opName, boolean integral) {
        this.opName = opName;
        this.integral = integral;
    }

    double apply(double x) {
        return switch (this) {
            case NEG -> -x;
            case RELU -> Math.max(x, 0.0);
            case SIGMOID -> 1.0 / (1.0 + Math.exp(-x));
            case TANH -> Math.tanh(x);
        };
    }

    long apply(long x) {
        return switch (this) {
            case NEG -> -x;
            case RELU -> Math.max(x, 0L);
            case SIGMOID, TANH -> throw new IllegalArgumentException(opName + ": not defined for integers");
        };
    }
}
