package dev.kiln.ir;

/**
 * Element type of a tensor. The IR name ({@code f32}, {@code i64}, ...) is what the text form prints;
 * {@code f16} and {@code bf16} are stored in 16 bits and computed in f32.
 */
public enum DType {
    F32("f32", 4, Kind.FLOAT),
    F64("f64", 8, Kind.FLOAT),
    F16("f16", 2, Kind.FLOAT),
    BF16("bf16", 2, Kind.FLOAT),
    I64("i64", 8, Kind.INT),
    I32("i32", 4, Kind.INT),
    I16("i16", 2, Kind.INT),
    I8("i8", 1, Kind.INT),
    U8("u8", 1, Kind.INT),
    BOOL("bool", 1, Kind.BOOL);

    /** The broad family a dtype belongs to; decides which ops accept it. */
    public enum Kind { FLOAT, INT, BOOL }

    private final String irName;
    private final int byteSize;
    private final Kind kind;

    DType(String irName, int byteSize, Kind kind) {
        this.irName = irName;
        this.byteSize = byteSize;
        this.kind = kind;
    }

    /** The name used in the IR text form, e.g. {@code f32}. */
    public String irName() { return irName; }

    /** Bytes one element takes in storage. */
    public int byteSize() { return byteSize; }

    public Kind kind() { return kind; }

    public boolean isFloatingPoint() { return kind == Kind.FLOAT; }

    public boolean isInteger() { return kind == Kind.INT; }

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
