package dev.kiln.runtime;

import dev.kiln.ir.DType;
import dev.kiln.ir.LowPrecision;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Reads and writes single elements of any {@link DType} in a segment, converting through {@code double} or
 * {@code long}. This is the slow, general path kernels use for dtypes without a specialised loop; f16 and bf16
 * are stored in 16 bits and converted to and from f32. Storage-only dtypes (one byte per element) go through
 * {@link LowPrecision} with ONNX's default Cast semantics (float8 saturates, f8e8m0 rounds up).
 */
public final class Elements {
    /** f32 layout used throughout the runtime (native order, no alignment requirement). */
    public static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    /** f64 layout used throughout the runtime. */
    public static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED;
    static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED;
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    static final ValueLayout.OfByte I8 = ValueLayout.JAVA_BYTE;

    private Elements() {}

    /** Element {@code index} (in elements, not bytes) of {@code seg} read as a double. */
    public static double getDouble(MemorySegment seg, DType type, long index) {
        return switch (type) {
            case F32 -> seg.getAtIndex(F32, index);
            case F64 -> seg.getAtIndex(F64, index);
            case F16 -> Float.float16ToFloat(seg.getAtIndex(I16, index));
            case BF16 -> bf16ToFloat(seg.getAtIndex(I16, index));
            case F8E4M3FN, F8E4M3FNUZ, F8E5M2, F8E5M2FNUZ, F4E2M1, F8E8M0 -> LowPrecision.decode(type, seg.getAtIndex(I8, index));
            case U64 -> DType.u64ToDouble(seg.getAtIndex(I64, index));
            default -> getLong(seg, type, index);
        };
    }

    /** Writes {@code value} converted to {@code type}: rounding for floats, truncation and wrap-around for ints. */
    public static void setDouble(MemorySegment seg, DType type, long index, double value) {
        switch (type) {
            case F32 -> seg.setAtIndex(F32, index, (float) value);
            case F64 -> seg.setAtIndex(F64, index, value);
            case F16 -> seg.setAtIndex(I16, index, Float.floatToFloat16((float) value));
            case BF16 -> seg.setAtIndex(I16, index, floatToBf16((float) value));
            case BOOL -> seg.setAtIndex(I8, index, (byte) (value != 0 ? 1 : 0));
            case F8E4M3FN, F8E4M3FNUZ, F8E5M2, F8E5M2FNUZ, F4E2M1, F8E8M0 -> seg.setAtIndex(I8, index, LowPrecision.encode(type, value));
            case U64 -> seg.setAtIndex(I64, index, DType.doubleToU64(value));
            default -> setLong(seg, type, index, (long) value);
        }
    }

    /**
     * Element {@code index} read as a long; floats truncate toward zero. u64 elements come back as their bits,
     * so values from 2^63 are negative: compare and divide them with {@code Long.compareUnsigned} and friends.
     */
    public static long getLong(MemorySegment seg, DType type, long index) {
        return switch (type) {
            case I64 -> seg.getAtIndex(I64, index);
            case I32 -> seg.getAtIndex(I32, index);
            case I16 -> seg.getAtIndex(I16, index);
            case I8 -> seg.getAtIndex(I8, index);
            case U8 -> seg.getAtIndex(I8, index) & 0xFF;
            case U16 -> seg.getAtIndex(I16, index) & 0xFFFF;
            case U32 -> seg.getAtIndex(I32, index) & 0xFFFFFFFFL;
            case U64 -> seg.getAtIndex(I64, index);
            case BOOL -> seg.getAtIndex(I8, index) != 0 ? 1 : 0;
            case I4, U4, I2, U2 -> (long) LowPrecision.decode(type, seg.getAtIndex(I8, index));
            default -> (long) getDouble(seg, type, index);
        };
    }

    /** Writes {@code value} converted to {@code type}; narrower ints wrap around like a C cast. */
    public static void setLong(MemorySegment seg, DType type, long index, long value) {
        switch (type) {
            case I64, U64 -> seg.setAtIndex(I64, index, value);
            case I32, U32 -> seg.setAtIndex(I32, index, (int) value);
            case I16, U16 -> seg.setAtIndex(I16, index, (short) value);
            case I8, U8 -> seg.setAtIndex(I8, index, (byte) value);
            case BOOL -> seg.setAtIndex(I8, index, (byte) (value != 0 ? 1 : 0));
            case I4, U4, I2, U2 -> seg.setAtIndex(I8, index, LowPrecision.wrapInt(type, value));
            default -> setDouble(seg, type, index, (double) value);
        }
    }

    /** Orders two elements of {@code type} read by {@link #getLong}: unsigned for u64 (its bits), signed otherwise. */
    public static int compareLongs(DType type, long a, long b) {
        return type == DType.U64 ? Long.compareUnsigned(a, b) : Long.compare(a, b);
    }

    /** Copies one element's bytes unchanged between two segments of the same dtype. */
    public static void copyElement(MemorySegment src, long srcIndex, MemorySegment dst, long dstIndex, int byteSize) {
        switch (byteSize) {
            case 8 -> dst.setAtIndex(I64, dstIndex, src.getAtIndex(I64, srcIndex));
            case 4 -> dst.setAtIndex(I32, dstIndex, src.getAtIndex(I32, srcIndex));
            case 2 -> dst.setAtIndex(I16, dstIndex, src.getAtIndex(I16, srcIndex));
            default -> dst.setAtIndex(I8, dstIndex, src.getAtIndex(I8, srcIndex));
        }
    }

    /** bfloat16 bits to f32: bf16 is the upper half of an f32. */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** f32 to bfloat16 bits, rounding to nearest even; NaN stays a (quiet) NaN. */
    public static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) return (short) ((bits >>> 16) | 0x0040);
        int roundingBias = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }
}
