package dev.kiln.onnx;

import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.onnx.proto.OnnxProtos.NodeProto;

import java.util.List;
import java.util.Set;

/**
 * Elementwise ops: one ONNX node each, NumPy broadcasting being the same on both sides. Integer
 * division truncates toward zero in Kiln and in ONNX alike.
 */
final class ElementwiseLowering {

    private ElementwiseLowering() {}

    /** Add-13/Sub-13/Mul-13/Div-13 lack these types; the -14 versions have them. */
    private static final Set<DType> SMALL_INTS = Set.of(DType.I8, DType.I16, DType.U8);

    static Lowering arithmetic(String onnxOp) {
        return (op, e) -> {
            requireOpset14ForSmallInts(op, e, onnxOp);
            e.node(onnxOp, List.of(e.ref(op.operand(0)), e.ref(op.operand(1))), List.of(e.define(op.result())));
        };
    }

    /** A binary ONNX op that takes every numeric type at opset 13 (Max, Min, Pow). */
    static Lowering binary(String onnxOp) {
        return (op, e) -> e.node(onnxOp, List.of(e.ref(op.operand(0)), e.ref(op.operand(1))), List.of(e.define(op.result())));
    }

    static Lowering unary(String onnxOp) {
        return (op, e) -> e.node(onnxOp, List.of(e.ref(op.operand(0))), List.of(e.define(op.result())));
    }

    /** Neg; ONNX Neg has no uint8, so a u8 negation (wrapping, as in Kiln) is {@code 0 - x}. */
    static void neg(Op op, Emitter e) {
        DType dtype = op.operand(0).tensorType().dtype();
        String x = e.ref(op.operand(0));
        if (dtype == DType.U8) {
            requireOpset14ForSmallInts(op, e, "Sub");
            String zero = e.constant(OnnxTypes.zero(dtype), "zero");
            e.node("Sub", List.of(zero, x), List.of(e.define(op.result())));
        } else {
            e.node("Neg", List.of(x), List.of(e.define(op.result())));
        }
    }

    /** Relu; integer Relu only exists from opset 14 (and never for uint8), so otherwise {@code Max(x, 0)}. */
    static void relu(Op op, Emitter e) {
        DType dtype = op.operand(0).tensorType().dtype();
        String x = e.ref(op.operand(0));
        if (dtype == DType.U8) {
            e.node("Identity", List.of(x), List.of(e.define(op.result())));
        } else if (dtype.isFloatingPoint() || e.opset() >= 14) {
            e.node("Relu", List.of(x), List.of(e.define(op.result())));
        } else {
            String zero = e.constant(OnnxTypes.zero(dtype), "zero");
            e.node("Max", List.of(x, zero), List.of(e.define(op.result())));
        }
    }

    /** ne as {@code Not(Equal(a, b))}. */
    static void notEqual(Op op, Emitter e) {
        String eq = e.temp(e.ref(op.operand(0)) + "_eq");
        e.node("Equal", List.of(e.ref(op.operand(0)), e.ref(op.operand(1))), List.of(eq));
        e.node("Not", List.of(eq), List.of(e.define(op.result())));
    }

    /** where(cond, a, b) as ONNX Where, which broadcasts the same way. */
    static void where(Op op, Emitter e) {
        e.node("Where", List.of(e.ref(op.operand(0)), e.ref(op.operand(1)), e.ref(op.operand(2))), List.of(e.define(op.result())));
    }

    /** cast as ONNX Cast to the target dtype (floats to ints truncate toward zero in both). */
    static void cast(Op op, Emitter e) {
        DType to = op.result().tensorType().dtype();
        NodeProto.Builder n = e.node("Cast", List.of(e.ref(op.operand(0))), List.of(e.define(op.result())));
        n.addAttribute(Attrs.i("to", OnnxTypes.elemType(to).getNumber()));
        OnnxTypes.castAttributes(op, e.opset()).forEach(n::addAttribute);
    }

    /** Greater/Less/Equal; Greater and Less take no bool, so bool operands are compared as uint8. */
    static Lowering compare(String onnxOp) {
        return (op, e) -> {
            String a = e.ref(op.operand(0)), b = e.ref(op.operand(1));
            if (!onnxOp.equals("Equal") && op.operand(0).tensorType().dtype() == DType.BOOL) {
                String a8 = e.temp(a + "_u8"), b8 = e.temp(b + "_u8");
                e.cast(a, DType.U8, a8);
                e.cast(b, DType.U8, b8);
                a = a8;
                b = b8;
            }
            e.node(onnxOp, List.of(a, b), List.of(e.define(op.result())));
        };
    }

    private static void requireOpset14ForSmallInts(Op op, Emitter e, String onnxOp) {
        DType dtype = op.operand(0).tensorType().dtype();
        if (e.opset() < 14 && SMALL_INTS.contains(dtype)) {
            throw Emitter.error(op, "ONNX " + onnxOp + " supports " + dtype + " tensors only from opset 14; export with opset 14 or later");
        }
    }
}
