package dev.kiln.ir;

import java.util.ArrayList;
import java.util.List;

import static dev.kiln.ir.AttrKind.BOOL;
import static dev.kiln.ir.AttrKind.INT;
import static dev.kiln.ir.AttrKind.INTS;
import static dev.kiln.ir.Trait.PURE;

/** Linear algebra and neural-network ops: matmul, linear, conv2d, pooling, softmax. */
final class NnOps {

    private NnOps() {}

    static List<OpSchema> all() {
        return List.of(matmul(), linear(), conv2d(), maxPool2d(), avgPool2d(),
                softmax("softmax", "exp(x) / sum(exp(x)) along axis"),
                softmax("log_softmax", "x - logsumexp(x) along axis"));
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

    private static OpSchema conv2d() {
        return OpSchema.define("conv2d").summary("2-D cross-correlation over NCHW input, weight [O, C/groups, kH, kW]")
                .tensor("x").tensor("weight").optionalTensor("bias")
                .attr("stride", INTS, Attribute.ints(1, 1)).attr("padding", INTS, Attribute.ints(0, 0))
                .attr("dilation", INTS, Attribute.ints(1, 1)).attr("groups", INT, Attribute.of(1L))
                .traits(PURE).infer(ctx -> {
                    TensorType x = ctx.tensor(0), w = ctx.tensor(1);
                    ShapeRules.sameDType("conv2d", x, w);
                    requireFloat(ctx, x);
                    if (x.rank() != 4) throw ctx.error("input must be 4-D [N, C, H, W], got " + x);
                    if (w.rank() != 4) throw ctx.error("weight must be 4-D [O, C/groups, kH, kW], got " + w);
                    if (!w.shape().isStatic()) throw ctx.error("weight must have a static shape, got " + w);
                    long[] stride = pair(ctx, "stride"), pad = pair(ctx, "padding"), dil = pair(ctx, "dilation");
                    long groups = ctx.intAttr("groups");
                    if (groups < 1) throw ctx.error("groups must be >= 1, got " + groups);
                    long[] k = {w.shape().dim(2).size(), w.shape().dim(3).size()};
                    Dim c = x.shape().dim(1);
                    long outCh = w.shape().dim(0).size();
                    if (outCh % groups != 0) throw ctx.error("out channels " + outCh + " not divisible by groups " + groups);
                    if (c.isStatic() && c.size() != w.shape().dim(1).size() * groups) {
                        throw ctx.error("input has " + c + " channels but weight " + w.shape() + " with groups="
                                + groups + " expects " + w.shape().dim(1).size() * groups);
                    }
                    if (ctx.operandCount() == 3) {
                        TensorType b = ctx.tensor(2);
                        if (b.rank() != 1 || !compatible(b.shape().dim(0), Dim.of(outCh))) {
                            throw ctx.error("bias must be [" + outCh + "], got " + b.shape());
                        }
                    }
                    List<Dim> out = new ArrayList<>(List.of(x.shape().dim(0), Dim.of(outCh)));
                    for (int i = 0; i < 2; i++) {
                        out.add(ShapeRules.windowOutput("conv2d", x.shape().dim(2 + i), k[i], stride[i], pad[i], pad[i], dil[i], false));
                    }
                    return List.of(x.withShape(new Shape(out)));
                }).build();
    }

    private static OpSchema maxPool2d() {
        return OpSchema.define("max_pool2d").summary("2-D max pooling over NCHW input")
                .tensor("x").attr("kernel_size", INTS).attr("stride", INTS)
                .attr("padding", INTS, Attribute.ints(0, 0)).attr("dilation", INTS, Attribute.ints(1, 1))
                .attr("ceil_mode", BOOL, Attribute.of(false))
                .traits(PURE).infer(ctx -> List.of(pool(ctx, pair(ctx, "dilation")))).build();
    }

    private static OpSchema avgPool2d() {
        return OpSchema.define("avg_pool2d").summary("2-D average pooling over NCHW input")
                .tensor("x").attr("kernel_size", INTS).attr("stride", INTS)
                .attr("padding", INTS, Attribute.ints(0, 0)).attr("ceil_mode", BOOL, Attribute.of(false))
                .attr("count_include_pad", BOOL, Attribute.of(true))
                .traits(PURE).infer(ctx -> List.of(pool(ctx, new long[] {1, 1}))).build();
    }

    private static TensorType pool(InferenceContext ctx, long[] dilation) {
        TensorType x = ctx.tensor(0);
        requireFloat(ctx, x);
        if (x.rank() != 4) throw ctx.error("input must be 4-D [N, C, H, W], got " + x);
        long[] k = pair(ctx, "kernel_size"), stride = pair(ctx, "stride"), pad = pair(ctx, "padding");
        boolean ceil = ctx.boolAttr("ceil_mode");
        for (int i = 0; i < 2; i++) {
            if (pad[i] * 2 > k[i]) throw ctx.error("padding " + pad[i] + " must be at most half the kernel size " + k[i]);
        }
        List<Dim> out = new ArrayList<>(x.shape().dims().subList(0, 2));
        for (int i = 0; i < 2; i++) {
            out.add(ShapeRules.windowOutput(ctx.opName(), x.shape().dim(2 + i), k[i], stride[i], pad[i], pad[i], dilation[i], ceil));
        }
        return x.withShape(new Shape(out));
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

    /** A two-element positive ints attribute (stride, padding, ...). */
    static long[] pair(InferenceContext ctx, String attr) {
        long[] v = ctx.intsAttr(attr);
        if (v.length != 2) throw ctx.error(attr + " must have 2 entries, got " + java.util.Arrays.toString(v));
        long min = attr.equals("padding") ? 0 : 1;
        for (long e : v) {
            if (e < min) throw ctx.error(attr + " entries must be >= " + min + ", got " + java.util.Arrays.toString(v));
        }
        return v;
    }

    static void requireFloat(InferenceContext ctx, TensorType t) {
        if (!t.dtype().isFloatingPoint()) throw ctx.error("needs a floating-point tensor, got " + t);
    }

    private static boolean compatible(Dim a, Dim b) {
        return !(a.isStatic() && b.isStatic()) || a.size() == b.size();
    }
}
