package dev.kiln.passes;

import dev.kiln.ir.Value;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * A static memory plan for the top-level block of a graph, made by {@link MemoryPlanner}: every tensor
 * produced by a top-level op gets a byte range {@code [offset, offset + size)} in one arena of
 * {@link #peakBytes()} bytes, valid over its live range of op steps.
 *
 * @param buffers    one entry per planned value, in program order
 * @param peakBytes  the arena size: the largest {@code offset + size}
 * @param lowerBound the most bytes live at any one step (an in-place pair counted once); no plan with
 *                   the same live ranges and in-place decisions can use less
 * @param naiveBytes the sum of all sizes, i.e. the memory used with no reuse at all
 * @param steps      the number of steps (ops of the top-level block, {@code return} included)
 */
public record MemoryPlan(List<Buffer> buffers, long peakBytes, long lowerBound, long naiveBytes, int steps) {

    /**
     * One planned tensor.
     *
     * @param value     the planned value (a result of a top-level op)
     * @param offset    byte offset in the arena, a multiple of {@link MemoryPlanner#ALIGNMENT}
     * @param size      bytes reserved: {@code numel * dtype size}, rounded up to the alignment
     * @param defStep   index (in the top-level block) of the op that produces the value
     * @param lastUse   index of the last top-level op that uses it (a use inside a region counts at
     *                  the step of the enclosing top-level op); graph outputs live to the last step;
     *                  a value nobody uses lives at its def step only
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
    }

    /** The buffer planned for {@code v}, or null when {@code v} is not planned (input, weight, scalar, region value). */
    public Buffer bufferOf(Value v) {
        for (Buffer b : buffers) if (b.value == v) return b;
        return null;
    }

    /** Planned offsets by value, for a planned executor. */
    public Map<Value, Long> offsets() {
        Map<Value, Long> out = new IdentityHashMap<>();
        for (Buffer b : buffers) out.put(b.value, b.offset);
        return out;
    }

    /** Number of values that reuse a dying operand's bytes in place. */
    public long inPlaceCount() {
        return buffers.stream().filter(b -> b.inPlaceOf != null).count();
    }

    /** One line: {@code planned peak X KiB vs lower bound Y KiB vs naive Z KiB}. */
    public String summary() {
        return String.format(java.util.Locale.ROOT, "planned peak %s KiB vs lower bound %s KiB vs naive %s KiB (%d tensors, %d in place)",
                kib(peakBytes), kib(lowerBound), kib(naiveBytes), buffers.size(), inPlaceCount());
    }

    private static String kib(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.1f", bytes / 1024.0);
    }
}
