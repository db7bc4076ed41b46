package dev.kiln.ir;

import java.util.ArrayList;
import java.util.List;

import static dev.kiln.ir.AttrKind.FLOAT;
import static dev.kiln.ir.AttrKind.INT;
import static dev.kiln.ir.AttrKind.INTS;
import static dev.kiln.ir.Trait.PURE;

/** Ops that copy elements into a new arrangement: cat, pad, flip, repeat, tril, triu. */
final class LayoutOps {

    private LayoutOps() {}

    static List<OpSchema> all() {
        return List.of(
                OpSchema.define("cat").summary("joins tensors of one dtype along an existing axis")
                        .operand("xs", OperandSpec.Kind.TENSOR, OperandSpec.Arity.VARIADIC).attr("axis", INT).traits(PURE, Trait.ACCEPTS_STORAGE_DTYPES)
                        .infer(ctx -> {
                            if (ctx.operandCount() == 0) throw ctx.error("needs at least one tensor");
                            List<Shape> shapes = new ArrayList<>();
                            TensorType first = ctx.tensor(0);
                            for (int i = 0; i < ctx.operandCount(); i++) {
                                TensorType t = ctx.tensor(i);
                                if (t.dtype() != first.dtype()) {
                                    throw ctx.error("tensors must share a dtype: " + first + " (position 0) and " + t
                                            + " (position " + i + ")");
                                }
                                shapes.add(t.shape());
                            }
                            return List.of(first.withShape(ShapeRules.concat("cat", shapes, ctx.intAttr("axis"))));
                        })
                        .build(),
                OpSchema.define("pad")
                        .summary("constant padding; pads are (before, after) pairs from the last dim backwards; negative pads crop")
                        .tensor("x").attr("pads", INTS).attr("value", FLOAT, Attribute.of(0.0)).traits(PURE)
                        .infer(ctx -> List.of(ctx.tensor(0).withShape(
                                ShapeRules.pad("pad", ctx.tensor(0).shape(), ctx.intsAttr("pads")))))
                        .build(),
                OpSchema.define("flip").summary("reverses the order of elements along axes")
                        .tensor("x").attr("axes", INTS).traits(PURE, Trait.ACCEPTS_STORAGE_DTYPES)
                        .infer(ctx -> {
                            ShapeRules.flipAxes("flip", ctx.tensor(0).rank(), ctx.intsAttr("axes"));
                            return List.of(ctx.tensor(0));
                        })
                        .build(),
                OpSchema.define("repeat").summary("tiles x repeats[i] times along each dim (extra counts add leading dims)")
                        .tensor("x").attr("repeats", INTS).traits(PURE, Trait.ACCEPTS_STORAGE_DTYPES)
                        .infer(ctx -> List.of(ctx.tensor(0).withShape(
                                ShapeRules.repeat("repeat", ctx.tensor(0).shape(), ctx.intsAttr("repeats")))))
                        .build(),
                triangular("tril", "keeps elements on and below diagonal k of the last two dims, zeroes the rest"),
                triangular("triu", "keeps elements on and above diagonal k of the last two dims, zeroes the rest"));
    }

    private static OpSchema triangular(String name, String summary) {
        return OpSchema.define(name).summary(summary).tensor("x").attr("diagonal", INT, Attribute.of(0L)).traits(PURE)
                .infer(ctx -> List.of(ctx.tensor(0).withShape(ShapeRules.triangular(name, ctx.tensor(0).shape()))))
                .build();
    }
}
