package dev.kiln.ir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.StringJoiner;

/**
 * Text form of attribute values: ints {@code 3}, floats that always show a '.' or exponent (or
 * {@code nan}, {@code inf}, {@code -inf}), {@code true}/{@code false}, quoted strings, lists
 * {@code [1, 2]}, bare dtypes and {@code dense<f32[2]: [1.0, 2.5]>} tensors whose elements
 * round-trip exactly.
 */
final class AttrText {

    private AttrText() {}

    static String format(Attribute a) {
        return switch (a) {
            case Attribute.Int i -> Long.toString(i.value());
            case Attribute.Float f -> formatDouble(f.value());
            case Attribute.Bool b -> Boolean.toString(b.value());
            case Attribute.Str s -> quote(s.value());
            case Attribute.Ints l -> {
                StringJoiner j = new StringJoiner(", ", "[", "]");
                for (long v : l.values()) j.add(Long.toString(v));
                yield j.toString();
            }
            case Attribute.Floats l -> {
                StringJoiner j = new StringJoiner(", ", "[", "]");
                for (double v : l.values()) j.add(formatDouble(v));
                yield j.toString();
            }
            case Attribute.Dims d -> d.toString();
            case Attribute.DTypeAttr d -> d.value().irName();
            case Attribute.Tensor t -> formatTensor(t);
        };
    }

    /** Double.toString, except the non-finite values, which print as nan, inf and -inf. */
    static String formatDouble(double v) {
        if (Double.isNaN(v)) return "nan";
        if (Double.isInfinite(v)) return v > 0 ? "inf" : "-inf";
        return Double.toString(v);
    }

    /** Float.toString (the shortest text that reads back as the same float), non-finite as for doubles. */
    static String formatFloat(float v) {
        if (Float.isNaN(v)) return "nan";
        if (Float.isInfinite(v)) return v > 0 ? "inf" : "-inf";
        return Float.toString(v);
    }

    private static String formatTensor(Attribute.Tensor t) {
        ByteBuffer b = ByteBuffer.wrap(t.data()).order(ByteOrder.LITTLE_ENDIAN);
        StringBuilder sb = new StringBuilder("dense<").append(t.type()).append(": [");
        int size = t.type().dtype().byteSize();
        for (long i = 0; i < t.numel(); i++) {
            if (i > 0) sb.append(", ");
            int at = Math.toIntExact(i * size);
            sb.append(switch (t.type().dtype()) {
                case F32 -> formatFloat(b.getFloat(at));
                case F64 -> formatDouble(b.getDouble(at));
                case F16 -> formatFloat(Float.float16ToFloat(b.getShort(at)));
                case BF16 -> formatFloat(Float.intBitsToFloat((b.getShort(at) & 0xffff) << 16));
                case I64 -> Long.toString(b.getLong(at));
                case I32 -> Integer.toString(b.getInt(at));
                case I16 -> Short.toString(b.getShort(at));
                case I8 -> Byte.toString(b.get(at));
                case U8 -> Integer.toString(b.get(at) & 0xff);
                case U16 -> Integer.toString(b.getShort(at) & 0xffff);
                case U32 -> Long.toString(b.getInt(at) & 0xffffffffL);
                case U64 -> Long.toUnsignedString(b.getLong(at));
                case BOOL -> Boolean.toString(b.get(at) != 0);
                case F8E4M3FN, F8E4M3FNUZ, F8E5M2, F8E5M2FNUZ, F4E2M1, F8E8M0 ->
                        formatFloat((float) LowPrecision.decode(t.type().dtype(), b.get(at)));
                case I4, U4, I2, U2 -> Long.toString((long) LowPrecision.decode(t.type().dtype(), b.get(at)));
            });
        }
        return sb.append("]>").toString();
    }

    /** A double-quoted string with backslash escapes for quotes, backslashes and control characters. */
    static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                case '\r' -> sb.append("\\r");
                default -> {
                    if (c < 0x20 || c == 0x7f) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        return sb.append('"').toString();
    }
}
