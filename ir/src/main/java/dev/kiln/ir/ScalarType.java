package dev.kiln.ir;

/** A host scalar (64-bit int, 64-bit float or bool), used for loop counters and branch conditions. */
public enum ScalarType implements Type {
    INT("int", DType.I64),
    FLOAT("float", DType.F64),
    BOOL("bool", DType.BOOL);

    private final String irName;
    private final DType elementType;

    ScalarType(String irName, DType elementType) {
        this.irName = irName;
        this.elementType = elementType;
    }

    public String irName() { return irName; }

    /** The dtype a 0-d tensor holding this scalar has (e.g. when exported to ONNX). */
    public DType elementType() { return elementType; }

    /** The scalar type a one-element tensor of this dtype reads back as. */
    public static ScalarType forDType(DType dtype) {
        return switch (dtype.kind()) {
            case FLOAT -> FLOAT;
            case INT -> INT;
            case BOOL -> BOOL;
        };
    }

    @Override
    public String toString() { return irName; }
}
