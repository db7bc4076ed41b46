package dev.kiln.ir;

/** The kinds of attribute an op schema can declare. */
public enum AttrKind {
    INT, FLOAT, BOOL, STRING, INTS, FLOATS, DTYPE, TENSOR,
    /** A list of sizes with at least one symbolic entry, such as {@code [N, -1]} ({@link Attribute.Dims}). */
    DIMS
}
