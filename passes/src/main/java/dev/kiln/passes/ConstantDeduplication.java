package dev.kiln.passes;

import dev.kiln.ir.Graph;

/**
 * Merges {@code constant} ops with equal values (same type and bytes, or the same host scalar) into
 * the first one that dominates them; ops other than constants are left alone (that is
 * {@link CommonSubexpressionElimination}'s job).
 */
public final class ConstantDeduplication implements Pass {

    @Override
    public String name() { return "dedupe-constants"; }

    @Override
    public boolean run(Graph graph) {
        return ValueNumbering.run(graph.body(), op -> op.name().equals("constant"));
    }
}
