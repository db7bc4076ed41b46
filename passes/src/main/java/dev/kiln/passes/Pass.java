package dev.kiln.passes;

import dev.kiln.ir.Graph;

/**
 * One graph-to-graph transformation, run in place by a {@link PassManager}. A pass must leave a
 * valid graph behind (the manager can verify after each pass) and report whether it changed anything.
 */
public interface Pass {

    /** A short, stable name used in pipelines, dumps and summaries (e.g. {@code dce}). */
    String name();

    /** Transforms {@code graph} in place; returns true when the graph changed. */
    boolean run(Graph graph);
}
