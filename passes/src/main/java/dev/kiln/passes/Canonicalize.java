package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.Op;
import dev.kiln.ir.Value;

import java.util.List;

/**
 * Applies the {@link CanonicalRules} table to every single-result op, in regions too, until no rule
 * fires. A replacement is accepted only when its type equals the op's result type; otherwise the
 * ops the rule created are erased again. The rewritten op, and the pure ops that only fed it, are
 * erased when nothing uses them any more.
 */
public final class Canonicalize implements Pass {

    /** Safety bound on sweeps; each sweep that changes something makes progress, so this is never reached in practice. */
    private static final int MAX_SWEEPS = 1000;

    @Override
    public String name() { return "canonicalize"; }

    @Override
    public boolean run(Graph graph) {
        boolean changed = false;
        for (int i = 0; i < MAX_SWEEPS && Pass.rewriteEach(graph.body(), Canonicalize::rewrite); i++) changed = true;
        return changed;
    }

    /** Tries the op's rules in table order; true when one replaced the op's result. */
    private static boolean rewrite(Op op) {
        List<CanonicalRules.Rule> rules = CanonicalRules.BY_OP.get(op.name());
        if (rules == null || op.results().size() != 1) return false;
        Value result = op.result();
        for (CanonicalRules.Rule rule : rules) {
            Rewriter rw = new Rewriter(op);
            Value replacement = rule.body().apply(op, rw);
            if (replacement == null || replacement == result) {
                rw.rollback();
                continue;
            }
            if (!replacement.type().equals(result.type())) { // a rule must never change a type
                rw.rollback();
                continue;
            }
            result.replaceAllUsesWith(replacement);
            Rewriter.eraseIfDead(op);
            return true;
        }
        return false;
    }
}
