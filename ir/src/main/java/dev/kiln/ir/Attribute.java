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
        /** The values as ints; one outside the 32-bit range is an {@link IrException} naming it. */
        public int[] toIntArray() {
            int[] out = new int[values.length];
            for (int i = 0; i < values.length; i++) {
                if (values[i] != (int) values[i]) {
                    throw new IrException("int list " + Arrays.toString(values) + ": entry " + i + " (" + values[i] + ") is outside the 32-bit range");
                }
                out[i] = (int) values[i];
            }
            return out;
        }
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

    /**
     * A list of sizes in which some entries are symbolic dim names, as in {@code reshape} with
     * {@code shape = [N, -1]}: entry {@code i} is the size bound to {@code symbols[i]} when that is
     * non-null, else the integer {@code values[i]}. It holds at least one symbol (a list of plain
     * integers is an {@link Ints}; {@link Attribute#dims} picks the right one), so the text form
     * {@code [N, -1]} reads back as the same attribute.
     */
    record Dims(long[] values, String[] symbols) implements Attribute {
        public Dims {
            if (values.length != symbols.length) {
                throw new IllegalArgumentException("dims: " + values.length + " values but " + symbols.length + " symbol slots");
            }
            values = values.clone();
            symbols = symbols.clone();
            boolean any = false;
            for (int i = 0; i < symbols.length; i++) {
                if (symbols[i] == null) continue;
                any = true;
                new Dim.Symbolic(symbols[i]); // validates the identifier
                if (symbols[i].equals("nan") || symbols[i].equals("inf") || symbols[i].equals("true") || symbols[i].equals("false")) {
                    throw new IllegalArgumentException("dims: '" + symbols[i] + "' cannot be a symbol name in a size list");
                }
                values[i] = 0;
            }
            if (!any) throw new IllegalArgumentException("dims: needs at least one symbolic entry; use Attribute.ints for plain sizes");
        }

        public long[] values() { return values.clone(); }

        public String[] symbols() { return symbols.clone(); }

        public int size() { return values.length; }

        public boolean isSymbol(int i) { return symbols[i] != null; }

        /** The symbol name of entry {@code i}, or null when it is an integer. */
        public String symbol(int i) { return symbols[i]; }

        /** The integer of entry {@code i} (meaningless for a symbolic entry). */
        public long value(int i) { return values[i]; }

        /**
         * The plain sizes, each symbol replaced by {@code sizes.apply(name)}; a null there is an
         * unbound symbol, reported with {@code what} (for example the op name).
         */
        public long[] resolve(java.util.function.Function<String, Long> sizes, String what) {
            long[] out = values.clone();
            for (int i = 0; i < out.length; i++) {
                if (symbols[i] == null) continue;
                Long v = sizes.apply(symbols[i]);
                if (v == null) {
                    throw new IllegalStateException(what + ": size entry " + i + " of " + this + " is the symbol '" + symbols[i]
                            + "', which no input binds");
                }
                out[i] = v;
            }
            return out;
        }

        public AttrKind kind() { return AttrKind.DIMS; }

        @Override public boolean equals(Object o) {
            return o instanceof Dims d && Arrays.equals(values, d.values) && Arrays.equals(symbols, d.symbols);
        }
        @Override public int hashCode() { return 31 * Arrays.hashCode(values) + Arrays.hashCode(symbols); }
        @Override public String toString() {
            java.util.StringJoiner j = new java.util.StringJoiner(", ", "[", "]");
            for (int i = 0; i < values.length; i++) j.add(symbols[i] != null ? symbols[i] : Long.toString(values[i]));
            return j.toString();
        }
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
                case U16 -> b.getShort(at) & 0xffff;
                case U32 -> b.getInt(at) & 0xffffffffL;
                case U64 -> DType.u64ToDouble(b.getLong(at));
                case BOOL -> b.get(at) != 0 ? 1 : 0;
                case F8E4M3FN, F8E4M3FNUZ, F8E5M2, F8E5M2FNUZ, F4E2M1, F8E8M0, I4, U4, I2, U2 ->
                        LowPrecision.decode(type.dtype(), b.get(at));
            };
        }

        /**
         * Builds a constant by encoding each double as {@code dtype} (rounding floats, truncating ints; storage-only
         * dtypes as {@link LowPrecision#encode}).
         */
        public static Tensor fromDoubles(DType dtype, long[] shape, double[] values) {
            ByteBuffer b = ByteBuffer.allocate(values.length * dtype.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
            for (double v : values) {
                switch (dtype) {
                    case F32 -> b.putFloat((float) v);
                    case F64 -> b.putDouble(v);
                    case F16 -> b.putShort(java.lang.Float.floatToFloat16((float) v));
                    case BF16 -> b.putShort(bf16Bits((float) v));
                    case I64 -> b.putLong((long) v);
                    case I32, U32 -> b.putInt((int) (long) v);
                    case I16, U16 -> b.putShort((short) (long) v);
                    case U64 -> b.putLong(DType.doubleToU64(v));
                    case I8, U8 -> b.put((byte) (long) v);
                    case BOOL -> b.put((byte) (v != 0 ? 1 : 0));
                    case F8E4M3FN, F8E4M3FNUZ, F8E5M2, F8E5M2FNUZ, F4E2M1, F8E8M0, I4, U4, I2, U2 ->
                            b.put(LowPrecision.encode(dtype, v));
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

    /**
     * A size list from {@link Long}/{@link Integer} entries and symbol names ({@link String}s):
     * an {@link Ints} when every entry is an integer, else a {@link Dims}.
     */
    static Attribute dims(Object... entries) {
        long[] values = new long[entries.length];
        String[] symbols = new String[entries.length];
        boolean any = false;
        for (int i = 0; i < entries.length; i++) {
            switch (entries[i]) {
                case Long l -> values[i] = l;
                case Integer n -> values[i] = n;
                case String s -> { symbols[i] = s; any = true; }
                case null, default -> throw new IllegalArgumentException("dims: entry " + i + " must be a Long, Integer or String, got " + entries[i]);
            }
        }
        return any ? new Dims(values, symbols) : new Ints(values);
    }

    /** The entries of an {@link Ints} or {@link Dims} as a {@link Dims}-like pair (symbols all null for ints). */
    static String[] symbolsOf(Attribute a) {
        return switch (a) {
            case Dims d -> d.symbols();
            case Ints i -> new String[i.values().length];
            default -> throw new IllegalArgumentException("expected a size list, got " + a.kind());
        };
    }

    /** The integer entries of an {@link Ints} or {@link Dims} (symbolic entries read 0). */
    static long[] valuesOf(Attribute a) {
        return switch (a) {
            case Dims d -> d.values();
            case Ints i -> i.values();
            default -> throw new IllegalArgumentException("expected a size list, got " + a.kind());
        };
    }
}
