package dev.kiln.ir;

import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The names values get in the text form, shared by the printer and the verifier's messages: a
 * value keeps its name hint when that is an identifier not yet taken in the graph, and is numbered
 * {@code 0, 1, ...} in definition (text) order otherwise. Weights are named by their weight name.
 */
final class ValueNames {

    static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    /** Weight names printed bare after {@code @}; others are quoted. */
    static final Pattern BARE_SYMBOL = Pattern.compile("[A-Za-z0-9_.]+");

    private final Map<Value, String> names = new IdentityHashMap<>();
    private final Map<Value, String> weightNames = new IdentityHashMap<>();
    private final Set<String> taken = new HashSet<>();
    private int next;

    private ValueNames() {}

    /** Names every value defined in {@code graph}, walking it in text order. */
    static ValueNames of(Graph graph) {
        ValueNames n = new ValueNames();
        graph.weights().forEach((name, v) -> n.weightNames.put(v, name));
        n.block(graph.body());
        return n;
    }

    private void block(Block block) {
        for (Value a : block.arguments()) define(a);
        for (Op op : block.ops()) {
            for (Value r : op.results()) define(r);
            for (Block region : op.regions()) block(region);
        }
    }

    private void define(Value v) {
        if (names.containsKey(v)) return;
        String hint = v.name();
        if (hint != null && IDENTIFIER.matcher(hint).matches() && taken.add(hint)) {
            names.put(v, hint);
        } else {
            names.put(v, Integer.toString(next++));
        }
    }

    /**
     * The printed reference: {@code %name} or {@code @weight}. A value the graph does not define (only
     * in a broken graph) gets the next free number so that printing never fails.
     */
    String ref(Value v) {
        if (v.kind() == Value.Kind.WEIGHT) return "@" + symbol(weightNames.getOrDefault(v, v.name()));
        define(v);
        return "%" + names.get(v);
    }

    /** {@code @name}, quoted when the name has characters outside {@code [A-Za-z0-9_.]}. */
    static String symbol(String name) {
        return BARE_SYMBOL.matcher(name).matches() ? name : AttrText.quote(name);
    }
}
