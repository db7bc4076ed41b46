package dev.kiln.runtime;

import dev.kiln.ir.DType;

import java.lang.foreign.MemorySegment;

/**
 * The arena slot the interpreter's planned mode offers to the op it is about to run: the first
 * {@link NDArray} allocation on this thread with exactly the slot's dtype and element count takes the
 * slot instead of fresh memory, once. A fresh slot is zero-filled when taken, so kernels that
 * accumulate into their output see {@link NDArray#zeros} semantics; an in-place slot (the bytes of a
 * dying operand) is not, and is only offered to {@code ELEMENTWISE} kernels, which allocate nothing
 * but their result and read each element of an operand before writing the same element of it.
 *
 * <p>A kernel that allocates a same-sized temporary before its result (layer_norm of a strided
 * input copies it first) hands the slot to the temporary; its result is then fresh memory, which
 * the interpreter keeps: the run stays correct and the extra allocation shows in
 * {@link Allocations} and in {@link Interpreter.ArenaRun#unplanned}.
 */
final class Placement {
    private static final ThreadLocal<Placement> OFFERED = new ThreadLocal<>();

    private final MemorySegment slot;
    private final DType dtype;
    private final long numel;
    private final boolean zeroFill;

    private Placement(MemorySegment slot, DType dtype, long numel, boolean zeroFill) {
        this.slot = slot;
        this.dtype = dtype;
        this.numel = numel;
        this.zeroFill = zeroFill;
    }

    /** Offers {@code slot} (exactly {@code numel} elements of {@code dtype}) to the next matching allocation. */
    static void offer(MemorySegment slot, DType dtype, long numel, boolean zeroFill) {
        OFFERED.set(new Placement(slot, dtype, numel, zeroFill));
    }

    /** Withdraws an offer that no allocation took. */
    static void withdraw() {
        OFFERED.set(null);
    }

    /** The offered slot if it matches, taken (and zero-filled if fresh); otherwise null. */
    static MemorySegment claim(DType dtype, long numel) {
        Placement p = OFFERED.get();
        if (p == null || p.dtype != dtype || p.numel != numel) return null;
        OFFERED.set(null);
        if (p.zeroFill) p.slot.fill((byte) 0);
        return p.slot;
    }
}
