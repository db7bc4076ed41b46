package dev.kiln.runtime.kernels;

/** Elementwise arithmetic on two operands. */
enum BinaryOp {
    ADD("add"), SUB("sub"), MUL("mul"), DIV("div");

    final String opName;

    BinaryOp(String opName) {
        this.opName = opName;
    }

    double apply(double a, double b) {
        return switch (this) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
        };
    }

    float apply(float a, float b) {
        return switch (this) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
        };
    }

    /** Integer semantics: wrap-around arithmetic, division truncates toward zero (as ONNX and C do). */
    long apply(long a, long b) {
        return switch (this) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> {
                if (b == 0) throw new IllegalArgumentException("div: integer division by zero");
                yield a / b;
            }
        };
    }
}
