package dev.kiln.onnx;

import dev.kiln.ir.Op;
import dev.kiln.ir.TensorType;

import java.util.ArrayList;
import java.util.List;

/** matmul, linear, conv2d, conv_transpose2d, softmax and log_softmax. */
final class NnLowering {

    private NnLowering() {}

    /** NumPy matmul is exactly ONNX MatMul (1-D promotion and batch broadcasting included). */
    static void matmul(Op op, Emitter e) {
        e.node("MatMul", List.of(e.ref(op.operand(0)), e.ref(op.operand(1))), List.of(e.define(op.result())));
    }

    /**
     * {@code x @ weight^T + bias}: Gemm(transB=1) for 2-D x; otherwise MatMul with a Transpose of
     * the weight (Gemm takes only 2-D inputs), then Add of the bias.
     */
    static void linear(Op op, Emitter e) { linear(op, e, e.define(op.result())); }

    /** {@link #linear} writing its result to {@code out} (fused ops apply their activation after it). */
    static void linear(Op op, Emitter e, String out) {
        String x = e.ref(op.operand(0)), w = e.ref(op.operand(1));
        String bias = op.operandCount() == 3 ? e.ref(op.operand(2)) : null;
        if (op.operand(0).tensorType().rank() == 2) {
            List<String> in = new ArrayList<>(List.of(x, w));
            if (bias != null) in.add(bias);
            e.node("Gemm", in, List.of(out)).addAttribute(Attrs.i("transB", 1));
            return;
        }
        String wt = e.temp(w + "_t");
        e.node("Transpose", List.of(w), List.of(wt)).addAttribute(Attrs.ints("perm", 1, 0));
        if (bias == null) {
            e.node("MatMul", List.of(x, wt), List.of(out));
        } else {
            String product = e.temp("linear_mm");
            e.node("MatMul", List.of(x, wt), List.of(product));
            e.node("Add", List.of(product, bias), List.of(out));
        }
    }

    /** PyTorch conv2d and ONNX Conv agree; symmetric padding (pH, pW) becomes pads [pH, pW, pH, pW]. */
    static void conv2d(Op op, Emitter e) { conv2d(op, e, op.operandCount(), e.define(op.result())); }

    /** {@link #conv2d} of the op's first {@code operands} operands (x, weight, bias?), writing to {@code out}. */
    static void conv2d(Op op, Emitter e, int operands, String out) {
        TensorType w = op.operand(1).tensorType();
        long[] pad = op.intsAttr("padding");
        List<String> in = new ArrayList<>();
        for (int i = 0; i < operands; i++) in.add(e.ref(op.operand(i)));
        e.node("Conv", in, List.of(out))
                .addAttribute(Attrs.ints("kernel_shape", w.shape().dim(2).size(), w.shape().dim(3).size()))
                .addAttribute(Attrs.ints("pads", pad[0], pad[1], pad[0], pad[1]))
                .addAttribute(Attrs.ints("strides", op.intsAttr("stride")))
                .addAttribute(Attrs.ints("dilations", op.intsAttr("dilation")))
                .addAttribute(Attrs.i("group", op.intAttr("groups")));
    }

    /**
     * PyTorch conv_transpose2d and ONNX ConvTranspose agree when no output_shape is given: weight
     * [C, O/groups, kH, kW], pads [pH, pW, pH, pW] and output_padding added at the end of each dim.
     */
    static void convTranspose2d(Op op, Emitter e) {
        TensorType w = op.operand(1).tensorType();
        long[] pad = op.intsAttr("padding");
        List<String> in = new ArrayList<>();
        for (var v : op.operands()) in.add(e.ref(v));
        e.node("ConvTranspose", in, List.of(e.define(op.result())))
                .addAttribute(Attrs.ints("kernel_shape", w.shape().dim(2).size(), w.shape().dim(3).size()))
                .addAttribute(Attrs.ints("pads", pad[0], pad[1], pad[0], pad[1]))
                .addAttribute(Attrs.ints("strides", op.intsAttr("stride")))
                .addAttribute(Attrs.ints("dilations", op.intsAttr("dilation")))
                .addAttribute(Attrs.ints("output_padding", op.intsAttr("output_padding")))
                .addAttribute(Attrs.i("group", op.intAttr("groups")));
    }

    /**
     * Softmax/LogSoftmax over one axis: from opset 13 ONNX normalises along {@code axis} alone, as
     * PyTorch does. A 0-d input (Kiln allows it, as PyTorch) goes through a Reshape to [1] and back.
     */
    static Lowering softmax(String onnxOp) {
        return (op, e) -> {
            int rank = op.operand(0).tensorType().rank();
            String x = e.ref(op.operand(0));
            if (rank == 0) {
                String y = e.helper(onnxOp, "softmax_1d", e.helper("Reshape", x + "_1d", x, e.int64s("shape", 1)));
                e.node("Reshape", List.of(y, e.int64s("scalar_shape")), List.of(e.define(op.result())));
                return;
            }
            long axis = op.intAttr("axis");
            e.node(onnxOp, List.of(x), List.of(e.define(op.result())))
                    .addAttribute(Attrs.i("axis", axis < 0 ? axis + rank : axis));
        };
    }
}
