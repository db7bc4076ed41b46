package dev.kiln.ir;

import java.util.Locale;

/**
 * Encoding and decoding of the storage-only dtypes ({@link DType#isStorageOnly()}), with ONNX Cast semantics.
 * A value is held in one byte as described on {@link DType}; these methods convert between that byte and a
 * double.
 *
 * <ul>
 *   <li>Floats round to nearest, ties to even. With {@code saturate}, values beyond the largest finite value
 *       (infinities included) become ±max; without it they become infinity where the format has one
 *       ({@code f8e5m2}) and NaN otherwise. NaN stays NaN. The FNUZ formats have no -0: a result of zero is +0.
 *   <li>{@code f4e2m1} has neither infinity nor NaN: it always saturates, and NaN becomes {@code 0x8} (its
 *       "-0" pattern), as ONNX's reference does.
 *   <li>{@code f8e8m0} is computed from the value as an f32, as ONNX does: only the f32 exponent is kept
 *       (sign dropped; zero is the smallest code 2^-127), rounding by {@link RoundMode}; NaN and infinities
 *       become NaN ({@code 0xFF}); {@code saturate} keeps a rounding from reaching NaN.
 *   <li>Integers ({@code i4}, {@code u4}, {@code i2}, {@code u2}) wrap around like a C cast to the narrow
 *       width; floats truncate toward zero first.
 * </ul>
 */
public final class LowPrecision {

    private LowPrecision() {}

    /** How a value between two powers of two rounds when cast to {@code f8e8m0} (ONNX Cast {@code round_mode}). */
    public enum RoundMode {
        /** To the larger power of two (the ONNX default). */
        UP,
        /** To the smaller power of two (the f32 exponent, unchanged). */
        DOWN,
        /** To the nearer power of two, ties up (ONNX's definition on the f32 mantissa bits). */
        NEAREST;

        /** The mode named {@code up}, {@code down} or {@code nearest}; anything else is an error listing those. */
        public static RoundMode of(String name) {
            return switch (name) {
                case "up" -> UP;
                case "down" -> DOWN;
                case "nearest" -> NEAREST;
                default -> throw new IllegalArgumentException("round_mode must be one of [up, down, nearest], got '" + name + "'");
            };
        }

        /** The ONNX name of the mode. */
        public String onnxName() { return name().toLowerCase(Locale.ROOT); }
    }

    /** Layout of a small float format: exponent and mantissa widths, bias, largest finite code, special codes. */
    private record Format(int expBits, int mantBits, int bias, double max, boolean hasInf, boolean unsignedZero,
                          boolean hasNaN) {
        /** Smallest normal exponent, 1 - bias. */
        int minExp() { return 1 - bias; }
    }

    private static final Format E4M3FN = new Format(4, 3, 7, 448.0, false, false, true);
    private static final Format E4M3FNUZ = new Format(4, 3, 8, 240.0, false, true, true);
    private static final Format E5M2 = new Format(5, 2, 15, 57344.0, true, false, true);
    private static final Format E5M2FNUZ = new Format(5, 2, 16, 57344.0, false, true, true);
    private static final Format E2M1 = new Format(2, 1, 1, 6.0, false, false, false);

    private static Format format(DType t) {
        return switch (t) {
            case F8E4M3FN -> E4M3FN;
            case F8E4M3FNUZ -> E4M3FNUZ;
            case F8E5M2 -> E5M2;
            case F8E5M2FNUZ -> E5M2FNUZ;
            case F4E2M1 -> E2M1;
            default -> throw new IllegalArgumentException(t + " is not a small float format");
        };
    }

    /** The value of the stored byte {@code bits} of storage-only dtype {@code t}, exactly (every such value is a double). */
    public static double decode(DType t, byte bits) {
        int b = bits & 0xFF;
        return switch (t) {
            case F8E8M0 -> b == 0xFF ? Double.NaN : Math.scalb(1.0, b - 127);
            case I4 -> ((b & 0xF) ^ 0x8) - 0x8;
            case U4 -> b & 0xF;
            case I2 -> ((b & 0x3) ^ 0x2) - 0x2;
            case U2 -> b & 0x3;
            case F4E2M1 -> decodeFloat(E2M1, b & 0xF);
            default -> decodeFloat(format(t), b);
        };
    }

    private static double decodeFloat(Format f, int code) {
        int signBit = 1 << (f.expBits + f.mantBits);
        int magnitude = code & (signBit - 1);
        boolean negative = (code & signBit) != 0;
        if (f.unsignedZero && code == signBit) return Double.NaN;
        int expField = magnitude >>> f.mantBits, mant = magnitude & ((1 << f.mantBits) - 1);
        int expMax = (1 << f.expBits) - 1;
        if (f.hasInf && expField == expMax) {
            if (mant != 0) return Double.NaN;
            return negative ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
        }
        if (f == E4M3FN && magnitude == 0x7F) return Double.NaN;
        double v = expField == 0
                ? Math.scalb((double) mant, f.minExp() - f.mantBits)
                : Math.scalb((double) ((1 << f.mantBits) | mant), expField - f.bias - f.mantBits);
        return negative ? -v : v;
    }

    /**
     * {@code value} encoded as float dtype {@code t} (one of the float8 formats, {@code f4e2m1} or
     * {@code f8e8m0}), with ONNX Cast semantics; {@code mode} only matters for {@code f8e8m0}.
     */
    public static byte encodeFloat(DType t, double value, boolean saturate, RoundMode mode) {
        if (t == DType.F8E8M0) return encodeE8M0((float) value, saturate, mode);
        Format f = format(t);
        int signBit = 1 << (f.expBits + f.mantBits);
        boolean negative = Double.doubleToRawLongBits(value) < 0;
        int sign = negative ? signBit : 0;
        if (Double.isNaN(value)) return (byte) nanCode(f, sign);
        double a = Math.abs(value);
        double rounded;
        if (Double.isInfinite(a)) {
            rounded = a;
        } else {
            int e = Math.max(Math.getExponent(a), f.minExp());
            double quantum = Math.scalb(1.0, e - f.mantBits);
            rounded = Math.rint(a / quantum) * quantum;
        }
        if (rounded > f.max) {
            if (saturate || !f.hasNaN) return (byte) (sign | maxCode(f));
            return (byte) (f.hasInf ? sign | infCode(f) : nanCode(f, sign));
        }
        if (rounded == 0) return (byte) (f.unsignedZero ? 0 : sign);
        int code;
        if (rounded < Math.scalb(1.0, f.minExp())) {
            code = (int) Math.scalb(rounded, f.mantBits - f.minExp());
        } else {
            int e = Math.getExponent(rounded);
            int mant = (int) Math.scalb(rounded, f.mantBits - e) - (1 << f.mantBits);
            code = ((e + f.bias) << f.mantBits) | mant;
        }
        return (byte) (sign | code);
    }

    private static int maxCode(Format f) {
        if (f == E4M3FN) return 0x7E;
        if (f.hasInf) return (((1 << f.expBits) - 2) << f.mantBits) | ((1 << f.mantBits) - 1);
        return (1 << (f.expBits + f.mantBits)) - 1;
    }

    private static int infCode(Format f) { return ((1 << f.expBits) - 1) << f.mantBits; }

    private static int nanCode(Format f, int sign) {
        if (!f.hasNaN) return 1 << (f.expBits + f.mantBits);   // f4e2m1: ONNX gives the "-0" pattern
        if (f.unsignedZero) return 0x80;
        if (f == E4M3FN) return sign | 0x7F;
        return sign | infCode(f) | (1 << (f.mantBits - 1));    // a quiet NaN
    }

    /**
     * {@code value} as f8e8m0 following ONNX's definition on the f32 bits: the biased f32 exponent, plus one
     * when {@code mode} rounds up; with {@code saturate} a rounding never turns 0xFE into NaN.
     */
    public static byte encodeE8M0(float value, boolean saturate, RoundMode mode) {
        int bits = Float.floatToRawIntBits(value);
        int exponent = (bits >>> 23) & 0xFF;
        if (exponent == 0xFF) return (byte) 0xFF;
        boolean roundUp = switch (mode) {
            case UP -> (bits & 0x7FFFFF) != 0;
            case DOWN -> false;
            case NEAREST -> (bits & 0x400000) != 0 && ((bits & 0x3FFFFF) != 0 || exponent > 0);
        };
        if (roundUp && !(saturate && exponent == 0xFE)) exponent++;
        return (byte) exponent;
    }

    /**
     * {@code value} as written in a literal (IR text): like {@link #encode}, except that a value the dtype holds
     * exactly always gets its own code, so printed constants read back unchanged. (ONNX rounds the f32
     * subnormal 2^-127, which is f8e8m0's smallest code, up to 2^-126.)
     */
    public static byte encodeLiteral(DType t, double value) {
        if (t == DType.F8E8M0 && (float) value == Math.scalb(1.0f, -127)) return 0;
        return encode(t, value);
    }

    /** {@code value} wrapped to integer dtype {@code t} ({@code i4}, {@code u4}, {@code i2}, {@code u2}), as stored. */
    public static byte wrapInt(DType t, long value) {
        return switch (t) {
            case I4 -> (byte) (((value & 0xF) ^ 0x8) - 0x8);
            case U4 -> (byte) (value & 0xF);
            case I2 -> (byte) (((value & 0x3) ^ 0x2) - 0x2);
            case U2 -> (byte) (value & 0x3);
            default -> throw new IllegalArgumentException(t + " is not a sub-byte integer dtype");
        };
    }

    /**
     * {@code value} stored as storage-only dtype {@code t} with ONNX's default Cast attributes (saturate,
     * round up): floats encode, integers truncate toward zero then wrap.
     */
    public static byte encode(DType t, double value) {
        if (t.isFloatingPoint()) return encodeFloat(t, value, true, RoundMode.UP);
        return wrapInt(t, (long) value);
    }
}
