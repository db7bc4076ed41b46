package dev.kiln.ir;

import java.util.List;

import static dev.kiln.ir.AttrKind.INT;
import static dev.kiln.ir.AttrKind.DIMS;
import static dev.kiln.ir.AttrKind.INTS;
import static dev.kiln.ir.Trait.PURE;

/** View ops: results share the input's storage when run eagerly (expand, slice). */
final class ViewOps {

    private ViewOps() {}

    static List<OpSchema> all() {
        return List.of(
                OpSchema.define("expand")
                        .summary("broadcasts size-1 dims (and new leading dims) to shape without copying; -1 keeps a dim")
                        .tensor("x").attrOneOf("shape", INTS, DIMS).traits(PURE, Trait.ACCEPTS_STORAGE_DTYPES)
                        .infer(ctx -> List.of(ctx.tensor(0).withShape(
                                ShapeRules.expand("expand", ctx.tensor(0).shape(), ctx.sizesAttr("shape"),
                                        ctx.sizeSymbolsAttr("shape")))))
                        .build(),
                OpSchema.define("slice")
                        .summary("elements start..end (exclusive) by step along axis; Python clamping, negatives count from the end")
                        .tensor("x").attr("axis", INT).attr("start", INT).attr("end", INT).attr("step", INT, Attribute.of(1L))
                        .traits(PURE, Trait.ACCEPTS_STORAGE_DTYPES)
                        .infer(ctx -> List.of(ctx.tensor(0).withShape(ShapeRules.slice("slice", ctx.tensor(0).shape(),
                                ctx.intAttr("axis"), ctx.intAttr("start"), ctx.intAttr("end"), ctx.intAttr("step")))))
                        .build());
    }
}
