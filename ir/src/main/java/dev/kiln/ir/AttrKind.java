package dev.kiln.ir;

/** The kinds of attribute an op schema can declare. */
public enum AttrKind { INT, FLOAT, BOOL, STRING, INTS, FLOATS, DTYPE, TENSOR }
