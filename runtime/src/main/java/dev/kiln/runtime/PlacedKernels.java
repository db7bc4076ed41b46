package dev.kiln.runtime;

import dev.kiln.ir.Op;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Runs a reference kernel so that its result lands in a given contiguous target tensor (an arena slot of
 * compiled code), the way the interpreter's planned mode does: the target's bytes are offered to the kernel's
 * result allocation ({@link Placement}), and a result that landed elsewhere is copied into the target. This is
 * how generated code runs the ops it has no direct kernel for, so their results are exactly the interpreter's.
 */
public final class PlacedKernels {

    private PlacedKernels() {}

    /**
     * Runs {@code kernel} on {@code operands} with {@code attributes} and leaves its result in {@code target}
     * (contiguous, exactly its segment's bytes, the result's dtype and shape). {@code fresh} says whether the
     * target is memory of its own (zero-filled before the kernel takes it) or a dying operand's bytes, which only
     * an {@code ELEMENTWISE} kernel may write over.
     */
    public static void runInto(OpKernels.Kernel kernel, List<NDArray> operands, OpAttributes attributes, NDArray target,
                               boolean fresh) {
        MemorySegment slot = target.segment();
        Placement.offer(slot, target.dtype(), target.numel(), fresh);
        NDArray result;
        try {
            result = kernel.apply(operands, attributes);
        } finally {
            Placement.withdraw();
        }
        settle(result, target);
    }

    /** The results of a multi-result fusion op ({@code skip_layer_norm} with {@code with_sum}), fresh. */
    public static List<NDArray> runMultiResult(Op op, List<NDArray> operands, OpAttributes attributes) {
        return FusionKernels.multiResult(op.name(), operands, attributes);
    }

    /** Copies {@code value} into {@code target} unless it already is exactly the target's memory. */
    public static void settle(NDArray value, NDArray target) {
        boolean inPlace = value.segment() == target.segment() && value.offset() == target.offset() && value.isContiguous();
        if (!inPlace) target.assign(value);
    }
}
