package dev.kiln.ir;

import java.util.List;

import static dev.kiln.ir.AttrKind.INT;
import static dev.kiln.ir.AttrKind.INTS;
import static dev.kiln.ir.NnOps.compatible;
import static dev.kiln.ir.NnOps.pair;
import static dev.kiln.ir.NnOps.requireFloat;
import static dev.kiln.ir.Trait.PURE;

/**
 * 2-D convolution ops over NCHW tensors: {@code conv2d}, {@code conv_transpose2d} and the backward ops their
 * gradients use ({@code conv2d_input_grad}, {@code conv2d_weight_grad}, {@code conv_transpose2d_input_grad}).
 */
final class ConvOps {

    private ConvOps() {}

    static List<OpSchema> all() {
        return List.of(conv2d(), convTranspose2d(), conv2dInputGrad(), conv2dWeightGrad(), convTranspose2dInputGrad());
    }

    private static OpSchema.Builder geometry(OpSchema.Builder b) {
        return b.attr("stride", INTS, Attribute.ints(1, 1)).attr("padding", INTS, Attribute.ints(0, 0))
                .attr("dilation", INTS, Attribute.ints(1, 1)).attr("groups", INT, Attribute.of(1L));
    }

    private static OpSchema conv2d() {
        return geometry(OpSchema.define("conv2d").summary("2-D cross-correlation over NCHW input, weight [O, C/groups, kH, kW]")
                .tensor("x").tensor("weight").optionalTensor("bias"))
                .traits(PURE).infer(ctx -> {
                    TensorType x = input(ctx, 0, "input"), w = weight(ctx, 1, x);
                    long groups = groups(ctx);
                    long outCh = w.shape().dim(0).size();
                    divisible(ctx, "out channels", outCh, groups);
                    requireChannels(ctx, x.shape().dim(1), w.shape().dim(1).size() * groups, w, groups);
                    bias(ctx, 2, x, outCh);
                    return List.of(x.withShape(Shape.of(x.shape().dim(0), Dim.of(outCh),
                            convOut(ctx, x.shape().dim(2), w, 0), convOut(ctx, x.shape().dim(3), w, 1))));
                }).build();
    }

    private static OpSchema convTranspose2d() {
        return geometry(OpSchema.define("conv_transpose2d")
                .summary("2-D transposed convolution over NCHW input, weight [C, O/groups, kH, kW] (torch ConvTranspose2d)")
                .tensor("x").tensor("weight").optionalTensor("bias").attr("output_padding", INTS, Attribute.ints(0, 0)))
                .traits(PURE).infer(ctx -> {
                    TensorType x = input(ctx, 0, "input"), w = weight(ctx, 1, x);
                    long groups = groups(ctx);
                    long inCh = w.shape().dim(0).size(), outCh = w.shape().dim(1).size() * groups;
                    divisible(ctx, "weight in channels", inCh, groups);
                    requireChannels(ctx, x.shape().dim(1), inCh, w, groups);
                    bias(ctx, 2, x, outCh);
                    long[] stride = pair(ctx, "stride"), dil = pair(ctx, "dilation"), op = pair(ctx, "output_padding");
                    for (int i = 0; i < 2; i++) {
                        if (op[i] >= stride[i] && op[i] >= dil[i]) {
                            throw ctx.error("output_padding " + java.util.Arrays.toString(op)
                                    + " must be smaller than either stride " + java.util.Arrays.toString(stride)
                                    + " or dilation " + java.util.Arrays.toString(dil));
                        }
                    }
                    return List.of(x.withShape(Shape.of(x.shape().dim(0), Dim.of(outCh),
                            transposedOut(ctx, x.shape().dim(2), w, 0, op[0]),
                            transposedOut(ctx, x.shape().dim(3), w, 1, op[1]))));
                }).build();
    }

    private static OpSchema conv2dInputGrad() {
        return geometry(OpSchema.define("conv2d_input_grad")
                .summary("gradient of conv2d w.r.t. its input [N, C, input_size]: a transposed convolution of grad_out")
                .tensor("grad_out").tensor("weight").attr("input_size", INTS))
                .traits(PURE).infer(ctx -> {
                    TensorType g = input(ctx, 0, "grad_out"), w = weight(ctx, 1, g);
                    long groups = groups(ctx);
                    long outCh = w.shape().dim(0).size();
                    divisible(ctx, "out channels", outCh, groups);
                    NnOps.requireDim(ctx, "grad_out channels", g.shape().dim(1), Dim.of(outCh));
                    long[] size = pair(ctx, "input_size", 1);
                    for (int i = 0; i < 2; i++) {
                        Dim expected = convOut(ctx, Dim.of(size[i]), w, i);
                        NnOps.requireDim(ctx, "grad_out spatial dim " + i, g.shape().dim(2 + i), expected);
                    }
                    return List.of(g.withShape(Shape.of(g.shape().dim(0), Dim.of(w.shape().dim(1).size() * groups),
                            Dim.of(size[0]), Dim.of(size[1]))));
                }).build();
    }

    private static OpSchema conv2dWeightGrad() {
        return geometry(OpSchema.define("conv2d_weight_grad")
                .summary("gradient of conv2d w.r.t. its weight [O, C/groups, kernel_size]; grad_out may cover only the"
                        + " leading output positions")
                .tensor("x").tensor("grad_out").attr("kernel_size", INTS))
                .traits(PURE).infer(ctx -> {
                    TensorType x = input(ctx, 0, "input"), g = input(ctx, 1, "grad_out");
                    ShapeRules.sameDType(ctx.opName(), x, g);
                    long groups = groups(ctx);
                    long[] k = pair(ctx, "kernel_size");
                    Dim c = x.shape().dim(1), o = g.shape().dim(1);
                    if (!c.isStatic() || !o.isStatic()) throw ctx.error("channel dims must be static, got " + x + " and " + g);
                    divisible(ctx, "input channels", c.size(), groups);
                    divisible(ctx, "out channels", o.size(), groups);
                    NnOps.requireDim(ctx, "grad_out batch", g.shape().dim(0), x.shape().dim(0));
                    long[] stride = pair(ctx, "stride"), pad = pair(ctx, "padding"), dil = pair(ctx, "dilation");
                    for (int i = 0; i < 2; i++) {
                        Dim natural = ShapeRules.windowOutput(ctx.opName(), x.shape().dim(2 + i), k[i], stride[i],
                                pad[i], pad[i], dil[i], false);
                        Dim have = g.shape().dim(2 + i);
                        if (natural.isStatic() && have.isStatic() && have.size() > natural.size()) {
                            throw ctx.error("grad_out " + g.shape() + " has " + have + " positions along spatial dim " + i
                                    + " but the convolution of " + x.shape() + " gives only " + natural);
                        }
                    }
                    return List.of(x.withShape(Shape.of(o.size(), c.size() / groups, k[0], k[1])));
                }).build();
    }

    private static OpSchema convTranspose2dInputGrad() {
        return geometry(OpSchema.define("conv_transpose2d_input_grad")
                .summary("gradient of conv_transpose2d w.r.t. its input [N, C, input_size]: a convolution of grad_out")
                .tensor("grad_out").tensor("weight").attr("input_size", INTS))
                .traits(PURE).infer(ctx -> {
                    TensorType g = input(ctx, 0, "grad_out"), w = weight(ctx, 1, g);
                    long groups = groups(ctx);
                    long inCh = w.shape().dim(0).size();
                    divisible(ctx, "weight in channels", inCh, groups);
                    NnOps.requireDim(ctx, "grad_out channels", g.shape().dim(1), Dim.of(w.shape().dim(1).size() * groups));
                    long[] size = pair(ctx, "input_size", 1);
                    long[] stride = pair(ctx, "stride"), dil = pair(ctx, "dilation");
                    for (int i = 0; i < 2; i++) {
                        Dim base = transposedOut(ctx, Dim.of(size[i]), w, i, 0);
                        Dim have = g.shape().dim(2 + i);
                        long extra = have.isStatic() ? have.size() - base.size() : 0;
                        if (extra < 0 || extra >= Math.max(stride[i], dil[i])) {
                            throw ctx.error("grad_out " + g.shape() + " does not match a transposed convolution of input size "
                                    + java.util.Arrays.toString(size));
                        }
                    }
                    return List.of(g.withShape(Shape.of(g.shape().dim(0), Dim.of(inCh), Dim.of(size[0]), Dim.of(size[1]))));
                }).build();
    }

    private static TensorType input(InferenceContext ctx, int i, String what) {
        TensorType x = ctx.tensor(i);
        requireFloat(ctx, x);
        if (x.rank() != 4) throw ctx.error(what + " must be 4-D [N, C, H, W], got " + x);
        return x;
    }

    private static TensorType weight(InferenceContext ctx, int i, TensorType x) {
        TensorType w = ctx.tensor(i);
        ShapeRules.sameDType(ctx.opName(), x, w);
        if (w.rank() != 4) throw ctx.error("weight must be 4-D, got " + w);
        if (!w.shape().isStatic()) throw ctx.error("weight must have a static shape, got " + w);
        if (w.shape().dim(2).size() == 0 || w.shape().dim(3).size() == 0) throw ctx.error("weight " + w + " has an empty kernel");
        return w;
    }

    private static long groups(InferenceContext ctx) {
        long groups = ctx.intAttr("groups");
        if (groups < 1) throw ctx.error("groups must be >= 1, got " + groups);
        return groups;
    }

    private static void divisible(InferenceContext ctx, String what, long n, long groups) {
        if (n % groups != 0) throw ctx.error(what + " " + n + " not divisible by groups " + groups);
    }

    private static void requireChannels(InferenceContext ctx, Dim c, long expected, TensorType w, long groups) {
        if (c.isStatic() && c.size() != expected) {
            throw ctx.error("input has " + c + " channels but weight " + w.shape() + " with groups=" + groups + " expects " + expected);
        }
    }

    private static void bias(InferenceContext ctx, int i, TensorType x, long channels) {
        if (ctx.operandCount() <= i) return;
        TensorType b = ctx.tensor(i);
        ShapeRules.sameDType(ctx.opName(), x, b);
        if (b.rank() != 1 || !compatible(b.shape().dim(0), Dim.of(channels))) {
            throw ctx.error("bias must be [" + channels + "], got " + b.shape());
        }
    }

    /** Convolution output along spatial axis {@code i} (0: height, 1: width). */
    private static Dim convOut(InferenceContext ctx, Dim in, TensorType w, int i) {
        long[] stride = pair(ctx, "stride"), pad = pair(ctx, "padding"), dil = pair(ctx, "dilation");
        return ShapeRules.windowOutput(ctx.opName(), in, w.shape().dim(2 + i).size(), stride[i], pad[i], pad[i], dil[i], false);
    }

    /** Transposed-convolution output {@code (in-1)*s - 2p + d(k-1) + op + 1} along spatial axis {@code i}. */
    private static Dim transposedOut(InferenceContext ctx, Dim in, TensorType w, int i, long outputPadding) {
        if (!in.isStatic()) return Dim.UNKNOWN;
        long[] stride = pair(ctx, "stride"), pad = pair(ctx, "padding"), dil = pair(ctx, "dilation");
        long k = w.shape().dim(2 + i).size();
        long out = (in.size() - 1) * stride[i] - 2 * pad[i] + dil[i] * (k - 1) + outputPadding + 1;
        if (out < 1 || in.size() < 1) {
            throw ctx.error("input size " + in + " gives a non-positive output size " + out + " along spatial dim " + i);
        }
        return Dim.of(out);
    }
}
