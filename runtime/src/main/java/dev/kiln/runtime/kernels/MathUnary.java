package dev.kiln.runtime.kernels;

import dev.kiln.ir.KilnException;
import dev.kiln.ir.DType;
import dev.kiln.runtime.Elements;
import dev.kiln.runtime.NDArray;

import java.lang.foreign.MemorySegment;
import java.util.function.DoubleUnaryOperator;
import java.util.function.LongUnaryOperator;

/**
 * Unary math kernels with PyTorch's edge cases. Results keep the input's dtype and shape; f32 and f64 are
 * computed in double and rounded once, f16/bf16 likewise through f32. Ops marked float-only reject integer
 * tensors; every op rejects bool except {@link Logic#logicalNot}.
 */
public final class MathUnary {

    private MathUnary() {}

    /** {@code |x|}; ints too ({@code abs(Long.MIN_VALUE)} wraps). */
    public static NDArray abs(NDArray x) { return unary(UnaryOp.ABS, x); }

    /** -1, 0 or 1; as torch.sign, {@code sign(nan) = 0} and {@code sign(-0.0) = 0.0}. */
    public static NDArray sign(NDArray x) { return unary(UnaryOp.SIGN, x); }

    public static NDArray exp(NDArray x) { return unary(UnaryOp.EXP, x); }

    /** Natural log: {@code log(0) = -inf}, negative inputs give NaN. */
    public static NDArray log(NDArray x) { return unary(UnaryOp.LOG, x); }

    public static NDArray log1p(NDArray x) { return unary(UnaryOp.LOG1P, x); }

    /** Square root; {@code sqrt(-0.0) = -0.0}, negative inputs give NaN. */
    public static NDArray sqrt(NDArray x) { return unary(UnaryOp.SQRT, x); }

    /** {@code 1 / sqrt(x)}: {@code rsqrt(0) = inf}, {@code rsqrt(-0.0) = -inf}. */
    public static NDArray rsqrt(NDArray x) { return unary(UnaryOp.RSQRT, x); }

    public static NDArray reciprocal(NDArray x) { return unary(UnaryOp.RECIPROCAL, x); }

    public static NDArray sin(NDArray x) { return unary(UnaryOp.SIN, x); }

    public static NDArray cos(NDArray x) { return unary(UnaryOp.COS, x); }

    /** The error function (within a few double ulp). */
    public static NDArray erf(NDArray x) { return unary(UnaryOp.ERF, x); }

    /** Rounds down; the identity on integer tensors. */
    public static NDArray floor(NDArray x) { return unary(UnaryOp.FLOOR, x); }

    /** Rounds up ({@code ceil(-0.5) = -0.0}); the identity on integer tensors. */
    public static NDArray ceil(NDArray x) { return unary(UnaryOp.CEIL, x); }

    /** Rounds half to even ({@code 0.5 -> 0}, {@code 1.5 -> 2}, {@code -0.5 -> -0.0}); the identity on ints. */
    public static NDArray round(NDArray x) { return unary(UnaryOp.ROUND, x); }

    /** {@code x / (1 + exp(-x))} ({@code silu(-inf)} is NaN, as in PyTorch). */
    public static NDArray silu(NDArray x) { return unary(UnaryOp.SILU, x); }

    /** {@code x > 0 ? x : slope * x}. */
    public static NDArray leakyRelu(NDArray x, double slope) {
        return map("leaky_relu", x, v -> v > 0 ? v : v * slope, null);
    }

    /** {@code x > 0 ? x : alpha * (exp(x) - 1)}. */
    public static NDArray elu(NDArray x, double alpha) {
        return map("elu", x, v -> v <= 0 ? alpha * Math.expm1(v) : v, null);
    }

    /** {@code x * Phi(x)} with the exact erf form, or PyTorch's tanh approximation when {@code tanh}. */
    public static NDArray gelu(NDArray x, boolean tanh) {
        return map("gelu", x, v -> MathFunctions.gelu(v, tanh), null);
    }

    /** {@code log1p(exp(beta x)) / beta}, or {@code x} where {@code beta x > threshold}. */
    public static NDArray softplus(NDArray x, double beta, double threshold) {
        return map("softplus", x, v -> v * beta > threshold ? v : Math.log1p(Math.exp(v * beta)) / beta, null);
    }

    /**
     * {@code min(max(x, min), max)}: {@code min > max} gives {@code max}, NaN in the input or a bound gives NaN.
     * Bounds are first rounded to the tensor's dtype; integer tensors need whole (or infinite) bounds.
     */
    public static NDArray clamp(NDArray x, double min, double max) {
        Checks.notBool("clamp", x);
        DType t = x.dtype();
        if (t.isFloatingPoint()) {
            double lo = roundTo(t, min), hi = roundTo(t, max);
            return map("clamp", x, v -> Math.min(Math.max(v, lo), hi), null);
        }
        long lo = integerBound(x, "min", min), hi = integerBound(x, "max", max);
        if (t == DType.U64) {
            return map("clamp", x, null, v -> {
                long up = Long.compareUnsigned(v, lo) < 0 ? lo : v;
                return Long.compareUnsigned(up, hi) > 0 ? hi : up;
            });
        }
        return map("clamp", x, v -> Math.min(Math.max(v, lo), hi), v -> Math.min(Math.max(v, lo), hi));
    }

    /** {@code x ** exponent} as torch.pow with a scalar exponent (see {@link MathFunctions#powScalar}). */
    public static NDArray powScalar(NDArray x, double exponent) {
        return map("pow_scalar", x, v -> MathFunctions.powScalar(v, exponent), null);
    }

    private static NDArray unary(UnaryOp op, NDArray x) { return Elementwise.unary(op, x, F32Rows.best()); }

    private static double roundTo(DType t, double v) {
        return switch (t) {
            case F32 -> (float) v;
            case F16 -> Float.float16ToFloat(Float.floatToFloat16((float) v));
            case BF16 -> Elements.bf16ToFloat(Elements.floatToBf16((float) v));
            default -> v;
        };
    }

    /** A clamp bound as an element of {@code x}'s integer dtype (u64: its bits); infinities mean no bound. */
    private static long integerBound(NDArray x, String name, double v) {
        boolean u64 = x.dtype() == DType.U64;
        if (Double.isInfinite(v)) return v > 0 ? (u64 ? -1L : Long.MAX_VALUE) : (u64 ? 0 : Long.MIN_VALUE);
        if (v != Math.rint(v)) {
            throw new KilnException("clamp: " + name + " = " + v + " is not a whole number, so it cannot clamp an "
                    + x.dtype() + " tensor; convert the tensor to a floating-point dtype first");
        }
        long lo = switch (x.dtype()) {
            case I8 -> Byte.MIN_VALUE;
            case U8, U16, U32 -> 0;
            case I16 -> Short.MIN_VALUE;
            case I32 -> Integer.MIN_VALUE;
            default -> Long.MIN_VALUE;
        };
        long hi = switch (x.dtype()) {
            case I8 -> Byte.MAX_VALUE;
            case U8 -> 255;
            case U16 -> 0xFFFF;
            case U32 -> 0xFFFFFFFFL;
            case I16 -> Short.MAX_VALUE;
            case I32 -> Integer.MAX_VALUE;
            default -> Long.MAX_VALUE;
        };
        if (u64) {
            if (v < 0 || v >= 0x1p64) throw new KilnException("clamp: " + name + " = " + v + " does not fit in u64");
            return DType.doubleToU64(v);
        }
        if (v < lo || v > hi) {
            throw new KilnException("clamp: " + name + " = " + v + " does not fit in " + x.dtype());
        }
        return (long) v;
    }

    /** Applies {@code f} (floats, in double) or {@code g} (ints; null when the op is float-only) elementwise. */
    private static NDArray map(String op, NDArray x, DoubleUnaryOperator f, LongUnaryOperator g) {
        Checks.notBool(op, x);
        if (g == null) Checks.floating(op, x);
        DType t = x.dtype();
        long[] shape = x.shape();
        NDArray out = NDArray.zeros(t, shape);
        MemorySegment xs = x.segment(), os = out.segment();
        Loops.Plan plan = Loops.plan(shape, new long[] {x.offset(), 0}, x.strides(), out.strides());
        long sx = plan.innerStride(0), so = plan.innerStride(1);
        if (t == DType.F32) {
            plan.run((p, n) -> {
                for (long i = 0; i < n; i++) {
                    os.setAtIndex(Elements.F32, p[1] + i * so,
                            (float) f.applyAsDouble(xs.getAtIndex(Elements.F32, p[0] + i * sx)));
                }
            });
        } else if (t.isFloatingPoint()) {
            plan.run((p, n) -> {
                for (long i = 0; i < n; i++) {
                    Elements.setDouble(os, t, p[1] + i * so, f.applyAsDouble(Elements.getDouble(xs, t, p[0] + i * sx)));
                }
            });
        } else {
            plan.run((p, n) -> {
                for (long i = 0; i < n; i++) {
                    Elements.setLong(os, t, p[1] + i * so, g.applyAsLong(Elements.getLong(xs, t, p[0] + i * sx)));
                }
            });
        }
        return out;
    }
}
