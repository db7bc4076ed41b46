package dev.kiln.ir;

import dev.kiln.ir.IrLexer.Kind;
import dev.kiln.ir.IrLexer.Token;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.function.BiFunction;

/**
 * Encodes the element tokens of a {@code dense<...>} literal as little-endian bytes of a dtype.
 * Floats are parsed at their own precision ({@link Float#parseFloat} for f32/f16/bf16), so printed
 * values read back bit-exactly; integers are range-checked for the dtype. Storage-only floats round as
 * ONNX's Cast does by default ({@link LowPrecision#encodeLiteral}); printed values are exact, so they read back too.
 */
final class TensorLiteral {

    private TensorLiteral() {}

    static byte[] encode(DType dtype, List<Token> elems, BiFunction<Token, String, ParseException> error) {
        ByteBuffer b = ByteBuffer.allocate(elems.size() * dtype.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        for (Token e : elems) {
            switch (dtype) {
                case F32 -> b.putFloat(floatValue(e, dtype, error));
                case F16 -> b.putShort(Float.floatToFloat16(floatValue(e, dtype, error)));
                case BF16 -> b.putShort(Attribute.Tensor.bf16Bits(floatValue(e, dtype, error)));
                case F64 -> b.putDouble(doubleValue(e, error));
                case I64 -> b.putLong(intValue(e, dtype, Long.MIN_VALUE, Long.MAX_VALUE, error));
                case I32 -> b.putInt((int) intValue(e, dtype, Integer.MIN_VALUE, Integer.MAX_VALUE, error));
                case I16 -> b.putShort((short) intValue(e, dtype, Short.MIN_VALUE, Short.MAX_VALUE, error));
                case I8 -> b.put((byte) intValue(e, dtype, Byte.MIN_VALUE, Byte.MAX_VALUE, error));
                case U8 -> b.put((byte) intValue(e, dtype, 0, 255, error));
                case U16 -> b.putShort((short) intValue(e, dtype, 0, 0xFFFF, error));
                case U32 -> b.putInt((int) intValue(e, dtype, 0, 0xFFFFFFFFL, error));
                case U64 -> b.putLong(unsignedValue(e, error));
                case F8E4M3FN, F8E4M3FNUZ, F8E5M2, F8E5M2FNUZ, F4E2M1, F8E8M0 ->
                        b.put(LowPrecision.encodeLiteral(dtype, Double.parseDouble(numberText(e, dtype, error))));
                case I4 -> b.put((byte) intValue(e, dtype, -8, 7, error));
                case U4 -> b.put((byte) intValue(e, dtype, 0, 15, error));
                case I2 -> b.put((byte) intValue(e, dtype, -2, 1, error));
                case U2 -> b.put((byte) intValue(e, dtype, 0, 3, error));
                case BOOL -> {
                    if (e.is(Kind.IDENT, "true")) b.put((byte) 1);
                    else if (e.is(Kind.IDENT, "false")) b.put((byte) 0);
                    else throw error.apply(e, "expected true or false in a bool tensor but found " + e.describe());
                }
            }
        }
        return b.array();
    }

    private static String numberText(Token e, DType dtype, BiFunction<Token, String, ParseException> error) {
        boolean special = e.kind() == Kind.IDENT && (e.text().equals("nan") || e.text().equals("inf"));
        if (e.kind() != Kind.INT && e.kind() != Kind.FLOAT && !special) {
            throw error.apply(e, "expected a number in a " + dtype + " tensor but found " + e.describe());
        }
        return switch (e.text()) {
            case "nan" -> "NaN";
            case "inf" -> "Infinity";
            case "-inf" -> "-Infinity";
            default -> e.text();
        };
    }

    private static float floatValue(Token e, DType dtype, BiFunction<Token, String, ParseException> error) {
        return Float.parseFloat(numberText(e, dtype, error));
    }

    private static double doubleValue(Token e, BiFunction<Token, String, ParseException> error) {
        return Double.parseDouble(numberText(e, DType.F64, error));
    }

    /** A u64 literal, 0..2^64-1, as its two's-complement bits. */
    private static long unsignedValue(Token e, BiFunction<Token, String, ParseException> error) {
        if (e.kind() != Kind.INT) throw error.apply(e, "expected an integer in a u64 tensor but found " + e.describe());
        try {
            return Long.parseUnsignedLong(e.text());
        } catch (NumberFormatException ex) {
            throw error.apply(e, "element " + e.text() + " is out of range for u64 [0, 18446744073709551615]");
        }
    }

    private static long intValue(Token e, DType dtype, long min, long max, BiFunction<Token, String, ParseException> error) {
        if (e.kind() != Kind.INT) throw error.apply(e, "expected an integer in a " + dtype + " tensor but found " + e.describe());
        long v;
        try {
            v = Long.parseLong(e.text());
        } catch (NumberFormatException ex) {
            throw error.apply(e, "integer " + e.text() + " does not fit in 64 bits");
        }
        if (v < min || v > max) throw error.apply(e, "element " + v + " is out of range for " + dtype + " [" + min + ", " + max + "]");
        return v;
    }
}
