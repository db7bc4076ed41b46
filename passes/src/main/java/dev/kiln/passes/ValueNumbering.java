package dev.kiln.passes;

import dev.kiln.ir.AttrSpec;
import dev.kiln.ir.Attribute;
import dev.kiln.ir.Block;
import dev.kiln.ir.Op;
import dev.kiln.ir.Trait;
import dev.kiln.ir.Type;
import dev.kiln.ir.Value;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Dominance-scoped value numbering shared by {@link CommonSubexpressionElimination} and
 * {@link ConstantDeduplication}: walks each block in order, and each op's regions with a scope
 * nested in the enclosing block's, so an op is only ever replaced by an equivalent that comes
 * earlier in its own block or in an enclosing one (that is, one that dominates it). Two ops are
 * equivalent when they have the same name, the same operand values (in any order for a two-operand
 * {@link Trait#COMMUTATIVE} op), equal attributes (absent ones read as their schema default) and
 * equal result types.
 */
final class ValueNumbering {

    /** What identifies an op's results up to equivalence. */
    private record Key(String name, List<Value> operands, Map<String, Attribute> attributes, List<Type> types) {}

    private final Predicate<Op> candidate;
    private boolean changed;

    private ValueNumbering(Predicate<Op> candidate) { this.candidate = candidate; }

    /** Merges equivalent ops among those {@code candidate} accepts (they must be pure and region-free); true if any merged. */
    static boolean run(Block body, Predicate<Op> candidate) {
        ValueNumbering vn = new ValueNumbering(candidate);
        vn.walk(body, new HashMap<>());
        return vn.changed;
    }

    private void walk(Block block, Map<Key, Op> outer) {
        Map<Key, Op> scope = new HashMap<>(outer);
        for (Op op : new ArrayList<>(block.ops())) {
            for (Block region : op.regions()) walk(region, scope);
            if (!op.has(Trait.PURE) || !op.regions().isEmpty() || op.results().isEmpty() || !candidate.test(op)) continue;
            Key key = key(op);
            Op earlier = scope.get(key);
            if (earlier == null) {
                scope.put(key, op);
                continue;
            }
            for (int i = 0; i < op.results().size(); i++) op.results().get(i).replaceAllUsesWith(earlier.results().get(i));
            block.erase(op);
            changed = true;
        }
    }

    private static Key key(Op op) {
        List<Value> operands = op.operands();
        if (op.has(Trait.COMMUTATIVE) && operands.size() == 2
                && System.identityHashCode(operands.get(0)) > System.identityHashCode(operands.get(1))) {
            operands = List.of(operands.get(1), operands.get(0));
        }
        Map<String, Attribute> attrs = new LinkedHashMap<>();
        for (AttrSpec spec : op.schema().attributes()) {
            if (op.attributes().containsKey(spec.name()) || spec.defaultValue() != null) attrs.put(spec.name(), op.attr(spec.name()));
        }
        attrs.putAll(op.attributes());
        return new Key(op.name(), List.copyOf(operands), attrs, op.results().stream().map(Value::type).toList());
    }
}
