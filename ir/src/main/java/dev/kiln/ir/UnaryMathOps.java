package dev.kiln.ir;

import java.util.List;

import static dev.kiln.ir.AttrKind.FLOAT;
import static dev.kiln.ir.AttrKind.STRING;
import static dev.kiln.ir.Trait.ELEMENTWISE;
import static dev.kiln.ir.Trait.PURE;

/**
 * Unary elementwise math, with and without attributes. Results keep the input's dtype and shape.
 * Edge cases follow PyTorch: {@code sign(nan) = 0}, {@code round} is half-to-even, {@code clamp} with
 * {@code min > max} gives {@code max}, {@code softplus} is linear where {@code beta * x > threshold}.
 */
final class UnaryMathOps {

    /** Which dtypes an op accepts. */
    private enum Accepts { NUMERIC, FLOAT, BOOL }

    private UnaryMathOps() {}

    static List<OpSchema> all() {
        return List.of(
                unary("neg", "-x", Accepts.NUMERIC),
                unary("relu", "max(x, 0)", Accepts.NUMERIC),
                unary("sigmoid", "1 / (1 + exp(-x))", Accepts.FLOAT),
                unary("tanh", "hyperbolic tangent", Accepts.FLOAT),
                unary("abs", "|x|", Accepts.NUMERIC),
                unary("sign", "-1, 0 or 1 by the sign of x (0 for nan, as torch.sign)", Accepts.NUMERIC),
                unary("exp", "e^x", Accepts.FLOAT),
                unary("log", "natural logarithm", Accepts.FLOAT),
                unary("log1p", "log(1 + x), accurate near 0", Accepts.FLOAT),
                unary("sqrt", "square root", Accepts.FLOAT),
                unary("rsqrt", "1 / sqrt(x)", Accepts.FLOAT),
                unary("reciprocal", "1 / x", Accepts.FLOAT),
                unary("sin", "sine", Accepts.FLOAT),
                unary("cos", "cosine", Accepts.FLOAT),
                unary("erf", "the error function", Accepts.FLOAT),
                unary("floor", "largest integer <= x (identity on ints)", Accepts.NUMERIC),
                unary("ceil", "smallest integer >= x (identity on ints)", Accepts.NUMERIC),
                unary("round", "nearest integer, ties to even (identity on ints)", Accepts.NUMERIC),
                unary("silu", "x * sigmoid(x)", Accepts.FLOAT),
                unary("logical_not", "!x of a bool tensor", Accepts.BOOL),
                withAttrs(OpSchema.define("leaky_relu").summary("x > 0 ? x : negative_slope * x")
                        .attr("negative_slope", FLOAT, Attribute.of(0.01)), Accepts.FLOAT),
                withAttrs(OpSchema.define("elu").summary("x > 0 ? x : alpha * (exp(x) - 1)")
                        .attr("alpha", FLOAT, Attribute.of(1.0)), Accepts.FLOAT),
                gelu(),
                withAttrs(OpSchema.define("softplus").summary("log(1 + exp(beta x)) / beta; x where beta x > threshold")
                        .attr("beta", FLOAT, Attribute.of(1.0)).attr("threshold", FLOAT, Attribute.of(20.0)), Accepts.FLOAT),
                clamp(),
                withAttrs(OpSchema.define("pow_scalar").summary("x ** exponent (C pow semantics)")
                        .attr("exponent", FLOAT), Accepts.FLOAT));
    }

    private static OpSchema unary(String name, String summary, Accepts accepts) {
        return withAttrs(OpSchema.define(name).summary(summary), accepts);
    }

    private static OpSchema withAttrs(OpSchema.Builder b, Accepts accepts) {
        return b.tensor("x").traits(PURE, ELEMENTWISE).infer(ctx -> List.of(check(ctx, accepts))).build();
    }

    private static TensorType check(InferenceContext ctx, Accepts accepts) {
        TensorType x = ctx.tensor(0);
        switch (accepts) {
            case FLOAT -> {
                if (!x.dtype().isFloatingPoint()) throw ctx.error("needs a floating-point tensor, got " + x);
            }
            case NUMERIC -> {
                if (x.dtype() == DType.BOOL) throw ctx.error("does not accept bool tensors");
            }
            case BOOL -> {
                if (x.dtype() != DType.BOOL) throw ctx.error("needs a bool tensor, got " + x);
            }
        }
        return x;
    }

    private static OpSchema gelu() {
        return OpSchema.define("gelu").summary("x * Phi(x); approximate 'none' (erf form) or 'tanh'")
                .tensor("x").attr("approximate", STRING, Attribute.of("none")).traits(PURE, ELEMENTWISE).infer(ctx -> {
                    String mode = ((Attribute.Str) ctx.attr("approximate")).value();
                    if (!mode.equals("none") && !mode.equals("tanh")) {
                        throw ctx.error("approximate must be 'none' or 'tanh', got '" + mode + "'");
                    }
                    return List.of(check(ctx, Accepts.FLOAT));
                }).build();
    }

    /** On integer tensors the bounds must be whole numbers or infinite (no promotion happens here). */
    private static OpSchema clamp() {
        return OpSchema.define("clamp").summary("min(max(x, min), max); min > max gives max; nan propagates")
                .tensor("x").attr("min", FLOAT, Attribute.of(Double.NEGATIVE_INFINITY))
                .attr("max", FLOAT, Attribute.of(Double.POSITIVE_INFINITY)).traits(PURE, ELEMENTWISE).infer(ctx -> {
                    TensorType x = check(ctx, Accepts.NUMERIC);
                    if (x.dtype().isInteger()) {
                        for (String bound : List.of("min", "max")) {
                            double v = ((Attribute.Float) ctx.attr(bound)).value();
                            if (!Double.isInfinite(v) && v != Math.rint(v)) {
                                throw ctx.error(bound + " = " + v + " is not a whole number, so it cannot clamp " + x
                                        + "; convert the tensor to a floating-point dtype first");
                            }
                        }
                    }
                    return List.of(x);
                }).build();
    }
}
