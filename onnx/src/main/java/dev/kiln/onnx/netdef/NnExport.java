package dev.kiln.onnx.netdef;

import dev.kiln.ir.Dim;
import dev.kiln.ir.Op;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.kiln.onnx.netdef.ExportTable.F32;

/**
 * Neural-network ops as Caffe2 operators (all f32, NCHW): MatMul/BatchMatMul, FC, Conv,
 * SpatialBN, Softmax, MaxPool and AveragePool. Pads are written {@code [t, l, b, r]}.
 */
final class NnExport {

    private NnExport() {}

    /** 2-D matmul is MatMul; other ranks are BatchMatMul with broadcast = 1 (NumPy matmul). */
    static void matmul(Op op, NetWriter w) {
        NetWriter.requireDType(op, 0, "MatMul", F32);
        List<String> in = List.of(w.ref(op.operand(0)), w.ref(op.operand(1)));
        if (op.operand(0).tensorType().rank() == 2 && op.operand(1).tensorType().rank() == 2) {
            w.op("MatMul", in, List.of(w.define(op.result())));
        } else {
            w.op("BatchMatMul", in, List.of(w.define(op.result()))).addArg(Args.i("broadcast", 1));
        }
    }

    /**
     * linear (and linear_act): FC with {@code axis} = rank - 1, so leading dims stay and the last is
     * replaced by out_features, Caffe2's weight [out, in] being Kiln's. FC needs a bias: without one,
     * a 2-D input is MatMul with trans_b = 1, other ranks get a zero bias from ConstantFill.
     */
    static void linear(Op op, NetWriter w) {
        NetWriter.requireDType(op, 0, "FC", F32);
        TensorType x = op.operand(0).tensorType(), weight = op.operand(1).tensorType();
        String out = activationInput(op, w);
        if (op.operandCount() == 3) {
            fc(w, x, List.of(w.ref(op.operand(0)), w.ref(op.operand(1)), w.ref(op.operand(2))), out);
        } else if (x.rank() == 2) {
            w.op("MatMul", List.of(w.ref(op.operand(0)), w.ref(op.operand(1))), List.of(out)).addArg(Args.i("trans_b", 1));
        } else {
            Dim n = weight.shape().dim(0);
            if (!n.isStatic()) throw NetWriter.error(op, "weight " + weight + " needs a static out_features for the zero bias FC requires");
            String zeros = w.constantFill(w.ref(op.operand(1)) + "_zero_bias", 0, n.size());
            fc(w, x, List.of(w.ref(op.operand(0)), w.ref(op.operand(1)), zeros), out);
        }
        activation(op, w, out);
    }

    private static void fc(NetWriter w, TensorType x, List<String> in, String out) {
        var fc = w.op("FC", in, List.of(out));
        if (x.rank() != 2) fc.addArg(Args.i("axis", Math.max(x.rank() - 1, 0)));
    }

    /** conv2d (and conv2d_act) as Conv with explicit kernels, strides, pads, dilations and group. */
    static void conv2d(Op op, NetWriter w) {
        NetWriter.requireDType(op, 0, "Conv", F32);
        TensorType weight = op.operand(1).tensorType();
        long[] pad = op.intsAttr("padding"), dilation = op.intsAttr("dilation");
        long groups = op.intAttr("groups");
        if (groups != 1 && (dilation[0] != 1 || dilation[1] != 1)) {
            throw NetWriter.error(op, "Caffe2 Conv refuses group " + groups + " together with dilation " + Arrays.toString(dilation)
                    + "; it supports grouped or dilated convolution, not both");
        }
        // conv2d_act {residual}: Conv, then Sum with the residual (the last operand), then the activation
        boolean residual = op.name().equals("conv2d_act") && op.boolAttr("residual");
        List<Value> convOperands = residual ? op.operands().subList(0, op.operandCount() - 1) : op.operands();
        List<String> in = new ArrayList<>();
        for (Value v : convOperands) in.add(w.ref(v));
        String out = activationInput(op, w);
        String convOut = residual ? w.temp(op.name() + "_conv") : out;
        w.op("Conv", in, List.of(convOut))
                .addArg(Args.ints("kernels", weight.shape().dim(2).size(), weight.shape().dim(3).size()))
                .addArg(Args.ints("strides", op.intsAttr("stride")))
                .addArg(Args.ints("pads", pad[0], pad[1], pad[0], pad[1]))
                .addArg(Args.ints("dilations", dilation))
                .addArg(Args.i("group", groups))
                .addArg(Args.s("order", "NCHW"));
        if (residual) w.op("Sum", List.of(convOut, w.ref(op.operand(op.operandCount() - 1))), List.of(out));
        activation(op, w, out);
    }

    /** The blob the main operator of a (possibly fused) op writes: the result, or a temporary before the activation. */
    private static String activationInput(Op op, NetWriter w) {
        String act = activationOf(op);
        if (!act.equals("none") && !act.equals("relu") && !act.equals("sigmoid") && !act.equals("tanh")) {
            throw NetWriter.error(op, "fused activation '" + act + "' has no Caffe2 operator here (relu, sigmoid and tanh do)");
        }
        return act.equals("none") ? w.define(op.result()) : w.temp(op.name() + "_preact");
    }

    private static void activation(Op op, NetWriter w, String preact) {
        String act = activationOf(op);
        if (act.equals("none")) return;
        String type = switch (act) {
            case "relu" -> "Relu";
            case "sigmoid" -> "Sigmoid";
            default -> "Tanh";
        };
        w.op(type, List.of(preact), List.of(w.define(op.result())));
    }

    private static String activationOf(Op op) {
        return op.name().endsWith("_act") ? ((dev.kiln.ir.Attribute.Str) op.attr("activation")).value() : "none";
    }

    /**
     * batch_norm as SpatialBN in test mode (inputs X, scale, bias, mean, var); a missing weight or
     * bias becomes a ConstantFill of ones or zeros.
     */
    static void batchNorm(Op op, NetWriter w) {
        NetWriter.requireDType(op, 0, "SpatialBN", F32);
        TensorType x = op.operand(0).tensorType();
        String x0 = w.ref(op.operand(0)), mean = w.ref(op.operand(1)), var = w.ref(op.operand(2));
        String scale, bias;
        if (op.operandCount() < 5) {
            Dim c = x.shape().dim(1);
            if (!c.isStatic()) throw NetWriter.error(op, "input " + x + " needs a static channel count for the scale and bias SpatialBN requires");
            scale = op.operandCount() > 3 ? w.ref(op.operand(3)) : w.constantFill(x0 + "_bn_scale", 1, c.size());
            bias = w.constantFill(x0 + "_bn_bias", 0, c.size());
        } else {
            scale = w.ref(op.operand(3));
            bias = w.ref(op.operand(4));
        }
        w.op("SpatialBN", List.of(x0, scale, bias, mean, var), List.of(w.define(op.result())))
                .addArg(Args.i("is_test", 1)).addArg(Args.f("epsilon", op.floatAttr("eps"))).addArg(Args.s("order", "NCHW"));
    }

    /**
     * Softmax. Caffe2 normalises over all dims from {@code axis} on, Kiln over {@code axis} alone;
     * they agree when axis is last (or only size-1 dims follow it). Otherwise the axis is moved
     * last with Transpose, normalised there, and moved back.
     */
    static void softmax(Op op, NetWriter w) {
        NetWriter.requireDType(op, 0, "Softmax", F32);
        TensorType x = op.operand(0).tensorType();
        int rank = x.rank();
        if (rank == 0) throw NetWriter.error(op, "a 0-d input has no axis for Caffe2 Softmax; reshape it to [1] first");
        int axis = (int) ExportTable.norm(op.intAttr("axis"), rank);
        boolean trailingOnes = x.shape().dims().subList(axis + 1, rank).stream().allMatch(d -> d.equals(Dim.of(1)));
        if (trailingOnes) {
            w.op("Softmax", List.of(w.ref(op.operand(0))), List.of(w.define(op.result()))).addArg(Args.i("axis", axis));
            return;
        }
        long[] perm = new long[rank], inverse = new long[rank];
        for (int i = 0, j = 0; i < rank; i++) if (i != axis) perm[j++] = i;
        perm[rank - 1] = axis;
        for (int i = 0; i < rank; i++) inverse[(int) perm[i]] = i;
        String in = w.ref(op.operand(0));
        String moved = w.temp(in + "_axis_last"), normalised = w.temp(in + "_softmax");
        w.op("Transpose", List.of(in), List.of(moved)).addArg(Args.ints("axes", perm));
        w.op("Softmax", List.of(moved), List.of(normalised)).addArg(Args.i("axis", rank - 1));
        w.op("Transpose", List.of(normalised), List.of(w.define(op.result()))).addArg(Args.ints("axes", inverse));
    }

    /** max_pool2d as MaxPool; Caffe2 pooling has no dilation. See {@link #pads} for ceil_mode. */
    static void maxPool2d(Op op, NetWriter w) {
        NetWriter.requireDType(op, 0, "MaxPool", F32);
        long[] d = op.intsAttr("dilation");
        if (d[0] != 1 || d[1] != 1) throw NetWriter.error(op, "Caffe2 MaxPool has no dilation, got " + Arrays.toString(d));
        w.op("MaxPool", List.of(w.ref(op.operand(0))), List.of(w.define(op.result())))
                .addArg(Args.ints("kernels", op.intsAttr("kernel_size")))
                .addArg(Args.ints("strides", op.intsAttr("stride")))
                .addArg(Args.ints("pads", pads(op, false)))
                .addArg(Args.s("order", "NCHW"));
    }

    /**
     * avg_pool2d as AveragePool. Caffe2's count_include_pad = 1 divides every window by the kernel
     * size, PyTorch's by the part of the window inside the padded input; they agree unless a
     * ceil_mode window overhangs the padding, which is refused. Without padding both divide by the
     * part inside the input, so count_include_pad is written as 0 there.
     */
    static void avgPool2d(Op op, NetWriter w) {
        NetWriter.requireDType(op, 0, "AveragePool", F32);
        long[] p = op.intsAttr("padding");
        boolean countPad = op.boolAttr("count_include_pad") && (p[0] > 0 || p[1] > 0);
        w.op("AveragePool", List.of(w.ref(op.operand(0))), List.of(w.define(op.result())))
                .addArg(Args.ints("kernels", op.intsAttr("kernel_size")))
                .addArg(Args.ints("strides", op.intsAttr("stride")))
                .addArg(Args.ints("pads", pads(op, countPad)))
                .addArg(Args.i("count_include_pad", countPad ? 1 : 0))
                .addArg(Args.s("order", "NCHW"));
    }

    /**
     * Pads [t, l, b, r]. Caffe2 pools with floor output sizes; PyTorch's ceil_mode (a last window
     * that starts inside the input or its left padding) is written, for static H and W, as extra
     * bottom/right padding that makes the floor count equal Kiln's result size. Windows are clipped
     * to the input on both sides, so max and count-excluding averages are unchanged by it.
     */
    private static long[] pads(Op op, boolean countPad) {
        long[] k = op.intsAttr("kernel_size"), s = op.intsAttr("stride"), p = op.intsAttr("padding");
        long[] pads = {p[0], p[1], p[0], p[1]};
        if (!op.boolAttr("ceil_mode")) return pads;
        TensorType x = op.operand(0).tensorType(), y = op.result().tensorType();
        for (int i = 0; i < 2; i++) {
            Dim in = x.shape().dim(2 + i), out = y.shape().dim(2 + i);
            if (!in.isStatic() || !out.isStatic()) {
                throw NetWriter.error(op, "ceil_mode=true needs static H and W to become Caffe2 pads, but the input is " + x);
            }
            long end = (out.size() - 1) * s[i] - p[i] + k[i];
            pads[2 + i] = Math.max(p[i], end - in.size());
            if (countPad && end > in.size() + p[i]) {
                throw NetWriter.error(op, "ceil_mode=true with count_include_pad=true and padding " + Arrays.toString(p)
                        + " gives a last window overhanging the padding of " + x + ", which Caffe2's count_include_pad divides"
                        + " by the whole kernel while Kiln divides by the part inside the padded input; set count_include_pad=false");
            }
        }
        return pads;
    }

    /** adaptive_avg_pool2d to [1, 1] is global average pooling; other output sizes have no Caffe2 form. */
    static void adaptiveAvgPool2d(Op op, NetWriter w) {
        NetWriter.requireDType(op, 0, "AveragePool", F32);
        long[] size = op.intsAttr("output_size");
        if (size[0] != 1 || size[1] != 1) {
            throw NetWriter.error(op, "output_size " + Arrays.toString(size) + " has no Caffe2 form; only [1, 1] (global_pooling) does");
        }
        w.op("AveragePool", List.of(w.ref(op.operand(0))), List.of(w.define(op.result())))
                .addArg(Args.i("global_pooling", 1)).addArg(Args.s("order", "NCHW"));
    }
}
