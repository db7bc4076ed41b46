package dev.kiln.ir;

import java.util.ArrayList;
import java.util.List;

import static dev.kiln.ir.AttrKind.BOOL;
import static dev.kiln.ir.AttrKind.INT;
import static dev.kiln.ir.AttrKind.INTS;
import static dev.kiln.ir.Trait.PURE;
import static dev.kiln.ir.Trait.REDUCTION;

/**
 * Reductions over axes (all axes when {@code axes} is empty), with or without kept dims, and
 * argmax/argmin along one axis. As in PyTorch, sum and prod of integer tensors give i64, amax/amin
 * of an empty slice is an error, and logsumexp of an empty slice is -inf.
 */
final class ReductionOps {

    /** How a reduction types its result. */
    private enum Result {
        /** Floats keep their dtype; integers accumulate into i64. */
        WIDEN_INTS,
        /** Floating-point input only; dtype kept. */
        FLOAT_ONLY,
        /** Any numeric dtype, kept; reducing a zero-size dim is an error (no identity). */
        SELECT
    }

    private ReductionOps() {}

    static List<OpSchema> all() {
        return List.of(
                reduction("sum", "sum over axes (all when empty)", Result.WIDEN_INTS),
                reduction("mean", "mean over axes (all when empty)", Result.FLOAT_ONLY),
                reduction("prod", "product over axes (all when empty)", Result.WIDEN_INTS),
                reduction("amax", "maximum over axes (all when empty); nan propagates", Result.SELECT),
                reduction("amin", "minimum over axes (all when empty); nan propagates", Result.SELECT),
                reduction("logsumexp", "max + log(sum(exp(x - max))) over axes (all when empty)", Result.FLOAT_ONLY),
                argReduction("argmax", "index (i64) of the first maximum along axis; nan counts as the maximum"),
                argReduction("argmin", "index (i64) of the first minimum along axis; nan counts as the minimum"));
    }

    private static OpSchema reduction(String name, String summary, Result result) {
        return OpSchema.define(name).summary(summary).tensor("x")
                .attr("axes", INTS, Attribute.ints(new long[0])).attr("keepdim", BOOL, Attribute.of(false))
                .traits(PURE, REDUCTION).infer(ctx -> {
                    TensorType x = ctx.tensor(0);
                    if (x.dtype() == DType.BOOL) throw ctx.error("does not accept bool tensors");
                    long[] axes = ctx.intsAttr("axes");
                    DType out = x.dtype();
                    switch (result) {
                        case WIDEN_INTS -> out = x.dtype().isFloatingPoint() ? x.dtype() : DType.I64;
                        case FLOAT_ONLY -> NnOps.requireFloat(ctx, x);
                        case SELECT -> {
                            boolean[] reduced = ShapeRules.reducedAxes(name, x.rank(), axes);
                            for (int i = 0; i < reduced.length; i++) {
                                if (reduced[i]) requireNonEmpty(ctx, x, i);
                            }
                        }
                    }
                    return List.of(new TensorType(out, ShapeRules.reduce(name, x.shape(), axes, ctx.boolAttr("keepdim"))));
                }).build();
    }

    /** A 0-d input accepts axis 0 or -1 and gives a 0-d result, as in PyTorch. */
    private static OpSchema argReduction(String name, String summary) {
        return OpSchema.define(name).summary(summary).tensor("x")
                .attr("axis", INT).attr("keepdim", BOOL, Attribute.of(false))
                .traits(PURE, REDUCTION).infer(ctx -> {
                    TensorType x = ctx.tensor(0);
                    if (x.dtype() == DType.BOOL) throw ctx.error("does not accept bool tensors");
                    long axis = ctx.intAttr("axis");
                    if (x.rank() == 0) {
                        ShapeRules.normalize(name, axis, 1);
                        return List.of(new TensorType(DType.I64, Shape.SCALAR));
                    }
                    int a = ShapeRules.normalize(name, axis, x.rank());
                    requireNonEmpty(ctx, x, a);
                    List<Dim> dims = new ArrayList<>(x.shape().dims());
                    if (ctx.boolAttr("keepdim")) dims.set(a, Dim.of(1));
                    else dims.remove(a);
                    return List.of(new TensorType(DType.I64, new Shape(dims)));
                }).build();
    }

    private static void requireNonEmpty(InferenceContext ctx, TensorType x, int axis) {
        Dim d = x.shape().dims().get(axis);
        if (d.isStatic() && d.size() == 0) {
            throw ctx.error("cannot reduce over axis " + axis + " of " + x + ": it has size 0 and the op has no identity");
        }
    }
}
