package dev.kiln.passes;

import dev.kiln.ir.Value;
import dev.kiln.runtime.ArenaLayout;
import dev.kiln.runtime.ResultStorage;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * A static memory plan for the top-level block of a graph, made by {@link MemoryPlanner}: every tensor
 * produced by a top-level op either gets a byte range {@code [offset, offset + size)} in one arena of
 * {@link #peakBytes()} bytes, valid over its live range of op steps, or is a view of another value's
 * bytes. {@link #arenaLayout()} hands the plan to the runtime, and codegen's {@code PlannedExecutable} runs a
 * graph inside it.
 *
 * @param buffers    one entry per value with bytes of its own, in program order
 * @param views      values that are views of an operand's bytes and have none of their own, each
 *                   mapped to the operand it views (its bytes are kept alive as long as the view)
 * @param bindings   the sizes of symbolic dims the plan was made for
 * @param peakBytes  the arena size: the largest {@code offset + size}
 * @param lowerBound the most bytes live at any one step (an in-place pair counted once); no plan with
 *                   the same live ranges and in-place decisions can use less
 * @param naiveBytes the sum of all sizes, i.e. the memory used with no reuse at all
 * @param steps      the number of steps (ops of the top-level block, {@code return} included)
 */
public record MemoryPlan(List<Buffer> buffers, Map<Value, Value> views, Map<String, Long> bindings, long peakBytes,
                         long lowerBound, long naiveBytes, int steps) {

    /**
     * One planned tensor.
     *
     * @param value     the planned value (a result of a top-level op)
     * @param offset    byte offset in the arena, a multiple of {@link MemoryPlanner#ALIGNMENT}
     * @param size      bytes reserved: {@code numel * dtype size}, rounded up to the alignment
     * @param defStep   index (in the top-level block) of the op that produces the value
     * @param lastUse   index of the last top-level op that uses it or a view of it (a use inside a
     *                  region counts at the step of the enclosing top-level op); graph outputs live to
     *                  the last step; a value nobody uses lives at its def step only
     * @param inPlaceOf the dying operand whose bytes this value reuses, or null
     */
    public record Buffer(Value value, long offset, long size, int defStep, int lastUse, Value inPlaceOf) {
        /** Whether this buffer's live range intersects {@code other}'s. */
        public boolean liveTogether(Buffer other) {
            return defStep <= other.lastUse && other.defStep <= lastUse;
        }

        /** Whether this buffer's byte range intersects {@code other}'s (empty buffers intersect nothing). */
        public boolean bytesOverlap(Buffer other) {
            return size > 0 && other.size > 0 && offset < other.offset + other.size && other.offset < offset + size;
        }

        @Override
        public String toString() {
            return value + " @" + offset + "+" + size + " live [" + defStep + ", " + lastUse + "]"
                    + (inPlaceOf != null ? " in place of " + inPlaceOf : "");
        }
    }

    public MemoryPlan {
        buffers = List.copyOf(buffers);
        views = Collections.unmodifiableMap(new IdentityHashMap<>(views));
        bindings = Map.copyOf(bindings);
    }

    /**
     * The runtime's form of this plan, for {@link dev.kiln.runtime.Interpreter#runInArena}: a slot per
     * buffer (in place when it reuses an operand's bytes; "maybe a view" for a reshape that may or may
     * not copy) and an empty slot per view.
     */
    public ArenaLayout arenaLayout() {
        Map<Value, ArenaLayout.Slot> slots = new IdentityHashMap<>();
        for (Buffer b : buffers) {
            ArenaLayout.Kind kind = b.inPlaceOf != null ? ArenaLayout.Kind.IN_PLACE
                    : ResultStorage.of(b.value.definingOp()) != ResultStorage.NEW ? ArenaLayout.Kind.MAYBE_VIEW
                    : ArenaLayout.Kind.OWN;
            slots.put(b.value, new ArenaLayout.Slot(b.offset, b.size, kind));
        }
        for (Value v : views.keySet()) slots.put(v, new ArenaLayout.Slot(0, 0, ArenaLayout.Kind.VIEW));
        return new ArenaLayout(peakBytes, bindings, slots);
    }

    /** The buffer planned for {@code v}, or null when {@code v} has none (view, input, weight, scalar, region value). */
    public Buffer bufferOf(Value v) {
        for (Buffer b : buffers) if (b.value == v) return b;
        return null;
    }

    /** Number of values that reuse a dying operand's bytes in place. */
    public long inPlaceCount() {
        return buffers.stream().filter(b -> b.inPlaceOf != null).count();
    }

    /** One line: {@code planned peak X KiB vs lower bound Y KiB vs naive Z KiB}. */
    public String summary() {
        return String.format(java.util.Locale.ROOT, "planned peak %s KiB vs lower bound %s KiB vs naive %s KiB (%d tensors, %d in place%s)",
                kib(peakBytes), kib(lowerBound), kib(naiveBytes), buffers.size(), inPlaceCount(),
                views.isEmpty() ? "" : ", " + views.size() + " views");
    }

    private static String kib(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.1f", bytes / 1024.0);
    }
}
