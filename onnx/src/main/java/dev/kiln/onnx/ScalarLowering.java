package dev.kiln.onnx;

import com.google.protobuf.ByteString;
import dev.kiln.ir.Attribute;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.ScalarType;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * The host-scalar ops ({@code scalar_*}, {@code tensor_from_scalar}). Host scalars are 0-d int64,
 * double and bool tensors in ONNX. Java's conversions, which ONNX Cast leaves undefined for NaN and
 * out-of-range values, are written as exact formulas: {@code d2i}/{@code d2l} as NaN to 0, Clip, Cast
 * (and the 2^63 edge); {@code l2i} as Mod 2^32 and a shift into the signed range. Integer
 * {@code scalar_div} is refused: ONNX leaves division by zero and {@code MIN / -1} undefined, where
 * Java throws and wraps.
 */
final class ScalarLowering {

    private ScalarLowering() {}

    /** A node with one output: the op's result. */
    static Lowering simple(String onnxOp) {
        return (op, e) -> {
            List<String> in = op.operands().stream().map(e::ref).toList();
            e.node(onnxOp, in, List.of(e.define(op.result())));
        };
    }

    static void div(Op op, Emitter e) {
        if (op.operand(0).type() == ScalarType.INT) {
            throw Emitter.error(op, "integer division has no exact ONNX form (Java throws on division by zero and wraps MIN / -1; "
                    + "ONNX leaves both undefined)");
        }
        simple("Div").lower(op, e);
    }

    static void notEqual(Op op, Emitter e) {
        String eq = e.helper("Equal", "eq", e.ref(op.operand(0)), e.ref(op.operand(1)));
        e.node("Not", List.of(eq), List.of(e.define(op.result())));
    }

    static void cast(Op op, Emitter e) {
        ScalarType from = (ScalarType) op.operand(0).type();
        String to = ((Attribute.Str) op.attr("to")).value();
        String x = e.ref(op.operand(0));
        String out = e.define(op.result());
        switch (to) {
            case "float" -> castOrCopy(e, x, from, DType.F64, out);
            case "bool" -> castOrCopy(e, x, from, DType.BOOL, out);
            case "int" -> {
                if (from == ScalarType.FLOAT) {
                    // d2l: NaN -> 0; >= 2^63 -> MAX; else clip to [-2^63, nextDown(2^63)] and truncate.
                    String x0 = notNaN(e, x);
                    String clipped = e.helper("Clip", "clip", x0, f64(e, -0x1p63), f64(e, Math.nextDown(0x1p63)));
                    String r = e.temp("d2l");
                    e.cast(clipped, DType.I64, r);
                    String big = e.helper("GreaterOrEqual", "big", x0, f64(e, 0x1p63));
                    e.node("Where", List.of(big, i64(e, Long.MAX_VALUE), r), List.of(out));
                } else {
                    castOrCopy(e, x, from, DType.I64, out);
                }
            }
            case "int32" -> {
                if (from == ScalarType.FLOAT) {
                    // d2i: NaN -> 0, clip to the int range (both ends exact in double), truncate.
                    String clipped = e.helper("Clip", "clip", notNaN(e, x), f64(e, Integer.MIN_VALUE), f64(e, Integer.MAX_VALUE));
                    e.cast(clipped, DType.I64, out);
                } else if (from == ScalarType.INT) {
                    // l2i: m = x mod 2^32 in [0, 2^32) (Mod with fmod=0 takes the divisor's sign); m >= 2^31 ? m - 2^32 : m.
                    String m = e.temp("mod");
                    e.node("Mod", List.of(x, i64(e, 1L << 32)), List.of(m)).addAttribute(Attrs.i("fmod", 0));
                    String high = e.helper("GreaterOrEqual", "high", m, i64(e, 1L << 31));
                    String shifted = e.helper("Sub", "shifted", m, i64(e, 1L << 32));
                    e.node("Where", List.of(high, shifted, m), List.of(out));
                } else {
                    e.cast(x, DType.I64, out);
                }
            }
            default -> throw Emitter.error(op, "unknown target '" + to + "'");
        }
    }

    private static void castOrCopy(Emitter e, String x, ScalarType from, DType to, String out) {
        if (from.elementType() == to) e.node("Identity", List.of(x), List.of(out));
        else e.cast(x, to, out);
    }

    private static String notNaN(Emitter e, String x) {
        String nan = e.helper("IsNaN", "nan", x);
        return e.helper("Where", "not_nan", nan, f64(e, 0.0), x);
    }

    private static String f64(Emitter e, double v) {
        return e.constant(scalar(DType.F64, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(v)), "c");
    }

    private static String i64(Emitter e, long v) {
        return e.constant(scalar(DType.I64, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v)), "c");
    }

    private static dev.kiln.onnx.proto.OnnxProtos.TensorProto scalar(DType dtype, ByteBuffer bytes) {
        return OnnxTypes.tensor(null, new TensorType(dtype, Shape.SCALAR), ByteString.copyFrom(bytes.array()));
    }
}
