package dev.kiln.ir;

import java.util.ArrayList;
import java.util.List;

import static dev.kiln.ir.Trait.COMMUTATIVE;
import static dev.kiln.ir.Trait.ELEMENTWISE;
import static dev.kiln.ir.Trait.PURE;

/**
 * Elementwise ops with NumPy broadcasting: binaries, comparisons, logic, {@code where}, clone and cast;
 * the unary math ops are declared in {@link UnaryMathOps}. Operands must share a dtype (the frontend
 * promotes and casts first).
 */
final class ElementwiseOps {

    private ElementwiseOps() {}

    static List<OpSchema> all() {
        List<OpSchema> ops = new ArrayList<>(List.of(
                binary("add", "a + b", true, false),
                binary("sub", "a - b", false, false),
                binary("mul", "a * b", true, false),
                binary("div", "a / b (true division)", false, false),
                binary("pow", "a ** b (C pow semantics: pow(1, nan) = 1)", false, true),
                binary("remainder", "a - b * floor(a / b): the result has the divisor's sign (Python/torch)", false, false),
                binary("maximum", "elementwise max; NaN propagates", true, false),
                binary("minimum", "elementwise min; NaN propagates", true, false),
                compare("gt", "a > b"),
                compare("lt", "a < b"),
                compare("eq", "a == b"),
                compare("ne", "a != b (true where either is NaN)"),
                compare("le", "a <= b"),
                compare("ge", "a >= b"),
                logical("logical_and", "a && b"),
                logical("logical_or", "a || b"),
                where(),
                OpSchema.define("clone").summary("a copy of x with its own storage")
                        .tensor("x").traits(PURE, ELEMENTWISE, Trait.ACCEPTS_STORAGE_DTYPES).infer(ctx -> List.of(ctx.tensor(0))).build(),
                cast()));
        ops.addAll(UnaryMathOps.all());
        return List.copyOf(ops);
    }

    private static OpSchema binary(String name, String summary, boolean commutative, boolean floatOnly) {
        OpSchema.Builder b = OpSchema.define(name).summary(summary).tensor("a").tensor("b").traits(PURE, ELEMENTWISE);
        if (commutative) b.traits(COMMUTATIVE);
        return b.infer(ctx -> {
            TensorType a = ctx.tensor(0), c = ctx.tensor(1);
            DType dtype = ShapeRules.sameDType(name, a, c);
            if (dtype == DType.BOOL) throw ctx.error("does not accept bool tensors");
            if (floatOnly && !dtype.isFloatingPoint()) throw ctx.error("needs floating-point tensors, got " + a + " and " + c);
            return List.of(new TensorType(dtype, ShapeRules.broadcast(name, a.shape(), c.shape())));
        }).build();
    }

    private static OpSchema compare(String name, String summary) {
        return OpSchema.define(name).summary(summary + ", as a bool tensor").tensor("a").tensor("b")
                .traits(PURE, ELEMENTWISE).infer(ctx -> {
                    TensorType a = ctx.tensor(0), c = ctx.tensor(1);
                    ShapeRules.sameDType(name, a, c);
                    return List.of(new TensorType(DType.BOOL, ShapeRules.broadcast(name, a.shape(), c.shape())));
                }).build();
    }

    private static OpSchema logical(String name, String summary) {
        return OpSchema.define(name).summary(summary + " of two bool tensors").tensor("a").tensor("b")
                .traits(PURE, ELEMENTWISE, COMMUTATIVE).infer(ctx -> {
                    TensorType a = ctx.tensor(0), c = ctx.tensor(1);
                    if (a.dtype() != DType.BOOL || c.dtype() != DType.BOOL) {
                        throw ctx.error("needs bool tensors, got " + a + " and " + c);
                    }
                    return List.of(new TensorType(DType.BOOL, ShapeRules.broadcast(name, a.shape(), c.shape())));
                }).build();
    }

    /**
     * cast: floats to ints truncate toward zero, ints wrap. {@code saturate} (ONNX Cast's attribute) only matters
     * for the float8 and f8e8m0 targets: out-of-range values become ±max instead of inf/NaN. {@code round_mode}
     * ({@code up}, {@code down}, {@code nearest}) only matters for the f8e8m0 target; see {@link LowPrecision}.
     */
    private static OpSchema cast() {
        return OpSchema.define("cast").summary("converts elements to another dtype (floats to ints truncate toward zero)")
                .tensor("x").attr("dtype", AttrKind.DTYPE)
                .attr("saturate", AttrKind.BOOL, new Attribute.Bool(true))
                .attr("round_mode", AttrKind.STRING, new Attribute.Str("up"))
                .traits(PURE, ELEMENTWISE, Trait.ACCEPTS_STORAGE_DTYPES)
                .infer(ctx -> {
                    String mode = ((Attribute.Str) ctx.attr("round_mode")).value();
                    try {
                        LowPrecision.RoundMode.of(mode);
                    } catch (IllegalArgumentException e) {
                        throw ctx.error(e.getMessage());
                    }
                    return List.of(ctx.tensor(0).withDType(((Attribute.DTypeAttr) ctx.attr("dtype")).value()));
                }).build();
    }

    private static OpSchema where() {
        return OpSchema.define("where").summary("cond ? a : b, broadcasting all three").tensor("cond").tensor("a").tensor("b")
                .traits(PURE, ELEMENTWISE, Trait.ACCEPTS_STORAGE_DTYPES).infer(ctx -> {
                    TensorType cond = ctx.tensor(0), a = ctx.tensor(1), b = ctx.tensor(2);
                    if (cond.dtype() != DType.BOOL) throw ctx.error("cond must be a bool tensor, got " + cond);
                    DType dtype = ShapeRules.sameDType("where", a, b);
                    Shape ab = ShapeRules.broadcast("where", a.shape(), b.shape());
                    return List.of(new TensorType(dtype, ShapeRules.broadcast("where", cond.shape(), ab)));
                }).build();
    }
}
