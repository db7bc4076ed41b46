package dev.kiln.frontend.autograd;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The gradient rules of all ops, keyed by registry op name, in one table. An op is either
 * differentiable (it has a rule), declared non-differentiable (comparisons, argmax, ...: outputs
 * never require grad), or unknown here; an unknown op reached by a tensor that requires grad is an
 * error, never a silently missing gradient.
 */
public final class GradTable {

    private static final Map<String, GradRule> RULES = new HashMap<>();
    private static final Set<String> NON_DIFFERENTIABLE = new HashSet<>();

    static {
        BasicGrads.register();
        MathGrads.register();
        ShapeGrads.register();
        NnGrads.register();
    }

    private GradTable() {}

    /** Declares {@code op}'s gradient rule. */
    public static synchronized void rule(String op, GradRule rule) {
        if (RULES.putIfAbsent(op, rule) != null || NON_DIFFERENTIABLE.contains(op)) {
            throw new IllegalStateException("gradient of op '" + op + "' declared twice");
        }
    }

    /** Declares ops whose outputs carry no gradient (their results never require grad). */
    public static synchronized void nonDifferentiable(String... ops) {
        for (String op : ops) {
            if (RULES.containsKey(op) || !NON_DIFFERENTIABLE.add(op)) {
                throw new IllegalStateException("gradient of op '" + op + "' declared twice");
            }
        }
    }

    public static synchronized boolean hasRule(String op) { return RULES.containsKey(op); }

    public static synchronized boolean isNonDifferentiable(String op) { return NON_DIFFERENTIABLE.contains(op); }

    /** The rule of {@code op}, or null if it is declared non-differentiable; throws if it is unknown. */
    static synchronized GradRule lookup(String op) {
        GradRule r = RULES.get(op);
        if (r != null || NON_DIFFERENTIABLE.contains(op)) return r;
        throw new UnsupportedOperationException("autograd: op '" + op + "' has no gradient rule, so it cannot be used on "
                + "tensors that require grad; detach() its inputs or run it under Autograd.noGrad()");
    }
}
