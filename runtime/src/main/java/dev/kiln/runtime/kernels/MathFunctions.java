package dev.kiln.runtime.kernels;

import dev.kiln.ir.KilnException;

/**
 * Scalar functions the JDK lacks or defines differently from C (which PyTorch follows): erf, C's pow,
 * Python's remainder and torch's sign; and gelu, shared by the gelu and bias_gelu kernels.
 */
public final class MathFunctions {
    private static final double TWO_OVER_SQRT_PI = 1.1283791670955126;
    private static final double INV_SQRT_PI = 0.5641895835477563;
    private static final double SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
    private static final double SQRT_HALF = Math.sqrt(0.5);

    private MathFunctions() {}

    /** {@code x * Phi(x)} with the exact erf form, or PyTorch's tanh approximation when {@code tanh}. */
    public static double gelu(double v, boolean tanh) {
        return tanh ? 0.5 * v * (1 + Math.tanh(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v)))
                : 0.5 * v * (1 + erf(v * SQRT_HALF));
    }

    /**
     * The error function, within a few ulp in double: for |x| < 3 the positive series
     * {@code 2/sqrt(pi) exp(-x^2) sum (2x^2)^n x / (2n+1)!!} (no cancellation), above that
     * {@code 1 - erfc(x)} from erfc's continued fraction; +-1 from |x| >= 6.
     */
    public static double erf(double x) {
        if (Double.isNaN(x)) return x;
        double ax = Math.abs(x);
        if (ax == 0) return x;
        if (ax >= 6) return Math.copySign(1.0, x);
        if (ax >= 3) return Math.copySign(1 - erfcContinuedFraction(ax), x);
        double x2 = 2 * ax * ax;
        double term = ax, sum = ax;
        for (int n = 1; n < 200 && term >= 1e-17 * sum; n++) {
            term *= x2 / (2 * n + 1);
            sum += term;
        }
        return Math.copySign(TWO_OVER_SQRT_PI * expNegSquare(ax) * sum, x);
    }

    /** erfc(x) for x >= 3 by backward evaluation of {@code 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))}. */
    private static double erfcContinuedFraction(double x) {
        double t = x;
        for (int k = 50; k >= 1; k--) t = x + (k * 0.5) / t;
        return INV_SQRT_PI * expNegSquare(x) / t;
    }

    /** {@code exp(-x*x)} with the rounding error of {@code x*x} folded back in. */
    private static double expNegSquare(double x) {
        double hi = x * x;
        double lo = Math.fma(x, x, -hi);
        return Math.exp(-hi) * (1 - lo);
    }

    /** C99 {@code pow}: like {@link Math#pow} except {@code pow(1, y) = 1} and {@code pow(-1, +-inf) = 1}. */
    static double pow(double a, double b) {
        if (a == 1.0) return 1.0;
        if (Double.isInfinite(b) && a == -1.0) return 1.0;
        return Math.pow(a, b);
    }

    /**
     * {@code x ** e} as torch's pow with a scalar exponent: exponents 0.5, -0.5, -1, 2, 3 and -2 are
     * sqrt, 1/sqrt, 1/x, x*x, x*x*x and 1/(x*x) (so {@code (-0.0) ** 0.5 = -0.0}, {@code (-inf) ** 0.5 = nan}).
     */
    static double powScalar(double x, double e) {
        if (e == 0.5) return Math.sqrt(x);
        if (e == -0.5) return 1 / Math.sqrt(x);
        if (e == -1) return 1 / x;
        if (e == 2) return x * x;
        if (e == 3) return x * x * x;
        if (e == -2) return 1 / (x * x);
        return pow(x, e);
    }

    /** Python's {@code a % b}: {@code fmod} moved onto the divisor's side (torch.remainder's formula). */
    static double remainder(double a, double b) {
        double m = a % b;
        if (m != 0 && (b < 0) != (m < 0)) m += b;
        return m;
    }

    /** {@link #remainder(double, double)} in f32 arithmetic. */
    static float remainder(float a, float b) {
        float m = a % b;
        if (m != 0 && (b < 0) != (m < 0)) m += b;
        return m;
    }

    /** Integer remainder with the divisor's sign; a zero divisor is an error, as in PyTorch. */
    static long remainder(long a, long b) {
        if (b == 0) throw new KilnException("remainder: integer remainder by zero");
        long r = a % b;
        if (r != 0 && (r < 0) != (b < 0)) r += b;
        return r;
    }

    /** torch.sign: {@code (0 < x) - (x < 0)}, so nan and -0.0 give +0.0. */
    static double sign(double x) {
        return x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0;
    }
}
