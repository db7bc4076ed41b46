package dev.kiln.passes;

import dev.kiln.ir.Attribute;
import dev.kiln.ir.Builder;
import dev.kiln.ir.Op;
import dev.kiln.ir.Trait;
import dev.kiln.ir.Value;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Creates ops just before the op being rewritten and remembers them, so that a rewrite whose
 * replacement turns out unusable (for example of another type) can be undone with {@link #rollback()}.
 */
public final class Rewriter {

    private final Builder builder;
    private final List<Op> created = new ArrayList<>();

    Rewriter(Op at) { this.builder = Builder.before(at); }

    /** Creates a single-result op (types inferred by the registry) before the rewritten op. */
    public Value op(String name, Map<String, Attribute> attributes, Value... operands) {
        Op op = builder.create(name, List.of(operands), attributes);
        created.add(op);
        return op.result();
    }

    /** Erases every op this rewriter created, newest first. */
    void rollback() {
        for (int i = created.size() - 1; i >= 0; i--) {
            Op op = created.get(i);
            op.parent().erase(op);
        }
        created.clear();
    }

    /**
     * Erases {@code op} if it is pure, has no regions and none of its results is used, then does the
     * same for the ops that defined its operands (local dead-code cleanup after a rewrite).
     */
    static void eraseIfDead(Op op) {
        if (op == null || op.parent() == null || !op.has(Trait.PURE) || !op.regions().isEmpty()) return;
        for (Value r : op.results()) if (r.hasUses()) return;
        List<Op> defs = new ArrayList<>();
        for (Value v : op.operands()) defs.add(v.definingOp());
        op.parent().erase(op);
        for (Op d : defs) eraseIfDead(d);
    }
}
