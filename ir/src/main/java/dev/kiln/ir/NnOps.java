package dev.kiln.ir;

import java.util.ArrayList;
import java.util.List;

import static dev.kiln.ir.AttrKind.FLOAT;
import static dev.kiln.ir.AttrKind.INT;
import static dev.kiln.ir.Trait.PURE;

/**
 * Linear algebra and neural-network ops: matmul, linear, softmax, embedding and dropout here, plus the
 * convolution ({@link ConvOps}), pooling ({@link PoolOps}) and normalisation ({@link NormOps}) tables.
 */
final class NnOps {

    private NnOps() {}

    static List<OpSchema> all() {
        List<OpSchema> ops = new ArrayList<>(List.of(matmul(), linear(),
                softmax("softmax", "exp(x) / sum(exp(x)) along axis"),
                softmax("log_softmax", "x - logsumexp(x) along axis"),
                embedding(), embeddingGrad(), dropoutMask()));
        ops.addAll(ConvOps.all());
        ops.addAll(PoolOps.all());
        ops.addAll(NormOps.all());
        return List.copyOf(ops);
    }

    private static OpSchema matmul() {
        return OpSchema.define("matmul").summary("NumPy matmul: batched, broadcast, 1-D operands promoted")
                .tensor("a").tensor("b").traits(PURE).infer(ctx -> {
                    TensorType a = ctx.tensor(0), b = ctx.tensor(1);
                    DType dtype = ShapeRules.sameDType("matmul", a, b);
                    requireFloat(ctx, a);
                    return List.of(new TensorType(dtype, ShapeRules.matmul("matmul", a.shape(), b.shape())));
                }).build();
    }

    private static OpSchema linear() {
        return OpSchema.define("linear").summary("x @ weight^T + bias, weight [out, in] as in torch.nn.Linear")
                .tensor("x").tensor("weight").optionalTensor("bias").traits(PURE).infer(ctx -> {
                    TensorType x = ctx.tensor(0), w = ctx.tensor(1);
                    ShapeRules.sameDType("linear", x, w);
                    requireFloat(ctx, x);
                    if (w.rank() != 2) throw ctx.error("weight must be 2-D [out, in], got " + w);
                    if (x.rank() < 1) throw ctx.error("input must have rank >= 1, got " + x);
                    Dim in = x.shape().dim(-1), wIn = w.shape().dim(1);
                    if (in.isStatic() && wIn.isStatic() && in.size() != wIn.size()) {
                        throw ctx.error("shapes " + x.shape() + " and " + w.shape() + " are incompatible: input features "
                                + in + " vs weight in_features " + wIn);
                    }
                    if (ctx.operandCount() == 3) {
                        TensorType b = ctx.tensor(2);
                        ShapeRules.sameDType("linear", x, b);
                        if (b.rank() != 1 || !compatible(b.shape().dim(0), w.shape().dim(0))) {
                            throw ctx.error("bias must be [" + w.shape().dim(0) + "], got " + b.shape());
                        }
                    }
                    return List.of(x.withShape(x.shape().withDim(-1, w.shape().dim(0))));
                }).build();
    }

    private static OpSchema softmax(String name, String summary) {
        return OpSchema.define(name).summary(summary).tensor("x").attr("axis", INT, Attribute.of(-1L))
                .traits(PURE).infer(ctx -> {
                    TensorType x = ctx.tensor(0);
                    requireFloat(ctx, x);
                    ShapeRules.normalize(name, ctx.intAttr("axis"), Math.max(x.rank(), 1));
                    return List.of(x);
                }).build();
    }

    private static OpSchema embedding() {
        return OpSchema.define("embedding").summary("rows of weight [V, D] picked by integer indices: [..., D]")
                .tensor("weight").tensor("indices").attr("padding_idx", INT, Attribute.of(-1L))
                .traits(PURE).infer(ctx -> {
                    TensorType w = ctx.tensor(0), idx = ctx.tensor(1);
                    if (w.rank() != 2) throw ctx.error("weight must be 2-D [num_embeddings, dim], got " + w);
                    requireIndices(ctx, idx);
                    checkPaddingIdx(ctx, w.shape().dim(0));
                    List<Dim> out = new ArrayList<>(idx.shape().dims());
                    out.add(w.shape().dim(1));
                    return List.of(w.withShape(new Shape(out)));
                }).build();
    }

    private static OpSchema embeddingGrad() {
        return OpSchema.define("embedding_grad")
                .summary("gradient of embedding w.r.t. weight: grad rows scatter-added at indices (none at padding_idx)")
                .tensor("grad_out").tensor("indices").attr("num_weights", INT).attr("padding_idx", INT, Attribute.of(-1L))
                .traits(PURE).infer(ctx -> {
                    TensorType g = ctx.tensor(0), idx = ctx.tensor(1);
                    requireFloat(ctx, g);
                    requireIndices(ctx, idx);
                    long v = ctx.intAttr("num_weights");
                    if (v < 0) throw ctx.error("num_weights must be >= 0, got " + v);
                    checkPaddingIdx(ctx, Dim.of(v));
                    if (g.rank() != idx.rank() + 1) {
                        throw ctx.error("grad_out " + g.shape() + " must be indices " + idx.shape() + " plus one trailing dim");
                    }
                    for (int i = 0; i < idx.rank(); i++) {
                        if (!compatible(g.shape().dim(i), idx.shape().dim(i))) {
                            throw ctx.error("grad_out " + g.shape() + " does not match indices " + idx.shape());
                        }
                    }
                    return List.of(g.withShape(Shape.of(Dim.of(v), g.shape().dim(-1))));
                }).build();
    }

    private static OpSchema dropoutMask() {
        return OpSchema.define("dropout_mask")
                .summary("random mask like x: 0 with probability p, else 1/(1-p) (not pure: draws from the runtime generator)")
                .tensor("x").attr("p", FLOAT).infer(ctx -> {
                    TensorType x = ctx.tensor(0);
                    requireFloat(ctx, x);
                    double p = floatAttr(ctx, "p");
                    if (!(p >= 0 && p <= 1)) throw ctx.error("p must be in [0, 1], got " + p);
                    return List.of(x);
                }).build();
    }

    private static void requireIndices(InferenceContext ctx, TensorType idx) {
        if (idx.dtype() != DType.I64 && idx.dtype() != DType.I32) {
            throw ctx.error("indices must be i64 or i32, got " + idx);
        }
    }

    private static void checkPaddingIdx(InferenceContext ctx, Dim rows) {
        long pad = ctx.intAttr("padding_idx");
        if (pad < -1 || (rows.isStatic() && pad >= rows.size())) {
            throw ctx.error("padding_idx must be -1 (none) or in [0, " + rows + "), got " + pad);
        }
    }

    /** A two-element ints attribute (stride, padding, ...): entries >= 0 for paddings, >= 1 otherwise. */
    static long[] pair(InferenceContext ctx, String attr) {
        return pair(ctx, attr, attr.endsWith("padding") ? 0 : 1);
    }

    /** A two-element ints attribute whose entries are at least {@code min}. */
    static long[] pair(InferenceContext ctx, String attr, long min) {
        long[] v = ctx.intsAttr(attr);
        if (v.length != 2) throw ctx.error(attr + " must have 2 entries, got " + java.util.Arrays.toString(v));
        for (long e : v) {
            if (e < min) throw ctx.error(attr + " entries must be >= " + min + ", got " + java.util.Arrays.toString(v));
        }
        return v;
    }

    static double floatAttr(InferenceContext ctx, String attr) {
        return ((Attribute.Float) ctx.attr(attr)).value();
    }

    static void requireFloat(InferenceContext ctx, TensorType t) {
        if (!t.dtype().isFloatingPoint()) throw ctx.error("needs a floating-point tensor, got " + t);
    }

    static boolean compatible(Dim a, Dim b) {
        return !(a.isStatic() && b.isStatic()) || a.size() == b.size();
    }

    /** Requires {@code actual} to equal {@code expected} where both are static; names {@code what}. */
    static void requireDim(InferenceContext ctx, String what, Dim actual, Dim expected) {
        if (!compatible(actual, expected)) throw ctx.error(what + " is " + actual + ", expected " + expected);
    }
}
