package dev.kiln.ir;

import java.util.List;

import static dev.kiln.ir.AttrKind.FLOAT;
import static dev.kiln.ir.AttrKind.INT;
import static dev.kiln.ir.NnOps.requireDim;
import static dev.kiln.ir.NnOps.requireFloat;
import static dev.kiln.ir.Trait.PURE;

/**
 * Normalisation ops: {@code batch_norm} (statistics given as operands), {@code layer_norm} and {@code group_norm}
 * (statistics computed, biased variance), and the input-gradient ops of the latter two.
 */
final class NormOps {

    private static final Attribute EPS = Attribute.of(1e-5);

    private NormOps() {}

    static List<OpSchema> all() {
        return List.of(batchNorm(), layerNorm(), groupNorm(), layerNormGrad(), groupNormGrad());
    }

    private static OpSchema batchNorm() {
        return OpSchema.define("batch_norm")
                .summary("(x - mean[c]) / sqrt(var[c] + eps) * weight[c] + bias[c] over x [N, C, ...]")
                .tensor("x").tensor("mean").tensor("var").optionalTensor("weight").optionalTensor("bias")
                .attr("eps", FLOAT, EPS).traits(PURE).infer(ctx -> {
                    TensorType x = channelsFirst(ctx, 0, "input");
                    for (int i = 1; i < ctx.operandCount(); i++) perChannel(ctx, i, x);
                    return List.of(x);
                }).build();
    }

    private static OpSchema layerNorm() {
        return OpSchema.define("layer_norm")
                .summary("normalises over the last normalized_dims dims (biased variance), then * weight + bias")
                .tensor("x").optionalTensor("weight").optionalTensor("bias")
                .attr("normalized_dims", INT).attr("eps", FLOAT, EPS).traits(PURE).infer(ctx -> {
                    TensorType x = layerInput(ctx, 0);
                    for (int i = 1; i < ctx.operandCount(); i++) trailing(ctx, i, x);
                    return List.of(x);
                }).build();
    }

    private static OpSchema groupNorm() {
        return OpSchema.define("group_norm")
                .summary("normalises each group of C/groups channels with its spatial dims, then * weight[c] + bias[c]")
                .tensor("x").optionalTensor("weight").optionalTensor("bias")
                .attr("groups", INT).attr("eps", FLOAT, EPS).traits(PURE).infer(ctx -> {
                    TensorType x = groupInput(ctx, 0);
                    for (int i = 1; i < ctx.operandCount(); i++) perChannel(ctx, i, x);
                    return List.of(x);
                }).build();
    }

    private static OpSchema layerNormGrad() {
        return OpSchema.define("layer_norm_grad").summary("gradient of layer_norm w.r.t. x")
                .tensor("grad_out").tensor("x").optionalTensor("weight")
                .attr("normalized_dims", INT).attr("eps", FLOAT, EPS).traits(PURE).infer(ctx -> {
                    TensorType x = layerInput(ctx, 1);
                    sameAs(ctx, x);
                    if (ctx.operandCount() > 2) trailing(ctx, 2, x);
                    return List.of(x);
                }).build();
    }

    private static OpSchema groupNormGrad() {
        return OpSchema.define("group_norm_grad").summary("gradient of group_norm w.r.t. x")
                .tensor("grad_out").tensor("x").optionalTensor("weight")
                .attr("groups", INT).attr("eps", FLOAT, EPS).traits(PURE).infer(ctx -> {
                    TensorType x = groupInput(ctx, 1);
                    sameAs(ctx, x);
                    if (ctx.operandCount() > 2) perChannel(ctx, 2, x);
                    return List.of(x);
                }).build();
    }

    private static TensorType channelsFirst(InferenceContext ctx, int i, String what) {
        TensorType x = ctx.tensor(i);
        requireFloat(ctx, x);
        if (x.rank() < 2) throw ctx.error(what + " must be [N, C, ...] with rank >= 2, got " + x);
        return x;
    }

    private static TensorType layerInput(InferenceContext ctx, int i) {
        TensorType x = ctx.tensor(i);
        requireFloat(ctx, x);
        long k = ctx.intAttr("normalized_dims");
        if (k < 1 || k > x.rank()) throw ctx.error("normalized_dims must be in [1, " + x.rank() + "] for " + x + ", got " + k);
        return x;
    }

    private static TensorType groupInput(InferenceContext ctx, int i) {
        TensorType x = channelsFirst(ctx, i, "input");
        long groups = ctx.intAttr("groups");
        if (groups < 1) throw ctx.error("groups must be >= 1, got " + groups);
        Dim c = x.shape().dim(1);
        if (c.isStatic() && c.size() % groups != 0) {
            throw ctx.error(c + " channels of " + x + " are not divisible by groups " + groups);
        }
        return x;
    }

    /** Operand {@code i} must be {@code [C]} with x's dtype. */
    private static void perChannel(InferenceContext ctx, int i, TensorType x) {
        TensorType t = ctx.tensor(i);
        String name = ctx.opName().startsWith("batch") ? List.of("", "mean", "var", "weight", "bias").get(i)
                : ctx.opName().endsWith("grad") ? "weight" : List.of("", "weight", "bias").get(i);
        ShapeRules.sameDType(ctx.opName(), x, t);
        if (t.rank() != 1) throw ctx.error(name + " must be 1-D [" + x.shape().dim(1) + "], got " + t);
        requireDim(ctx, name + " size", t.shape().dim(0), x.shape().dim(1));
    }

    /** Operand {@code i} must have the shape of x's last normalized_dims dims and x's dtype. */
    private static void trailing(InferenceContext ctx, int i, TensorType x) {
        TensorType t = ctx.tensor(i);
        int k = (int) ctx.intAttr("normalized_dims");
        Shape expected = new Shape(x.shape().dims().subList(x.rank() - k, x.rank()));
        ShapeRules.sameDType(ctx.opName(), x, t);
        boolean ok = t.rank() == k;
        for (int d = 0; ok && d < k; d++) ok = NnOps.compatible(t.shape().dim(d), expected.dim(d));
        String name = ctx.opName().endsWith("grad") || i == 1 ? "weight" : "bias";
        if (!ok) throw ctx.error(name + " must have the normalized shape " + expected + ", got " + t.shape());
    }

    private static void sameAs(InferenceContext ctx, TensorType x) {
        TensorType g = ctx.tensor(0);
        ShapeRules.sameDType(ctx.opName(), g, x);
        boolean ok = g.rank() == x.rank();
        for (int d = 0; ok && d < g.rank(); d++) ok = NnOps.compatible(g.shape().dim(d), x.shape().dim(d));
        if (!ok) throw ctx.error("grad_out " + g.shape() + " must have the shape of x " + x.shape());
    }
}
