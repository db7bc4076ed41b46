package dev.kiln.passes;

import dev.kiln.ir.Attribute;
import dev.kiln.ir.DType;
import dev.kiln.ir.Dim;
import dev.kiln.ir.Op;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The canonicalization table: one line and one comment per rule, keyed by op name. A rule looks at
 * one op and returns the value that should replace its (single) result, creating new ops through
 * the {@link Rewriter}, or null when it does not apply. {@link Canonicalize} applies the table to a
 * fixed point and rejects (rolls back) any replacement whose type differs from the op's result type,
 * so no rule can change a type; the rules also check the types they rely on themselves.
 */
public final class CanonicalRules {

    /** One rewrite of ops named {@code op}; {@code description} reads like {@code add(x, 0) -> x}. */
    public record Rule(String op, String description, RuleBody body) {}

    @FunctionalInterface
    public interface RuleBody {
        /** The replacement for {@code op.result()}, or null when the rule does not apply. */
        Value apply(Op op, Rewriter rw);
    }

    /** The table, in the order rules are tried for an op. */
    public static final List<Rule> RULES = List.of(
            // x + 0 (either side; 0 of any sign, all elements) is x, when broadcasting does not change x's type
            new Rule("add", "add(x, 0) -> x", (op, rw) -> eitherSide(op, 0)),
            // x - 0 is x, when broadcasting does not change x's type
            new Rule("sub", "sub(x, 0) -> x", (op, rw) -> rightIs(op, 0)),
            // x * 1 (either side, all elements 1) is x, when broadcasting does not change x's type
            new Rule("mul", "mul(x, 1) -> x", (op, rw) -> eitherSide(op, 1)),
            // x / 1 is x, when broadcasting does not change x's type
            new Rule("div", "div(x, 1) -> x", (op, rw) -> rightIs(op, 1)),
            // negation is an involution
            new Rule("neg", "neg(neg(x)) -> x", (op, rw) -> producer(op.operand(0), "neg") instanceof Op inner ? inner.operand(0) : null),
            // a permutation that keeps every dim in place is the identity
            new Rule("permute", "permute(x, identity) -> x", (op, rw) -> isIdentity(perm(op)) ? op.operand(0) : null),
            // two permutes compose into one: result dim i is x dim p[q[i]]
            new Rule("permute", "permute(permute(x, p), q) -> permute(x, p∘q)", CanonicalRules::composePermutes),
            // only the last reshape's target matters
            new Rule("reshape", "reshape(reshape(x, s1), s2) -> reshape(x, s2)", CanonicalRules::collapseReshapes),
            // a reshape whose result type is its operand's type does nothing
            new Rule("reshape", "reshape(x) -> x when the type is unchanged", (op, rw) -> sameType(op) ? op.operand(0) : null),
            // a flatten with a static result is a reshape to that shape (which the reshape rules may then remove)
            new Rule("flatten", "flatten(x) -> reshape(x, static result shape)", CanonicalRules::flattenToReshape),
            // a cast to the dtype x already has does nothing
            new Rule("cast", "cast(x) -> x when the dtype is unchanged", (op, rw) -> sameType(op) ? op.operand(0) : null),
            // values are immutable in the IR, so a copy is the value itself
            new Rule("clone", "clone(x) -> x", (op, rw) -> op.operand(0)));

    /** The rules keyed by op name, each list in table order. */
    public static final Map<String, List<Rule>> BY_OP;

    static {
        Map<String, List<Rule>> m = new LinkedHashMap<>();
        for (Rule r : RULES) m.computeIfAbsent(r.op(), k -> new ArrayList<>()).add(r);
        m.replaceAll((k, v) -> List.copyOf(v));
        BY_OP = Collections.unmodifiableMap(m);
    }

    private CanonicalRules() {}

    // ---- helpers ----

    /** The op defining {@code v} if it is named {@code name}, else null. */
    static Op producer(Value v, String name) {
        Op d = v.definingOp();
        return d != null && d.name().equals(name) ? d : null;
    }

    private static boolean sameType(Op op) { return op.result().type().equals(op.operand(0).type()); }

    /** x when one operand is x and the other a constant whose every element is {@code neutral}, and the result type is x's. */
    private static Value eitherSide(Op op, double neutral) {
        Value r = rightIs(op, neutral);
        if (r != null) return r;
        Value x = op.operand(1);
        return isSplat(op.operand(0), neutral) && op.result().type().equals(x.type()) ? x : null;
    }

    private static Value rightIs(Op op, double neutral) {
        Value x = op.operand(0);
        return isSplat(op.operand(1), neutral) && op.result().type().equals(x.type()) ? x : null;
    }

    /** Whether {@code v} is a constant tensor whose every element equals {@code value} (0 matches both zeros). */
    static boolean isSplat(Value v, double value) {
        Op c = producer(v, "constant");
        if (c == null || !(c.attr("value") instanceof Attribute.Tensor t)) return false;
        if (t.type().dtype() == DType.BOOL) return false;
        for (long i = 0; i < t.numel(); i++) if (t.elementAsDouble(i) != value) return false;
        return true;
    }

    /** The op's permutation with negative entries normalized. */
    private static long[] perm(Op op) {
        long[] p = op.intsAttr("perm");
        for (int i = 0; i < p.length; i++) if (p[i] < 0) p[i] += p.length;
        return p;
    }

    private static boolean isIdentity(long[] p) {
        for (int i = 0; i < p.length; i++) if (p[i] != i) return false;
        return true;
    }

    private static Value composePermutes(Op op, Rewriter rw) {
        Op inner = producer(op.operand(0), "permute");
        if (inner == null) return null;
        long[] p = perm(inner), q = perm(op);
        long[] composed = new long[q.length];
        for (int i = 0; i < q.length; i++) composed[i] = p[(int) q[i]];
        return rw.op("permute", Map.of("perm", new Attribute.Ints(composed)), inner.operand(0));
    }

    private static Value collapseReshapes(Op op, Rewriter rw) {
        Op inner = producer(op.operand(0), "reshape");
        if (inner == null) return null;
        return rw.op("reshape", Map.of("shape", op.attr("shape")), inner.operand(0));
    }

    private static Value flattenToReshape(Op op, Rewriter rw) {
        TensorType t = op.result().tensorType();
        if (!t.shape().isStatic()) return null;
        long[] sizes = t.shape().dims().stream().mapToLong(Dim::size).toArray();
        return rw.op("reshape", Map.of("shape", new Attribute.Ints(sizes)), op.operand(0));
    }
}
