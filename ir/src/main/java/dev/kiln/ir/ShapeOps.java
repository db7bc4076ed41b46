package dev.kiln.ir;

import java.util.ArrayList;
import java.util.List;

import static dev.kiln.ir.AttrKind.INT;
import static dev.kiln.ir.AttrKind.DIMS;
import static dev.kiln.ir.AttrKind.INTS;
import static dev.kiln.ir.Trait.PURE;

/**
 * Ops that change shape: reshape, permute, flatten here; views ({@link ViewOps}), copies that
 * rearrange elements ({@link LayoutOps}) and indexing ({@link IndexOps}) in their own tables.
 */
final class ShapeOps {

    private ShapeOps() {}

    static List<OpSchema> all() {
        List<OpSchema> ops = new ArrayList<>(List.of(
                OpSchema.define("reshape").summary("same elements in a new shape; one target dim may be -1")
                        .tensor("x").attrOneOf("shape", INTS, DIMS).traits(PURE, Trait.ACCEPTS_STORAGE_DTYPES)
                        .infer(ctx -> List.of(ctx.tensor(0).withShape(
                                ShapeRules.reshape("reshape", ctx.tensor(0).shape(), ctx.sizesAttr("shape"),
                                        ctx.sizeSymbolsAttr("shape")))))
                        .build(),
                OpSchema.define("permute").summary("reorders dims: result dim i is input dim perm[i]")
                        .tensor("x").attr("perm", INTS).traits(PURE, Trait.ACCEPTS_STORAGE_DTYPES)
                        .infer(ctx -> List.of(ctx.tensor(0).withShape(
                                ShapeRules.permute("permute", ctx.tensor(0).shape(), ctx.intsAttr("perm")))))
                        .build(),
                OpSchema.define("flatten").summary("collapses dims start_dim..end_dim into one")
                        .tensor("x").attr("start_dim", INT, Attribute.of(0L)).attr("end_dim", INT, Attribute.of(-1L))
                        .traits(PURE, Trait.ACCEPTS_STORAGE_DTYPES)
                        .infer(ctx -> List.of(ctx.tensor(0).withShape(ShapeRules.flatten("flatten", ctx.tensor(0).shape(),
                                ctx.intAttr("start_dim"), ctx.intAttr("end_dim")))))
                        .build()));
        ops.addAll(ViewOps.all());
        ops.addAll(LayoutOps.all());
        ops.addAll(IndexOps.all());
        return ops;
    }
}
