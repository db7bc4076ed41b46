package dev.kiln.onnx;

import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.TensorType;

import java.util.List;
import java.util.stream.LongStream;

/**
 * batch_norm, layer_norm and group_norm. Kiln's batch_norm always takes its statistics as operands
 * (training-mode batch statistics are computed by ordinary ops before it), so it is ONNX
 * BatchNormalization in inference form, whose mean and var may be computed values. layer_norm is
 * LayerNormalization from opset 17 and a mean/variance formula before; group_norm is always the
 * formula (GroupNormalization-18 scales per group, unlike Kiln's per-channel weight).
 */
final class NormLowering {

    private NormLowering() {}

    /** BatchNormalization(x, scale, bias, mean, var); an absent weight or bias is ones or zeros shaped like mean. */
    static void batchNorm(Op op, Emitter e) {
        DType dtype = op.operand(0).tensorType().dtype();
        String mean = e.ref(op.operand(1));
        String scale = op.operandCount() > 3 ? e.ref(op.operand(3)) : filled(e, dtype, 1, e.shapeOf(mean));
        String bias = op.operandCount() > 4 ? e.ref(op.operand(4)) : filled(e, dtype, 0, e.shapeOf(mean));
        e.node("BatchNormalization", List.of(e.ref(op.operand(0)), scale, bias, mean, e.ref(op.operand(2))),
                List.of(e.define(op.result()))).addAttribute(Attrs.f("epsilon", op.floatAttr("eps")));
    }

    /** Normalises over the last normalized_dims dims with the biased variance, then * weight + bias. */
    static void layerNorm(Op op, Emitter e) {
        TensorType x = op.operand(0).tensorType();
        int k = (int) op.intAttr("normalized_dims");
        String in = e.ref(op.operand(0));
        String weight = op.operandCount() > 1 ? e.ref(op.operand(1)) : null;
        String bias = op.operandCount() > 2 ? e.ref(op.operand(2)) : null;
        if (e.opset() >= 17) {
            if (weight == null) {
                String trailing = e.helper("Slice", "normalized_shape", e.shapeOf(in), e.int64s("starts", x.rank() - k),
                        e.int64s("ends", x.rank()), e.int64s("axes", 0));
                weight = filled(e, x.dtype(), 1, trailing);
            }
            List<String> inputs = bias == null ? List.of(in, weight) : List.of(in, weight, bias);
            e.node("LayerNormalization", inputs, List.of(e.define(op.result())))
                    .addAttribute(Attrs.i("axis", x.rank() - k))
                    .addAttribute(Attrs.f("epsilon", op.floatAttr("eps")));
            return;
        }
        long[] axes = LongStream.range(x.rank() - k, x.rank()).toArray();
        String normalized = normalize(e, in, axes, x.dtype(), op.floatAttr("eps"));
        affine(op, e, normalized, weight, bias);
    }

    /**
     * Each of groups groups of C/groups channels (with the spatial dims) normalised on its own:
     * Reshape to [N, groups, -1], normalise over the last axis, Reshape back to x's run-time shape,
     * then weight and bias per channel (unsqueezed to [C, 1, ...]).
     */
    static void groupNorm(Op op, Emitter e) {
        TensorType x = op.operand(0).tensorType();
        String in = e.ref(op.operand(0));
        String grouped = e.helper("Reshape", "grouped", in, e.int64s("group_shape", 0, op.intAttr("groups"), -1));
        String normalized = normalize(e, grouped, new long[] {2}, x.dtype(), op.floatAttr("eps"));
        String back = e.helper("Reshape", "group_normalized", normalized, e.shapeOf(in));
        long[] spatial = LongStream.range(1, x.rank() - 1).toArray();
        String weight = op.operandCount() > 1 ? perChannel(e, e.ref(op.operand(1)), spatial) : null;
        String bias = op.operandCount() > 2 ? perChannel(e, e.ref(op.operand(2)), spatial) : null;
        affine(op, e, back, weight, bias);
    }

    /** (x - mean) / sqrt(var + eps) over axes, var biased (mean of squared deviations). */
    private static String normalize(Emitter e, String x, long[] axes, DType dtype, double eps) {
        String mean = e.reduce("ReduceMean", "mean", x, axes, true);
        String centered = e.helper("Sub", "centered", x, mean);
        String var = e.reduce("ReduceMean", "var", e.helper("Mul", "squared", centered, centered), axes, true);
        String std = e.helper("Sqrt", "std", e.helper("Add", "var_eps", var, e.scalar(dtype, eps, "eps")));
        return e.helper("Div", "normalized", centered, std);
    }

    /** normalized * weight + bias (either may be null), written to the op's result. */
    private static void affine(Op op, Emitter e, String normalized, String weight, String bias) {
        String out = e.define(op.result());
        if (weight == null && bias == null) {
            e.node("Identity", List.of(normalized), List.of(out));
        } else if (bias == null) {
            e.node("Mul", List.of(normalized, weight), List.of(out));
        } else {
            String scaled = weight == null ? normalized : e.helper("Mul", "scaled", normalized, weight);
            e.node("Add", List.of(scaled, bias), List.of(out));
        }
    }

    /** A [C] parameter as [C, 1, ...] so it broadcasts over the channel dim of [N, C, ...]. */
    private static String perChannel(Emitter e, String p, long[] trailingAxes) {
        return trailingAxes.length == 0 ? p : e.unsqueeze(p, p + "_per_channel", trailingAxes);
    }

    /** A tensor of {@code dtype} filled with {@code value}, of the run-time shape {@code shape}. */
    private static String filled(Emitter e, DType dtype, double value, String shape) {
        String out = e.temp(value == 0 ? "zeros" : "ones");
        e.node("ConstantOfShape", List.of(shape), List.of(out)).addAttribute(Attrs.tensor("value",
                e.tensorProto(dtype, new long[] {1}, new double[] {value})));
        return out;
    }
}
