package dev.kiln.passes;

import dev.kiln.ir.Block;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Op;

import java.util.List;
import java.util.function.Predicate;

/**
 * One graph-to-graph transformation, run in place by a {@link PassManager}. A pass must leave a
 * valid graph behind (the manager can verify after each pass) and report whether it changed anything.
 */
public interface Pass {

    /** A short, stable name used in pipelines, dumps and summaries (e.g. {@code dce}). */
    String name();

    /** Transforms {@code graph} in place; returns true when the graph changed. */
    boolean run(Graph graph);

    /**
     * Offers every op of {@code block} and of the regions nested in it to {@code rewrite} (an op's regions before the
     * op), over a snapshot of each block's ops, skipping ops an earlier rewrite erased; whether any rewrite returned
     * true. The sweep most rewriting passes make.
     */
    static boolean rewriteEach(Block block, Predicate<Op> rewrite) {
        boolean changed = false;
        for (Op op : List.copyOf(block.ops())) {
            if (op.parent() != block) continue;   // erased by an earlier rewrite
            for (Block region : op.regions()) changed |= rewriteEach(region, rewrite);
            changed |= rewrite.test(op);
        }
        return changed;
    }
}
