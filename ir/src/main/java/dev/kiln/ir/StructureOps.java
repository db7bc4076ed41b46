package dev.kiln.ir;

import java.util.List;

import static dev.kiln.ir.AttrKind.BOOL;
import static dev.kiln.ir.AttrKind.FLOAT;
import static dev.kiln.ir.AttrKind.INT;
import static dev.kiln.ir.AttrKind.TENSOR;
import static dev.kiln.ir.Trait.PURE;
import static dev.kiln.ir.Trait.TERMINATOR;

/** Constants, tensor-to-scalar reads, structured control flow and terminators. */
final class StructureOps {

    private StructureOps() {}

    static List<OpSchema> all() {
        return List.of(constant(), item(), ifOp(), loop(),
                OpSchema.define("yield").summary("ends an if branch or loop body, passing values out")
                        .variadic("values").traits(TERMINATOR, Trait.ACCEPTS_STORAGE_DTYPES).infer(ctx -> List.of()).build(),
                OpSchema.define("return").summary("ends the graph body; its operands are the graph outputs")
                        .variadic("values").traits(TERMINATOR, Trait.ACCEPTS_STORAGE_DTYPES).infer(ctx -> List.of()).build());
    }

    private static OpSchema constant() {
        return OpSchema.define("constant").summary("a constant tensor, or a host int/float/bool scalar")
                .attrOneOf("value", TENSOR, INT, FLOAT, BOOL).traits(PURE, Trait.ACCEPTS_STORAGE_DTYPES).infer(ctx -> List.of(
                        switch (ctx.attr("value")) {
                            case Attribute.Tensor t -> t.type();
                            case Attribute.Int i -> ScalarType.INT;
                            case Attribute.Float f -> ScalarType.FLOAT;
                            case Attribute.Bool b -> ScalarType.BOOL;
                            default -> throw ctx.error("unsupported value " + ctx.attr("value"));
                        }))
                .build();
    }

    private static OpSchema item() {
        return OpSchema.define("item").summary("reads a one-element tensor as a host scalar")
                .tensor("x").traits(PURE, Trait.ACCEPTS_STORAGE_DTYPES).infer(ctx -> {
                    TensorType x = ctx.tensor(0);
                    if (x.shape().isStatic() && x.shape().numel() != 1) {
                        throw ctx.error("needs a one-element tensor, got " + x);
                    }
                    return List.of(ScalarType.forDType(x.dtype()));
                }).build();
    }

    /**
     * {@code if(%cond) then {...; yield} else {...; yield}}: runs one region, whose yielded values
     * become the results. Both regions must yield the result types.
     */
    private static OpSchema ifOp() {
        return OpSchema.define("if").summary("runs the then or else region by a bool condition")
                .scalar("cond").regions(2).traits(Trait.ACCEPTS_STORAGE_DTYPES).infer(ctx -> {
                    if (ctx.type(0) != ScalarType.BOOL) throw ctx.error("condition must be bool, got " + ctx.type(0));
                    if (ctx.regions().isEmpty()) throw ctx.error("result types come from the regions, which are missing");
                    return yieldedTypes(ctx, ctx.regions().get(0), "then");
                }).build();
    }

    /**
     * {@code loop(%trip, %cond, %init...)}: with body arguments {@code (%i: int, %carried...)} and a
     * terminator {@code yield(%next_cond: bool, %next...)}, runs while {@code i < trip && cond}; the
     * results are the final carried values. Unbounded loops pass the largest int as trip count.
     */
    private static OpSchema loop() {
        return OpSchema.define("loop").summary("a loop with a trip count and a condition, carrying values")
                .scalar("trip_count").scalar("cond").variadic("initial").regions(1).traits(Trait.ACCEPTS_STORAGE_DTYPES).infer(ctx -> {
                    if (ctx.type(0) != ScalarType.INT) throw ctx.error("trip count must be int, got " + ctx.type(0));
                    if (ctx.type(1) != ScalarType.BOOL) throw ctx.error("condition must be bool, got " + ctx.type(1));
                    return ctx.operandTypes().subList(2, ctx.operandCount());
                }).build();
    }

    private static List<Type> yieldedTypes(InferenceContext ctx, Block region, String which) {
        Op t = region.terminator();
        if (t == null || !t.name().equals("yield")) throw ctx.error(which + " region does not end in yield");
        return t.operands().stream().map(Value::type).toList();
    }
}
