package dev.kiln.ir;

import java.util.List;

import static dev.kiln.ir.AttrKind.INT;
import static dev.kiln.ir.Trait.PURE;

/**
 * Indexing ops with PyTorch's semantics: gather, index_select, scatter, scatter_add, index_add and
 * slice_scatter. Indices are i64 (index_select also takes i32), never negative; out-of-range
 * indices are run-time errors naming the op.
 */
final class IndexOps {

    private IndexOps() {}

    static List<OpSchema> all() {
        return List.of(
                OpSchema.define("gather").summary("out[i][j] = x[index[i][j]][j] for axis 0, and so on; index is i64 of x's rank")
                        .tensor("x").tensor("index").attr("axis", INT).traits(PURE, Trait.ACCEPTS_STORAGE_DTYPES)
                        .infer(ctx -> {
                            TensorType x = ctx.tensor(0), index = ctx.tensor(1);
                            requireIndex(ctx, "index", index, false);
                            return List.of(x.withShape(ShapeRules.gather("gather", x.shape(), index.shape(), ctx.intAttr("axis"))));
                        })
                        .build(),
                OpSchema.define("index_select").summary("entries index (0-D or 1-D, i64 or i32) of x along axis")
                        .tensor("x").tensor("index").attr("axis", INT).traits(PURE, Trait.ACCEPTS_STORAGE_DTYPES)
                        .infer(ctx -> {
                            TensorType x = ctx.tensor(0), index = ctx.tensor(1);
                            requireIndex(ctx, "index", index, true);
                            return List.of(x.withShape(ShapeRules.indexSelect("index_select", x.shape(), index.shape(),
                                    ctx.intAttr("axis"))));
                        })
                        .build(),
                scatter("scatter", "a copy of x with src[i][j] written at [index[i][j]][j] for axis 0, and so on "
                        + "(with duplicate indices the last in row-major order wins)", false),
                scatter("scatter_add", "a copy of x with src[i][j] added at [index[i][j]][j] for axis 0, and so on", true),
                OpSchema.define("index_add").summary("a copy of x with src's slices added at entries index (0-D or 1-D) along axis")
                        .tensor("x").tensor("index").tensor("src").attr("axis", INT).traits(PURE)
                        .infer(ctx -> {
                            TensorType x = ctx.tensor(0), index = ctx.tensor(1), src = ctx.tensor(2);
                            requireIndex(ctx, "index", index, true);
                            sameDType(ctx, x, src);
                            if (x.dtype() == DType.BOOL) throw ctx.error("does not accept bool tensors");
                            return List.of(x.withShape(ShapeRules.indexAdd("index_add", x.shape(), index.shape(), src.shape(),
                                    ctx.intAttr("axis"))));
                        })
                        .build(),
                OpSchema.define("slice_scatter").summary("a copy of x with src written into the slice start..end by step along axis")
                        .tensor("x").tensor("src").attr("axis", INT).attr("start", INT).attr("end", INT)
                        .attr("step", INT, Attribute.of(1L)).traits(PURE)
                        .infer(ctx -> {
                            TensorType x = ctx.tensor(0), src = ctx.tensor(1);
                            sameDType(ctx, x, src);
                            return List.of(x.withShape(ShapeRules.sliceScatter("slice_scatter", x.shape(), src.shape(),
                                    ctx.intAttr("axis"), ctx.intAttr("start"), ctx.intAttr("end"), ctx.intAttr("step"))));
                        })
                        .build());
    }

    private static OpSchema scatter(String name, String summary, boolean adds) {
        return OpSchema.define(name).summary(summary).tensor("x").tensor("index").tensor("src").attr("axis", INT).traits(PURE)
                .infer(ctx -> {
                    TensorType x = ctx.tensor(0), index = ctx.tensor(1), src = ctx.tensor(2);
                    requireIndex(ctx, "index", index, false);
                    sameDType(ctx, x, src);
                    if (adds && x.dtype() == DType.BOOL) throw ctx.error("does not accept bool tensors");
                    return List.of(x.withShape(ShapeRules.scatter(name, x.shape(), index.shape(), src.shape(), ctx.intAttr("axis"))));
                })
                .build();
    }

    private static void requireIndex(InferenceContext ctx, String what, TensorType t, boolean allowI32) {
        if (t.dtype() != DType.I64 && !(allowI32 && t.dtype() == DType.I32)) {
            throw ctx.error(what + " must be " + (allowI32 ? "i64 or i32" : "i64") + ", got " + t);
        }
    }

    private static void sameDType(InferenceContext ctx, TensorType x, TensorType src) {
        if (x.dtype() != src.dtype()) throw ctx.error("src dtype " + src.dtype() + " differs from x's " + x.dtype() + " (" + src + " vs " + x + ")");
    }
}
