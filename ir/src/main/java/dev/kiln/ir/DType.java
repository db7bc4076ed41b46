package dev.kiln.ir;

/**
 * Element type of a tensor. The IR name ({@code f32}, {@code i64}, ...) is what the text form prints;
 * {@code f16} and {@code bf16} are stored in 16 bits and computed in f32.
 *
 * <p>The low-precision dtypes ({@code f8e4m3fn}, {@code f8e4m3fnuz}, {@code f8e5m2}, {@code f8e5m2fnuz},
 * {@code f4e2m1}, {@code f8e8m0}, {@code i4}, {@code u4}, {@code i2}, {@code u2}) are <em>storage-only</em>
 * ({@link #isStorageOnly()}): tensors of them can be created, cast, moved (reshape, views, concat, gather,
 * where) and serialised, but arithmetic ops reject them, so a model computes after an explicit cast to f32.
 * Each element takes one byte in memory: the float formats keep their bit pattern in the byte (f4e2m1 in
 * the low nibble), {@code i4}/{@code i2} hold the sign-extended value (-8..7, -2..1) and {@code u4}/{@code u2}
 * the zero-extended one (0..15, 0..3). Packing two or four sub-byte elements per byte happens only when a
 * tensor is serialised (ONNX). Their {@link #kind()} is the family of values they hold ({@code FLOAT} or
 * {@code INT}), which decides cast semantics; {@link #codecBits()} gives the width of their encoding.
 */
public enum DType {
    F32("f32", 4, Kind.FLOAT, 32),
    F64("f64", 8, Kind.FLOAT, 64),
    F16("f16", 2, Kind.FLOAT, 16),
    BF16("bf16", 2, Kind.FLOAT, 16),
    I64("i64", 8, Kind.INT, 64),
    I32("i32", 4, Kind.INT, 32),
    I16("i16", 2, Kind.INT, 16),
    I8("i8", 1, Kind.INT, 8),
    U8("u8", 1, Kind.INT, 8),
    /** Unsigned 16-bit integer, 0..65535. */
    U16("u16", 2, Kind.INT, 16),
    /** Unsigned 32-bit integer, 0..2^32-1. */
    U32("u32", 4, Kind.INT, 32),
    /**
     * Unsigned 64-bit integer, 0..2^64-1, stored as the two's-complement bits of a {@code long}: values from
     * 2^63 read as negative longs, so kernels compare, divide and convert them with the unsigned operations.
     */
    U64("u64", 8, Kind.INT, 64),
    BOOL("bool", 1, Kind.BOOL, 8),
    /** 8-bit float, 4 exponent bits (bias 7), 3 mantissa bits; no infinities, NaN = S.1111.111; max 448. */
    F8E4M3FN("f8e4m3fn", 1, Kind.FLOAT, 8),
    /** 8-bit float, 4 exponent bits (bias 8), 3 mantissa bits; no infinities and no -0, NaN = 0x80; max 240. */
    F8E4M3FNUZ("f8e4m3fnuz", 1, Kind.FLOAT, 8),
    /** 8-bit float, 5 exponent bits (bias 15), 2 mantissa bits; IEEE-like with ±inf and NaNs; max 57344. */
    F8E5M2("f8e5m2", 1, Kind.FLOAT, 8),
    /** 8-bit float, 5 exponent bits (bias 16), 2 mantissa bits; no infinities and no -0, NaN = 0x80; max 57344. */
    F8E5M2FNUZ("f8e5m2fnuz", 1, Kind.FLOAT, 8),
    /** 4-bit float, 2 exponent bits (bias 1), 1 mantissa bit: ±{0, 0.5, 1, 1.5, 2, 3, 4, 6}; no inf or NaN. */
    F4E2M1("f4e2m1", 1, Kind.FLOAT, 4),
    /** 8-bit unsigned power of two 2^(bits - 127) (the MX scale type); 0xFF is NaN; no zero, no sign. */
    F8E8M0("f8e8m0", 1, Kind.FLOAT, 8),
    /** Signed 4-bit integer, -8..7. */
    I4("i4", 1, Kind.INT, 4),
    /** Unsigned 4-bit integer, 0..15. */
    U4("u4", 1, Kind.INT, 4),
    /** Signed 2-bit integer, -2..1. */
    I2("i2", 1, Kind.INT, 2),
    /** Unsigned 2-bit integer, 0..3. */
    U2("u2", 1, Kind.INT, 2);

    /** The broad family a dtype belongs to; decides which ops accept it. */
    public enum Kind { FLOAT, INT, BOOL }

    private final String irName;
    private final int byteSize;
    private final Kind kind;
    private final int codecBits;

    DType(String irName, int byteSize, Kind kind, int codecBits) {
        this.irName = irName;
        this.byteSize = byteSize;
        this.kind = kind;
        this.codecBits = codecBits;
    }

    /** The name used in the IR text form, e.g. {@code f32}. */
    public String irName() { return irName; }

    /** Bytes one element takes in memory (one for every sub-byte dtype: they are kept unpacked). */
    public int byteSize() { return byteSize; }

    /** Bits of the element's encoding: 4 for {@code i4}, {@code u4}, {@code f4e2m1}; 2 for {@code i2}, {@code u2}. */
    public int codecBits() { return codecBits; }

    public Kind kind() { return kind; }

    /** True for every dtype holding floating-point values, the storage-only float formats included. */
    public boolean isFloatingPoint() { return kind == Kind.FLOAT; }

    /** True for every dtype holding integers, the storage-only {@code i4}, {@code u4}, {@code i2}, {@code u2} included. */
    public boolean isInteger() { return kind == Kind.INT; }

    /** True for the unsigned integer dtypes ({@code u8}, {@code u16}, {@code u32}, {@code u64}, {@code u4}, {@code u2}). */
    public boolean isUnsigned() {
        return switch (this) {
            case U8, U16, U32, U64, U4, U2 -> true;
            default -> false;
        };
    }

    /**
     * True for the low-precision formats that Kiln stores, casts and moves but does not compute in
     * (float8 ×4, f4e2m1, f8e8m0, i4, u4, i2, u2); ops without {@link Trait#ACCEPTS_STORAGE_DTYPES} reject them.
     */
    public boolean isStorageOnly() { return ordinal() >= F8E4M3FN.ordinal(); }

    /** The u64 whose bits are {@code bits} as a double, rounded to nearest: 2^64 - 1 for {@code -1L}. */
    public static double u64ToDouble(long bits) {
        return bits >= 0 ? (double) bits : (double) (bits >>> 1 | (bits & 1)) * 2.0;
    }

    /**
     * A double as u64 bits, truncated toward zero: values from 2^63 keep their top bit, values from 2^64 up
     * saturate to 2^64 - 1, and negative ones wrap as a C cast through int64 does ({@code -1.0} gives 2^64 - 1).
     */
    public static long doubleToU64(double v) {
        if (v >= 0x1p63) return v >= 0x1p64 ? -1L : (long) (v - 0x1p63) | Long.MIN_VALUE;
        return (long) v;
    }

    /** Looks a dtype up by its IR name; throws with the list of known names otherwise. */
    public static DType fromIrName(String name) {
        for (DType t : values()) {
            if (t.irName.equals(name)) return t;
        }
        throw new IllegalArgumentException("unknown dtype '" + name + "'; expected one of "
                + java.util.Arrays.stream(values()).map(DType::irName).toList());
    }

    @Override
    public String toString() { return irName; }
}
