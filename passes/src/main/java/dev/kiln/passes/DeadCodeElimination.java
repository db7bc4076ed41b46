package dev.kiln.passes;

import dev.kiln.ir.Block;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Op;
import dev.kiln.ir.Trait;
import dev.kiln.ir.Value;

import java.util.List;

/**
 * Removes ops whose results are all unused and that have no side effects: ops with the
 * {@link Trait#PURE} trait, and ops with regions (such as {@code if} and {@code loop}) whose regions
 * hold only such ops and terminators. Works inside regions too and repeats until nothing changes.
 * Terminators and ops that are not pure are never removed; weights and block arguments are left alone.
 */
public final class DeadCodeElimination implements Pass {

    @Override
    public String name() { return "dce"; }

    @Override
    public boolean run(Graph graph) {
        boolean changed = false;
        while (sweep(graph.body())) changed = true;
        return changed;
    }

    /** One backwards pass over a block and, first, the regions of each op; true if anything was erased. */
    private static boolean sweep(Block block) {
        boolean changed = false;
        List<Op> ops = block.ops();
        for (int i = ops.size() - 1; i >= 0; i--) {
            Op op = ops.get(i);
            for (Block region : op.regions()) changed |= sweep(region);
            if (isDead(op)) {
                block.erase(op);
                changed = true;
            }
        }
        return changed;
    }

    private static boolean isDead(Op op) {
        if (op.has(Trait.TERMINATOR)) return false;
        for (Value r : op.results()) if (r.hasUses()) return false;
        return isSideEffectFree(op);
    }

    /** Pure, or an op with regions whose every op is a terminator or itself side-effect free. */
    private static boolean isSideEffectFree(Op op) {
        if (op.has(Trait.PURE)) return true;
        if (!op.has(Trait.HAS_REGIONS)) return false;
        for (Block region : op.regions()) {
            for (Op inner : region.ops()) {
                if (!inner.has(Trait.TERMINATOR) && !isSideEffectFree(inner)) return false;
            }
        }
        return true;
    }
}
