package dev.kiln.onnx;

import com.google.protobuf.ByteString;
import dev.kiln.ir.Attribute;
import dev.kiln.ir.Block;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;
import dev.kiln.onnx.proto.OnnxProtos.AttributeProto;
import dev.kiln.onnx.proto.OnnxProtos.AttributeProto.AttributeType;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * The ops fusion passes produce ({@code dev.kiln.ir.FusionOps}), written back as the standard ONNX ops they fuse, so
 * an O2-optimised graph exports like the unoptimised one (ONNX Runtime fuses them again on its side):
 * {@code linear_act} is Gemm (2-D input) or Transpose + MatMul (+ Add), then the activation; {@code conv2d_act} is
 * Conv, then Add of its residual if it has one, then the activation; {@code fused_elementwise} is its region's ops inlined, each through its own
 * {@link OnnxOpTable} entry (a trailing reduction included); {@code bias_gelu} is Add then gelu; and
 * {@code skip_layer_norm} is Add(s) then LayerNormalization; {@code attention} is Transpose, MatMul, Mul by the scale,
 * Where/Add for the causal and mask operands, Softmax and MatMul. Gelu is the Gelu op from opset 20 and its erf or tanh
 * formula before; LayerNormalization needs opset 17, below which it is written out with ReduceMean.
 */
final class FusionLowering {

    private FusionLowering() {}

    /** {@code act(x @ w^T + b)}: the linear's nodes ({@link NnLowering#linear}), then the activation. */
    static void linearAct(Op op, Emitter e) {
        String out = e.define(op.result());
        String act = activation(op);
        String pre = act.equals("none") ? out : e.temp(out + "_linear");
        NnLowering.linear(op, e, pre);
        activate(op, e, act, pre, out);
    }

    /**
     * {@code act(conv2d(x, w, b?) [+ residual])}: Conv ({@link NnLowering#conv2d}), then Add of the residual when
     * there is one, then the activation.
     */
    static void conv2dAct(Op op, Emitter e) {
        String out = e.define(op.result());
        String act = activation(op);
        boolean residual = ((Attribute.Bool) op.attr("residual")).value();
        String pre = act.equals("none") ? out : e.temp(out + "_conv");
        String conv = residual ? e.temp(out + "_conv_only") : pre;
        NnLowering.conv2d(op, e, residual ? op.operandCount() - 1 : op.operandCount(), conv);
        if (residual) e.node("Add", List.of(conv, e.ref(op.operand(op.operandCount() - 1))), List.of(pre));
        activate(op, e, act, pre, out);
    }

    /**
     * The region's ops inlined: its arguments are the operands' ONNX values, each op goes through its own table
     * entry, and the yielded value is written under the fused result's name.
     */
    static void fusedElementwise(Op op, Emitter e) {
        Block body = op.region(0);
        for (int i = 0; i < op.operandCount(); i++) e.bind(body.argument(i), e.ref(op.operand(i)));
        Op yield = body.terminator();
        Value yielded = yield.operand(0);
        String out = e.define(op.result());
        boolean computed = yielded.kind() == Value.Kind.OP_RESULT && yielded.definingOp().parent() == body;
        if (computed) e.preassign(yielded, out);
        for (Op inner : body.ops()) {
            if (inner == yield) break;
            try {
                OnnxOpTable.lowering(inner.name()).lower(inner, e);
            } catch (OnnxExportException ex) {
                throw Emitter.error(op, "cannot export region op " + inner.name() + ": " + ex.getMessage());
            }
        }
        if (!computed) e.node("Identity", List.of(e.ref(yielded)), List.of(out));
    }

    /** {@code gelu(x + bias)}: Add, then Gelu (opset 20+) or its formula. */
    static void biasGelu(Op op, Emitter e) {
        String sum = e.helper("Add", "bias_gelu_sum", e.ref(op.operand(0)), e.ref(op.operand(1)));
        String approximate = ((Attribute.Str) op.attr("approximate")).value();
        gelu(op, e, sum, e.define(op.result()), approximate.equals("tanh"));
    }

    /**
     * {@code s = (x + bias) + skip}, then LayerNormalization over the last axis (opset 17+; ReduceMean, Sub, Sqrt,
     * Div before). With {@code with_sum}, {@code s} is the second result.
     */
    static void skipLayerNorm(Op op, Emitter e) {
        String out = e.define(op.results().get(0));
        boolean withSum = op.boolAttr("with_sum");
        String v = e.ref(op.operand(0));
        if (op.operandCount() == 5) v = e.helper("Add", "skip_ln_biased", v, e.ref(op.operand(4)));
        String sum = withSum ? e.define(op.results().get(1)) : e.temp("skip_ln_sum");
        e.node("Add", List.of(v, e.ref(op.operand(1))), List.of(sum));
        String gamma = e.ref(op.operand(2)), beta = e.ref(op.operand(3));
        double eps = op.floatAttr("eps");
        if (e.opset() >= 17) {
            e.node("LayerNormalization", List.of(sum, gamma, beta), List.of(out)).addAttribute(Attrs.i("axis", -1))
                    .addAttribute(AttributeProto.newBuilder().setName("epsilon").setType(AttributeType.FLOAT).setF((float) eps).build());
            return;
        }
        DType dtype = op.operand(0).tensorType().dtype();
        String mean = e.temp("skip_ln_mean");
        e.node("ReduceMean", List.of(sum), List.of(mean)).addAttribute(Attrs.ints("axes", -1)).addAttribute(Attrs.i("keepdims", 1));
        String centred = e.helper("Sub", "skip_ln_centred", sum, mean);
        String var = e.temp("skip_ln_var");
        e.node("ReduceMean", List.of(e.helper("Mul", "skip_ln_sq", centred, centred)), List.of(var))
                .addAttribute(Attrs.ints("axes", -1)).addAttribute(Attrs.i("keepdims", 1));
        String std = e.helper("Sqrt", "skip_ln_std", e.helper("Add", "skip_ln_var_eps", var, scalar(e, dtype, eps)));
        String scaled = e.helper("Mul", "skip_ln_scaled", e.helper("Div", "skip_ln_normed", centred, std), gamma);
        e.node("Add", List.of(scaled, beta), List.of(out));
    }

    /**
     * {@code softmax(q k^T * scale, masked) v}: Transpose of k over its last two axes, MatMul, Mul by the scale, then
     * Where with a constant lower-triangular mask when causal (static L and S), Where with the bool mask or Add of the
     * float one, Softmax over the last axis and MatMul with v.
     */
    static void attention(Op op, Emitter e) {
        TensorType q = op.operand(0).tensorType(), k = op.operand(1).tensorType();
        int rank = q.rank();
        DType dtype = q.dtype();
        long[] perm = new long[rank];
        for (int i = 0; i < rank; i++) perm[i] = i;
        perm[rank - 2] = rank - 1;
        perm[rank - 1] = rank - 2;
        String kT = e.temp("attention_kT");
        e.node("Transpose", List.of(e.ref(op.operand(1))), List.of(kT)).addAttribute(Attrs.ints("perm", perm));
        String scores = e.helper("MatMul", "attention_qk", e.ref(op.operand(0)), kT);
        scores = e.helper("Mul", "attention_scaled", scores, scalar(e, dtype, op.floatAttr("scale")));
        String minusInf = op.boolAttr("causal") || op.operandCount() > 3 ? scalar(e, dtype, Double.NEGATIVE_INFINITY) : null;
        if (op.boolAttr("causal")) {
            if (!q.shape().dim(rank - 2).isStatic() || !k.shape().dim(rank - 2).isStatic()) {
                throw Emitter.error(op, "a causal attention exports with static query and key counts only, got q " + q + " and k " + k);
            }
            long l = q.shape().dim(rank - 2).size(), s = k.shape().dim(rank - 2).size();
            if (l * s > Integer.MAX_VALUE) throw Emitter.error(op, "causal mask of " + l + " x " + s + " is too large to export as a constant");
            byte[] allowed = new byte[(int) (l * s)];
            for (long i = 0; i < l; i++) for (long j = 0; j <= Math.min(i, s - 1); j++) allowed[(int) (i * s + j)] = 1;
            String tril = e.constant(OnnxTypes.tensor(null, new TensorType(DType.BOOL, Shape.of(l, s)), ByteString.copyFrom(allowed)), "causal");
            scores = e.helper("Where", "attention_causal", tril, scores, minusInf);
        }
        if (op.operandCount() > 3) {
            boolean bool = op.operand(3).tensorType().dtype() == DType.BOOL;
            scores = bool ? e.helper("Where", "attention_masked", e.ref(op.operand(3)), scores, minusInf)
                    : e.helper("Add", "attention_masked", scores, e.ref(op.operand(3)));
        }
        String probs = e.temp("attention_probs");
        e.node("Softmax", List.of(scores), List.of(probs)).addAttribute(Attrs.i("axis", -1));
        e.node("MatMul", List.of(probs, e.ref(op.operand(2))), List.of(e.define(op.result())));
    }

    private static String activation(Op op) { return ((Attribute.Str) op.attr("activation")).value(); }

    /** Writes {@code act(in)} to {@code out}; nothing for {@code none} (then {@code in} is {@code out}). */
    private static void activate(Op op, Emitter e, String act, String in, String out) {
        switch (act) {
            case "none" -> { }
            case "relu" -> e.node("Relu", List.of(in), List.of(out));
            case "sigmoid" -> e.node("Sigmoid", List.of(in), List.of(out));
            case "tanh" -> e.node("Tanh", List.of(in), List.of(out));
            case "gelu" -> gelu(op, e, in, out, false);
            case "gelu_tanh" -> gelu(op, e, in, out, true);
            default -> throw Emitter.error(op, "activation '" + act + "' has no ONNX lowering");
        }
    }

    /**
     * Writes gelu of {@code x} (of {@code op}'s result dtype) to {@code out}: Gelu-20 from opset 20; before it
     * {@code 0.5 x (1 + erf(x / sqrt 2))}, or with {@code tanh} {@code 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))}.
     * Also meant for the plain {@code gelu} op's lowering.
     */
    static void gelu(Op op, Emitter e, String x, String out, boolean tanh) {
        if (e.opset() >= 20) {
            e.node("Gelu", List.of(x), List.of(out)).addAttribute(Attrs.s("approximate", tanh ? "tanh" : "none"));
            return;
        }
        DType dtype = op.result().tensorType().dtype();
        String phi;
        if (tanh) {
            String cube = e.helper("Mul", "gelu_cube", e.helper("Mul", "gelu_sq", x, x), x);
            String inner = e.helper("Add", "gelu_inner", x, e.helper("Mul", "gelu_cubic", cube, scalar(e, dtype, 0.044715)));
            phi = e.helper("Tanh", "gelu_tanh", e.helper("Mul", "gelu_scaled", inner, scalar(e, dtype, Math.sqrt(2 / Math.PI))));
        } else {
            phi = e.helper("Erf", "gelu_erf", e.helper("Mul", "gelu_scaled", x, scalar(e, dtype, Math.sqrt(0.5))));
        }
        String half = e.helper("Mul", "gelu_half_x", x, scalar(e, dtype, 0.5));
        e.node("Mul", List.of(half, e.helper("Add", "gelu_one_plus", phi, scalar(e, dtype, 1.0))), List.of(out));
    }

    /** A Constant node holding a 0-d floating-point tensor of {@code dtype}. */
    private static String scalar(Emitter e, DType dtype, double value) {
        ByteBuffer b = ByteBuffer.allocate(dtype.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        switch (dtype) {
            case F32 -> b.putFloat((float) value);
            case F64 -> b.putDouble(value);
            case F16 -> b.putShort(Float.floatToFloat16((float) value));
            case BF16 -> {
                int bits = Float.floatToIntBits((float) value);
                b.putShort((short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16));
            }
            default -> throw new IllegalArgumentException("not a floating-point dtype: " + dtype);
        }
        return e.constant(OnnxTypes.tensor(null, new TensorType(dtype, Shape.SCALAR), ByteString.copyFrom(b.array())), "c");
    }
}
