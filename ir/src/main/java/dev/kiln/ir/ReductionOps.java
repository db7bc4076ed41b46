package dev.kiln.ir;

import java.util.List;

import static dev.kiln.ir.AttrKind.BOOL;
import static dev.kiln.ir.AttrKind.INTS;
import static dev.kiln.ir.Trait.PURE;

/** Reductions over axes (all axes when {@code axes} is empty), with or without kept dims. */
final class ReductionOps {

    private ReductionOps() {}

    static List<OpSchema> all() {
        return List.of(
                reduction("sum", "sum over axes (all when empty)"),
                reduction("mean", "mean over axes (all when empty)"));
    }

    private static OpSchema reduction(String name, String summary) {
        return OpSchema.define(name).summary(summary).tensor("x")
                .attr("axes", INTS, Attribute.ints(new long[0])).attr("keepdim", BOOL, Attribute.of(false))
                .traits(PURE).infer(ctx -> {
                    TensorType x = ctx.tensor(0);
                    if (x.dtype() == DType.BOOL) throw ctx.error("does not accept bool tensors");
                    if (name.equals("mean")) NnOps.requireFloat(ctx, x);
                    return List.of(x.withShape(ShapeRules.reduce(name, x.shape(), ctx.intsAttr("axes"), ctx.boolAttr("keepdim"))));
                }).build();
    }
}
