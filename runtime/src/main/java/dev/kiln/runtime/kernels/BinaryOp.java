package dev.kiln.runtime.kernels;

import dev.kiln.ir.KilnException;

/** Elementwise arithmetic on two operands. */
enum BinaryOp {
    ADD("add"), SUB("sub"), MUL("mul"), DIV("div"),
    POW("pow"), REMAINDER("remainder"), MAXIMUM("maximum"), MINIMUM("minimum");

    final String opName;

    BinaryOp(String opName) {
        this.opName = opName;
    }

    /** Floating-point semantics: pow as C's, remainder with the divisor's sign, max/min propagate NaN. */
    double apply(double a, double b) {
        return switch (this) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case POW -> MathFunctions.pow(a, b);
            case REMAINDER -> MathFunctions.remainder(a, b);
            case MAXIMUM -> Math.max(a, b);
            case MINIMUM -> Math.min(a, b);
        };
    }

    float apply(float a, float b) {
        return switch (this) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case POW -> (float) MathFunctions.pow(a, b);
            case REMAINDER -> MathFunctions.remainder(a, b);
            case MAXIMUM -> Math.max(a, b);
            case MINIMUM -> Math.min(a, b);
        };
    }

    /** Integer semantics: wrap-around arithmetic, division truncates toward zero (as ONNX and C do). */
    long apply(long a, long b) {
        return switch (this) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> {
                if (b == 0) throw new KilnException("div: integer division by zero");
                yield a / b;
            }
            case POW -> throw new KilnException("pow: not defined for integer tensors; convert to a floating-point dtype first");
            case REMAINDER -> MathFunctions.remainder(a, b);
            case MAXIMUM -> Math.max(a, b);
            case MINIMUM -> Math.min(a, b);
        };
    }

    /** u64 semantics on the elements' bits: unsigned division, remainder, max and min; the rest as for longs. */
    long applyUnsigned(long a, long b) {
        return switch (this) {
            case DIV -> {
                if (b == 0) throw new KilnException("div: integer division by zero");
                yield Long.divideUnsigned(a, b);
            }
            case REMAINDER -> {
                if (b == 0) throw new KilnException("remainder: integer division by zero");
                yield Long.remainderUnsigned(a, b);
            }
            case MAXIMUM -> Long.compareUnsigned(a, b) >= 0 ? a : b;
            case MINIMUM -> Long.compareUnsigned(a, b) <= 0 ? a : b;
            default -> apply(a, b);
        };
    }
}
