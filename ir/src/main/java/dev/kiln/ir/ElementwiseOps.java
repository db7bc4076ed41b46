package dev.kiln.ir;

import java.util.List;

import static dev.kiln.ir.Trait.COMMUTATIVE;
import static dev.kiln.ir.Trait.ELEMENTWISE;
import static dev.kiln.ir.Trait.PURE;

/** Elementwise ops: NumPy-broadcast binaries, unaries, comparisons and casts. */
final class ElementwiseOps {

    private ElementwiseOps() {}

    static List<OpSchema> all() {
        return List.of(
                binary("add", "a + b", true),
                binary("sub", "a - b", false),
                binary("mul", "a * b", true),
                binary("div", "a / b (true division)", false),
                unary("neg", "-x", false),
                unary("relu", "max(x, 0)", false),
                unary("sigmoid", "1 / (1 + exp(-x))", true),
                unary("tanh", "hyperbolic tangent", true),
                compare("gt", "a > b"),
                compare("lt", "a < b"),
                compare("eq", "a == b"),
                OpSchema.define("clone").summary("a copy of x with its own storage")
                        .tensor("x").traits(PURE, ELEMENTWISE).infer(ctx -> List.of(ctx.tensor(0))).build(),
                OpSchema.define("cast").summary("converts elements to another dtype (floats to ints truncate toward zero)")
                        .tensor("x").attr("dtype", AttrKind.DTYPE).traits(PURE, ELEMENTWISE)
                        .infer(ctx -> List.of(ctx.tensor(0).withDType(((Attribute.DTypeAttr) ctx.attr("dtype")).value())))
                        .build());
    }

    private static OpSchema binary(String name, String summary, boolean commutative) {
        OpSchema.Builder b = OpSchema.define(name).summary(summary).tensor("a").tensor("b").traits(PURE, ELEMENTWISE);
        if (commutative) b.traits(COMMUTATIVE);
        return b.infer(ctx -> {
            TensorType a = ctx.tensor(0), c = ctx.tensor(1);
            DType dtype = ShapeRules.sameDType(name, a, c);
            if (dtype == DType.BOOL) throw ctx.error("does not accept bool tensors");
            return List.of(new TensorType(dtype, ShapeRules.broadcast(name, a.shape(), c.shape())));
        }).build();
    }

    private static OpSchema unary(String name, String summary, boolean floatOnly) {
        return OpSchema.define(name).summary(summary).tensor("x").traits(PURE, ELEMENTWISE).infer(ctx -> {
            TensorType x = ctx.tensor(0);
            if (floatOnly && !x.dtype().isFloatingPoint()) throw ctx.error("needs a floating-point tensor, got " + x);
            if (x.dtype() == DType.BOOL) throw ctx.error("does not accept bool tensors");
            return List.of(x);
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
}
