package dev.kiln.runtime.kernels;

/** Elementwise comparisons producing bool tensors; NaN compares false (and {@code ne} true), as in IEEE 754. */
enum CompareOp {
    GT("gt"), LT("lt"), EQ("eq"), NE("ne"), LE("le"), GE("ge");

    final String opName;

    CompareOp(String opName) {
        this.opName = opName;
    }

    boolean test(double a, double b) {
        return switch (this) {
            case GT -> a > b;
            case LT -> a < b;
            case EQ -> a == b;
            case NE -> a != b;
            case LE -> a <= b;
            case GE -> a >= b;
        };
    }

    /** Integer comparison; u64 callers pass {@code Long.compareUnsigned(a, b)} and 0. */
    boolean test(long a, long b) {
        return switch (this) {
            case GT -> a > b;
            case LT -> a < b;
            case EQ -> a == b;
            case NE -> a != b;
            case LE -> a <= b;
            case GE -> a >= b;
        };
    }
}
