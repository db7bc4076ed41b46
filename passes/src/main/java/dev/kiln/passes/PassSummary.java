package dev.kiln.passes;

import java.time.Duration;

/**
 * What one pass did in a pipeline run: whether it changed the graph, the op counts before and
 * after (every op, nested regions and terminators included), and how long it took.
 */
public record PassSummary(String pass, boolean changed, int opsBefore, int opsAfter, Duration time) {

    @Override
    public String toString() {
        return String.format("%-12s %s ops %d -> %d  %.3f ms", pass, changed ? "changed  " : "unchanged",
                opsBefore, opsAfter, time.toNanos() / 1e6);
    }
}
