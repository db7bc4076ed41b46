package dev.kiln.ir;

import java.util.ArrayList;
import java.util.List;

import static dev.kiln.ir.AttrKind.BOOL;
import static dev.kiln.ir.AttrKind.INTS;
import static dev.kiln.ir.NnOps.pair;
import static dev.kiln.ir.NnOps.requireFloat;
import static dev.kiln.ir.Trait.PURE;

/** 2-D pooling ops over NCHW tensors (max, average, adaptive average) and their backward ops. */
final class PoolOps {

    private PoolOps() {}

    static List<OpSchema> all() {
        return List.of(maxPool2d(), avgPool2d(), adaptiveAvgPool2d(), maxPool2dGrad(), avgPool2dGrad(), adaptiveAvgPool2dGrad());
    }

    private static OpSchema.Builder maxAttrs(OpSchema.Builder b) {
        return b.attr("kernel_size", INTS).attr("stride", INTS)
                .attr("padding", INTS, Attribute.ints(0, 0)).attr("dilation", INTS, Attribute.ints(1, 1))
                .attr("ceil_mode", BOOL, Attribute.of(false));
    }

    private static OpSchema.Builder avgAttrs(OpSchema.Builder b) {
        return b.attr("kernel_size", INTS).attr("stride", INTS)
                .attr("padding", INTS, Attribute.ints(0, 0)).attr("ceil_mode", BOOL, Attribute.of(false))
                .attr("count_include_pad", BOOL, Attribute.of(true));
    }

    private static OpSchema maxPool2d() {
        return maxAttrs(OpSchema.define("max_pool2d").summary("2-D max pooling over NCHW input").tensor("x"))
                .traits(PURE).infer(ctx -> List.of(pool(ctx, nchw(ctx, 0, "input"), pair(ctx, "dilation")))).build();
    }

    private static OpSchema avgPool2d() {
        return avgAttrs(OpSchema.define("avg_pool2d").summary("2-D average pooling over NCHW input").tensor("x"))
                .traits(PURE).infer(ctx -> List.of(pool(ctx, nchw(ctx, 0, "input"), new long[] {1, 1}))).build();
    }

    private static OpSchema adaptiveAvgPool2d() {
        return OpSchema.define("adaptive_avg_pool2d")
                .summary("2-D average pooling to output_size; window i spans [floor(i*H/out), ceil((i+1)*H/out))")
                .tensor("x").attr("output_size", INTS).traits(PURE).infer(ctx -> {
                    TensorType x = nchw(ctx, 0, "input");
                    long[] size = pair(ctx, "output_size", 0);
                    for (int i = 0; i < 2; i++) {
                        Dim in = x.shape().dim(2 + i);
                        if (in.isStatic() && in.size() == 0) throw ctx.error("input " + x + " has an empty spatial dim");
                    }
                    return List.of(x.withShape(Shape.of(x.shape().dim(0), x.shape().dim(1), Dim.of(size[0]), Dim.of(size[1]))));
                }).build();
    }

    private static OpSchema maxPool2dGrad() {
        return maxAttrs(OpSchema.define("max_pool2d_grad")
                .summary("gradient of max_pool2d: each window's grad goes to its first maximum in x").tensor("grad_out").tensor("x"))
                .traits(PURE).infer(ctx -> {
                    TensorType g = nchw(ctx, 0, "grad_out"), x = nchw(ctx, 1, "input");
                    ShapeRules.sameDType(ctx.opName(), g, x);
                    matches(ctx, g, pool(ctx, x, pair(ctx, "dilation")));
                    return List.of(x);
                }).build();
    }

    private static OpSchema avgPool2dGrad() {
        return avgAttrs(OpSchema.define("avg_pool2d_grad")
                .summary("gradient of avg_pool2d for an input of spatial size input_size").tensor("grad_out"))
                .attr("input_size", INTS).traits(PURE).infer(ctx -> {
                    TensorType x = gradInput(ctx);
                    matches(ctx, ctx.tensor(0), pool(ctx, x, new long[] {1, 1}));
                    return List.of(x);
                }).build();
    }

    private static OpSchema adaptiveAvgPool2dGrad() {
        return OpSchema.define("adaptive_avg_pool2d_grad")
                .summary("gradient of adaptive_avg_pool2d for an input of spatial size input_size")
                .tensor("grad_out").attr("input_size", INTS).traits(PURE).infer(ctx -> List.of(gradInput(ctx))).build();
    }

    /** The input type of a pooling backward op: grad_out's batch and channels with spatial size input_size. */
    private static TensorType gradInput(InferenceContext ctx) {
        TensorType g = nchw(ctx, 0, "grad_out");
        long[] size = pair(ctx, "input_size", 1);
        return g.withShape(Shape.of(g.shape().dim(0), g.shape().dim(1), Dim.of(size[0]), Dim.of(size[1])));
    }

    private static void matches(InferenceContext ctx, TensorType g, TensorType pooled) {
        for (int i = 0; i < 4; i++) {
            if (!NnOps.compatible(g.shape().dim(i), pooled.shape().dim(i))) {
                throw ctx.error("grad_out " + g.shape() + " does not match the pooled shape " + pooled.shape());
            }
        }
    }

    private static TensorType nchw(InferenceContext ctx, int i, String what) {
        TensorType x = ctx.tensor(i);
        requireFloat(ctx, x);
        if (x.rank() != 4) throw ctx.error(what + " must be 4-D [N, C, H, W], got " + x);
        return x;
    }

    private static TensorType pool(InferenceContext ctx, TensorType x, long[] dilation) {
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
}
