package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.Trait;

/**
 * Merges {@link Trait#PURE} ops without regions that have the same name, operands, attributes and
 * result types into the first of them; a later op is replaced only by an equivalent that dominates
 * it (earlier in the same block or in an enclosing one), never by one inside a sibling region.
 * Constants are merged too. Ops that are not pure (random draws, side effects) are never merged.
 */
public final class CommonSubexpressionElimination implements Pass {

    @Override
    public String name() { return "cse"; }

    @Override
    public boolean run(Graph graph) {
        boolean changed = false;
        while (ValueNumbering.run(graph.body(), op -> true)) changed = true;
        return changed;
    }
}
