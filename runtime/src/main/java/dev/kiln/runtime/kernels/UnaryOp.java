package dev.kiln.runtime.kernels;

import dev.kiln.ir.KilnException;

/** Elementwise functions of one operand, without attributes. */
enum UnaryOp {
    NEG("neg", true), RELU("relu", true), SIGMOID("sigmoid", false), TANH("tanh", false),
    ABS("abs", true), SIGN("sign", true), EXP("exp", false), LOG("log", false), LOG1P("log1p", false),
    SQRT("sqrt", false), RSQRT("rsqrt", false), RECIPROCAL("reciprocal", false), SIN("sin", false),
    COS("cos", false), ERF("erf", false), FLOOR("floor", true), CEIL("ceil", true), ROUND("round", true),
    SILU("silu", false);

    final String opName;
    /** Whether the op is defined on integer tensors too. */
    final boolean integral;

    UnaryOp(String opName, boolean integral) {
        this.opName = opName;
        this.integral = integral;
    }

    /** The function in double; f32 and f16/bf16 round the result back. */
    double apply(double x) {
        return switch (this) {
            case NEG -> -x;
            case RELU -> Math.max(x, 0.0);
            case SIGMOID -> 1.0 / (1.0 + Math.exp(-x));
            case TANH -> Math.tanh(x);
            case ABS -> Math.abs(x);
            case SIGN -> MathFunctions.sign(x);
            case EXP -> Math.exp(x);
            case LOG -> Math.log(x);
            case LOG1P -> Math.log1p(x);
            case SQRT -> Math.sqrt(x);
            case RSQRT -> 1.0 / Math.sqrt(x);
            case RECIPROCAL -> 1.0 / x;
            case SIN -> Math.sin(x);
            case COS -> Math.cos(x);
            case ERF -> MathFunctions.erf(x);
            case FLOOR -> Math.floor(x);
            case CEIL -> Math.ceil(x);
            case ROUND -> Math.rint(x);
            case SILU -> x / (1.0 + Math.exp(-x));
        };
    }

    /** Integer semantics (wrap-around); rounding ops are the identity. */
    long apply(long x) {
        return switch (this) {
            case NEG -> -x;
            case RELU -> Math.max(x, 0L);
            case ABS -> Math.abs(x);
            case SIGN -> Long.signum(x);
            case FLOOR, CEIL, ROUND -> x;
            default -> throw new KilnException(opName + ": not defined for integers");
        };
    }

    /** u64 semantics on the elements' bits: relu and abs are the identity, sign is 0 or 1, neg wraps. */
    long applyUnsigned(long x) {
        return switch (this) {
            case RELU, ABS -> x;
            case SIGN -> x == 0 ? 0 : 1;
            default -> apply(x);
        };
    }
}
