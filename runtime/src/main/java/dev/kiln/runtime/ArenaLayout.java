package dev.kiln.runtime;

import dev.kiln.ir.KilnException;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Op;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Where each tensor result of a graph's top-level ops lives in one arena of {@link #bytes} bytes, for
 * {@link Interpreter#runInArena}. The runtime's own description of a memory plan (the passes module
 * makes one from its {@code MemoryPlan}); valid for one graph instance and one set of sizes for its
 * symbolic dims.
 *
 * @param bytes    the arena size the slots need; any bytes past it in the arena segment are scratch
 *                 space for kernels' temporaries
 * @param bindings the sizes of symbolic dims the layout was made for; inputs must bind the same
 * @param slots    one slot per tensor result of a top-level op (by identity)
 */
public record ArenaLayout(long bytes, Map<String, Long> bindings, Map<Value, Slot> slots) {

    /** How a value uses its slot. */
    public enum Kind {
        /** Bytes of its own; zero-filled when the kernel takes them. */
        OWN,
        /** The bytes of a dying operand of its {@code ELEMENTWISE} op, which writes over them in place. */
        IN_PLACE,
        /** Bytes of its own, used only if the kernel copies rather than returning a view of operand 0. */
        MAYBE_VIEW,
        /** No bytes: the kernel returns a view of operand 0, whose slot the plan keeps alive. */
        VIEW
    }

    /**
     * A byte range {@code [offset, offset + size)} of the arena (empty for {@link Kind#VIEW}).
     *
     * @param offset byte offset in the arena
     * @param size   bytes reserved, at least the value's {@code numel * dtype size}
     * @param kind   how the value uses it
     */
    public record Slot(long offset, long size, Kind kind) {
        public Slot {
            if (offset < 0 || size < 0) throw new KilnException("slot: negative offset " + offset + " or size " + size);
        }
    }

    public ArenaLayout {
        if (bytes < 0) throw new KilnException("arena layout: negative size " + bytes);
        bindings = Map.copyOf(bindings);
        slots = Collections.unmodifiableMap(new IdentityHashMap<>(slots));
        for (var e : slots.entrySet()) {
            Slot s = e.getValue();
            if (s.kind != Kind.VIEW && s.offset + s.size > bytes) {
                throw new KilnException("arena layout: slot of " + e.getKey() + " ends at " + (s.offset + s.size)
                        + ", past the arena's " + bytes + " bytes");
            }
        }
    }

    /**
     * Checks that this layout fits {@code graph}: every tensor result of a top-level op has a slot
     * large enough for its type under {@link #bindings}, and views are only declared for ops that
     * return views. Throws {@link IllegalArgumentException} naming the first value that does not fit.
     */
    public void check(Graph graph) {
        for (Op op : graph.body().ops()) {
            for (Value r : op.results()) {
                if (!(r.type() instanceof TensorType tt)) continue;
                Slot s = slots.get(r);
                if (s == null) {
                    throw new KilnException("arena layout for graph " + graph.name() + " has no slot for " + r + " : " + tt
                            + " (result of " + op.name() + "); was it made for another graph instance?");
                }
                if (s.kind == Kind.VIEW) {
                    if (ResultStorage.of(op) == ResultStorage.NEW) {
                        throw new KilnException("arena layout for graph " + graph.name() + " declares " + r
                                + " a view, but " + op.name() + " returns new storage");
                    }
                    continue;
                }
                long need = byteSize(tt, r);
                if (s.size < need) {
                    throw new KilnException("arena layout for graph " + graph.name() + ": " + r + " : " + tt
                            + " needs " + need + " bytes with " + bindings + " but its slot has " + s.size);
                }
            }
        }
    }

    /** {@code numel * dtype size} of {@code type} with this layout's bindings for symbolic dims. */
    long byteSize(TensorType type, Value forValue) {
        return Math.multiplyExact(numel(type, forValue), (long) type.dtype().byteSize());
    }

    /** Elements of {@code type} with this layout's bindings for symbolic dims. */
    long numel(TensorType type, Value forValue) {
        long n = 1;
        for (var d : type.shape().dims()) {
            long size = switch (d) {
                case dev.kiln.ir.Dim.Static s -> s.size();
                case dev.kiln.ir.Dim.Symbolic s -> {
                    Long bound = bindings.get(s.name());
                    if (bound == null) {
                        throw new KilnException("arena layout: " + forValue + " : " + type + " has symbolic dim "
                                + s.name() + " with no size in " + bindings);
                    }
                    yield bound;
                }
                case dev.kiln.ir.Dim.Unknown u -> throw new KilnException("arena layout: " + forValue + " : " + type
                        + " has an unknown dim and cannot be placed");
            };
            n = Math.multiplyExact(n, size);
        }
        return n;
    }

    /**
     * A new arena segment for this layout with {@code scratchBytes} of scratch space after the slots,
     * 64-byte aligned, from {@code arena}; counted in {@link Allocations}.
     */
    public MemorySegment allocate(Arena arena, long scratchBytes) {
        if (scratchBytes < 0) throw new KilnException("arena layout: negative scratch size " + scratchBytes);
        long total = Math.max(1, Math.addExact(bytes, scratchBytes));
        MemorySegment segment = arena.allocate(total, 64);
        Allocations.record(total);
        return segment;
    }
}
