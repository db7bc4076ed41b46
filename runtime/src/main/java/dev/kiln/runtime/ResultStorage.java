package dev.kiln.runtime;

import dev.kiln.ir.Op;
import dev.kiln.ir.TensorType;

/**
 * Whether an op's kernel returns new storage or a view of its first operand's storage, as the
 * {@link OpKernels} actually behave. Memory planning needs this: a view keeps its operand's bytes
 * alive, and a view needs no bytes of its own.
 */
public enum ResultStorage {
    /** A new tensor, contiguous and sharing nothing with the operands. */
    NEW,
    /** Always a view of operand 0: {@code permute}, {@code expand}, {@code slice}, and a {@code cast} to the same dtype. */
    VIEW,
    /**
     * A view of operand 0 whenever its strides allow, otherwise a new contiguous tensor:
     * {@code reshape} and {@code flatten}, which are always views of a contiguous operand.
     */
    VIEW_IF_STRIDES_ALLOW;

    /** How {@code op}'s tensor result relates to its operands. Ops with regions count as new storage. */
    public static ResultStorage of(Op op) {
        return switch (op.name()) {
            case "permute", "expand", "slice" -> VIEW;
            case "reshape", "flatten" -> VIEW_IF_STRIDES_ALLOW;
            case "cast" -> op.operand(0).type() instanceof TensorType in && op.result().type() instanceof TensorType out
                    && in.dtype() == out.dtype() ? VIEW : NEW;
            default -> NEW;
        };
    }
}
