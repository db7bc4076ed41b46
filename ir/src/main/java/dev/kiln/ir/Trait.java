package dev.kiln.ir;

/** Properties passes ask about instead of listing op names. */
public enum Trait {
    /** No side effects: removable when unused, mergeable when equal. */
    PURE,
    /** Applies per element, with NumPy broadcasting of tensor operands. */
    ELEMENTWISE,
    /**
     * Reduces its one tensor operand over some axes to one smaller tensor result (sum, mean, amax, argmax, ...);
     * elementwise fusion may end a group with such an op.
     */
    REDUCTION,
    /** Operand order of the two inputs does not matter. */
    COMMUTATIVE,
    /** Ends a block: must be last, and only there. */
    TERMINATOR,
    /** Owns nested regions (blocks). */
    HAS_REGIONS,
    /**
     * Accepts tensors of storage-only dtypes ({@link DType#isStorageOnly()}): the op only converts or moves
     * elements (cast, views, concat, gather, where, structure). Inference for every other op rejects them.
     */
    ACCEPTS_STORAGE_DTYPES
}
