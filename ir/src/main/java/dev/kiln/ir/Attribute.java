package dev.kiln.ir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/** A typed, immutable op attribute. Its {@link AttrKind} is checked against the op's schema. */
public sealed interface Attribute {

    AttrKind kind();

    record Int(long value) implements Attribute {
        public AttrKind kind() { return AttrKind.INT; }
    }

    record Float(double value) implements Attribute {
        public AttrKind kind() { return AttrKind.FLOAT; }
    }

    record Bool(boolean value) implements Attribute {
        public AttrKind kind() { return AttrKind.BOOL; }
    }

    record Str(String value) implements Attribute {
        public AttrKind kind() { return AttrKind.STRING; }
    }

    record Ints(long[] values) implements Attribute {
        public Ints { values = values.clone(); }
        public long[] values() { return values.clone(); }
        public int[] toIntArray() { return Arrays.stream(values).mapToInt(Math::toIntExact).toArray(); }
        public AttrKind kind() { return AttrKind.INTS; }
        @Override public boolean equals(Object o) { return o instanceof Ints i && Arrays.equals(values, i.values); }
        @Override public int hashCode() { return Arrays.hashCode(values); }
        @Override public String toString() { return Arrays.toString(values); }
    }

    record Floats(double[] values) implements Attribute {
        public Floats { values = values.clone(); }
        public double[] values() { return values.clone(); }
        public AttrKind kind() { return AttrKind.FLOATS; }
        @Override public boolean equals(Object o) { return o instanceof Floats f && Arrays.equals(values, f.values); }
        @Override public int hashCode() { return Arrays.hashCode(values); }
        @Override public String toString() { return Arrays.toString(values); }
    }

    record DTypeAttr(DType value) implements Attribute {
        public AttrKind kind() { return AttrKind.DTYPE; }
    }

    /**
     * A constant tensor: a static-shaped type and its elements as little-endian bytes in row-major
     * order (the IR holds constants' data; runtime storage is the runtime's business).
     */
    record Tensor(TensorType type, byte[] data) implements Attribute {
        public Tensor {
            if (!type.shape().isStatic()) throw new IllegalArgumentException("constant tensor needs a static shape, got " + type);
            long expected = type.shape().numel() * type.dtype().byteSize();
            if (data.length != expected) {
                throw new IllegalArgumentException("constant " + type + " needs " + expected + " bytes, got " + data.length);
            }
            data = data.clone();
        }

        public byte[] data() { return data.clone(); }

        public AttrKind kind() { return AttrKind.TENSOR; }

        public long numel() { return type.shape().numel(); }

        /** Element {@code i} (row-major) widened to double; f16/bf16 decoded. */
        public double elementAsDouble(long i) {
            ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
            int at = Math.toIntExact(i * type.dtype().byteSize());
            return switch (type.dtype()) {
                case F32 -> b.getFloat(at);
                case F64 -> b.getDouble(at);
                case F16 -> java.lang.Float.float16ToFloat(b.getShort(at));
                case BF16 -> java.lang.Float.intBitsToFloat((b.getShort(at) & 0xffff) << 16);
                case I64 -> b.getLong(at);
                case I32 -> b.getInt(at);
                case I16 -> b.getShort(at);
                case I8 -> b.get(at);
                case U8 -> b.get(at) & 0xff;
                case BOOL -> b.get(at) != 0 ? 1 : 0;
            };
        }

        /** Builds a constant by encoding each double as {@code dtype} (rounding floats, truncating ints). */
        public static Tensor fromDoubles(DType dtype, long[] shape, double[] values) {
            ByteBuffer b = ByteBuffer.allocate(values.length * dtype.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
            for (double v : values) {
                switch (dtype) {
                    case F32 -> b.putFloat((float) v);
                    case F64 -> b.putDouble(v);
                    case F16 -> b.putShort(java.lang.Float.floatToFloat16((float) v));
                    case BF16 -> b.putShort(bf16Bits((float) v));
                    case I64 -> b.putLong((long) v);
                    case I32 -> b.putInt((int) v);
                    case I16 -> b.putShort((short) v);
                    case I8, U8 -> b.put((byte) (long) v);
                    case BOOL -> b.put((byte) (v != 0 ? 1 : 0));
                }
            }
            return new Tensor(new TensorType(dtype, Shape.of(shape)), b.array());
        }

        /** Rounds an f32 to bf16 bits (round to nearest even; NaN stays NaN). */
        public static short bf16Bits(float f) {
            int bits = java.lang.Float.floatToRawIntBits(f);
            if (java.lang.Float.isNaN(f)) return (short) ((bits >>> 16) | 0x40);
            int rounding = 0x7fff + ((bits >>> 16) & 1);
            return (short) ((bits + rounding) >>> 16);
        }

        @Override public boolean equals(Object o) { return o instanceof Tensor t && type.equals(t.type) && Arrays.equals(data, t.data); }
        @Override public int hashCode() { return 31 * type.hashCode() + Arrays.hashCode(data); }
        @Override public String toString() { return "tensor " + type; }
    }

    static Attribute of(long v) { return new Int(v); }

    static Attribute of(double v) { return new Float(v); }

    static Attribute of(boolean v) { return new Bool(v); }

    static Attribute of(String v) { return new Str(v); }

    static Attribute of(DType v) { return new DTypeAttr(v); }

    static Attribute ints(long... v) { return new Ints(v); }

    static Attribute ints(int... v) { return new Ints(Arrays.stream(v).asLongStream().toArray()); }

    static Attribute floats(double... v) { return new Floats(v); }
}
