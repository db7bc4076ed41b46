package dev.kiln.codegen;

import dev.kiln.runtime.Elements;
import dev.kiln.runtime.kernels.MathFunctions;

import java.lang.foreign.MemorySegment;

/**
 * Scalar f32 forms of the elementwise ops generated loops compute, one static method per op, each with the
 * reference kernel's semantics (math in double, rounded once to f32). Generated code calls them for loop tails
 * and for ops that have no vector form; the JIT inlines them.
 */
public final class ScalarF32 {
    private ScalarF32() {}

    public static float load(MemorySegment s, long index) { return s.getAtIndex(Elements.F32, index); }

    public static void store(MemorySegment s, long index, float v) { s.setAtIndex(Elements.F32, index, v); }

    public static float add(float a, float b) { return a + b; }

    public static float sub(float a, float b) { return a - b; }

    public static float mul(float a, float b) { return a * b; }

    public static float div(float a, float b) { return a / b; }

    public static float maximum(float a, float b) { return Math.max(a, b); }

    public static float minimum(float a, float b) { return Math.min(a, b); }

    public static float neg(float x) { return -x; }

    public static float relu(float x) { return Math.max(x, 0f); }

    public static float abs(float x) { return Math.abs(x); }

    public static float sigmoid(float x) { return (float) (1.0 / (1.0 + Math.exp(-(double) x))); }

    public static float tanh(float x) { return (float) Math.tanh(x); }

    public static float exp(float x) { return (float) Math.exp(x); }

    public static float log(float x) { return (float) Math.log(x); }

    public static float sqrt(float x) { return (float) Math.sqrt(x); }

    public static float rsqrt(float x) { return (float) (1.0 / Math.sqrt(x)); }

    public static float reciprocal(float x) { return (float) (1.0 / x); }

    public static float silu(float x) { return (float) (x / (1.0 + Math.exp(-(double) x))); }

    public static float gelu(float x) { return (float) MathFunctions.gelu(x, false); }

    public static float geluTanh(float x) { return (float) MathFunctions.gelu(x, true); }

    public static float leakyRelu(float x, float slope) { return (float) (x > 0 ? x : x * (double) slope); }

    public static float elu(float x, float alpha) { return (float) (x <= 0 ? alpha * Math.expm1(x) : x); }

    public static float clamp(float x, float lo, float hi) { return Math.min(Math.max(x, lo), hi); }

    /** The start value of a trailing reduction. */
    public static float identity(int reduction) {
        return switch (reduction) {
            case Reduction.MAX -> Float.NEGATIVE_INFINITY;
            case Reduction.MIN -> Float.POSITIVE_INFINITY;
            default -> 0f;
        };
    }

    public static float combine(int reduction, float acc, float v) {
        return switch (reduction) {
            case Reduction.MAX -> Math.max(acc, v);
            case Reduction.MIN -> Math.min(acc, v);
            default -> acc + v;
        };
    }

    /** The kinds of trailing reduction a generated loop computes (sum and mean accumulate alike). */
    public static final class Reduction {
        public static final int SUM = 0, MAX = 1, MIN = 2;

        private Reduction() {}
    }
}
