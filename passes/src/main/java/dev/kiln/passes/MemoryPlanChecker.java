package dev.kiln.passes;

import dev.kiln.ir.Block;
import dev.kiln.ir.Dim;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Op;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Trait;
import dev.kiln.ir.Value;
import dev.kiln.runtime.ResultStorage;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks a {@link MemoryPlan} against its graph without trusting the planner's liveness: sizes and
 * live ranges are recomputed here (by scanning operands, regions included, step by step; a tensor's
 * bytes stay live while any result that may view it, by the runtime's {@link ResultStorage}, is
 * live), then
 *
 * <ul>
 *   <li>every tensor result of a top-level op is planned exactly once, either as a view of operand 0
 *       of an op that can return views, or with at least its true size, an aligned offset and a live
 *       range covering its true one;</li>
 *   <li>no two tensors live at the same step share a byte, except an in-place pair: the output of an
 *       {@code ELEMENTWISE} op and an operand of that op whose bytes die at that op and that no other
 *       operand views, at the same offset and size;</li>
 *   <li>{@code peakBytes} is at least every {@code offset + size} and at least the recomputed lower
 *       bound, and {@code lowerBound <= peakBytes <= naiveBytes}.</li>
 * </ul>
 */
public final class MemoryPlanChecker {

    private MemoryPlanChecker() {}

    /** Throws {@link IllegalStateException} naming the values involved when the plan is unsound. */
    public static void check(Graph graph, Map<String, Long> bindings, MemoryPlan plan) {
        List<Op> ops = graph.body().ops();
        int last = ops.size() - 1;
        Map<Value, Integer> def = new IdentityHashMap<>();
        Map<Value, Integer> lastUse = new IdentityHashMap<>();
        Map<Value, Value> viewOf = new IdentityHashMap<>();
        List<Value> results = new ArrayList<>();
        for (int i = 0; i < ops.size(); i++) {
            Op op = ops.get(i);
            List<Value> used = new ArrayList<>();
            collectOperands(op, used);
            for (Value v : used) lastUse.put(v, i);
            for (Value r : op.results()) {
                if (!(r.type() instanceof TensorType)) continue;
                def.put(r, i);
                results.add(r);
                if (ResultStorage.of(op) != ResultStorage.NEW) viewOf.put(r, op.operand(0));
            }
        }
        for (Value out : graph.outputs()) lastUse.put(out, last);
        for (int k = results.size() - 1; k >= 0; k--) {
            Value r = results.get(k), src = viewOf.get(r);
            if (src == null || !def.containsKey(src)) continue;
            int through = Math.max(def.get(r), lastUse.getOrDefault(r, -1));
            lastUse.put(src, Math.max(lastUse.getOrDefault(src, -1), through));
        }

        Map<Value, MemoryPlan.Buffer> byValue = new IdentityHashMap<>();
        for (MemoryPlan.Buffer b : plan.buffers()) {
            if (byValue.put(b.value(), b) != null) fail("value " + b.value() + " is planned twice");
            Integer d = def.get(b.value());
            if (d == null) fail("value " + b.value() + " is planned but is not a tensor result of a top-level op");
        }
        for (var e : plan.views().entrySet()) {
            Value v = e.getKey();
            if (!def.containsKey(v)) fail("value " + v + " is planned as a view but is not a tensor result of a top-level op");
            if (byValue.containsKey(v)) fail("value " + v + " is planned both as a view and with bytes of its own");
            Op op = v.definingOp();
            if (ResultStorage.of(op) == ResultStorage.NEW) fail(v + " is planned as a view but " + op.name() + " returns new storage");
            if (e.getValue() != op.operand(0)) fail(v + " is planned as a view of " + e.getValue() + ", not of its operand " + op.operand(0));
        }
        long naive = 0;
        for (var e : def.entrySet()) {
            Value v = e.getKey();
            if (plan.views().containsKey(v)) continue;
            MemoryPlan.Buffer b = byValue.get(v);
            if (b == null) fail("tensor " + v + " (step " + e.getValue() + ") has no planned buffer");
            long need = bytes(v.tensorType(), bindings);
            if (b.size() < need) fail(v + " needs " + need + " bytes but is planned " + b.size());
            if (b.offset() < 0 || b.offset() % MemoryPlanner.ALIGNMENT != 0) fail(v + " has a misaligned offset " + b.offset());
            int d = e.getValue();
            int u = Math.max(d, lastUse.getOrDefault(v, d));
            if (b.defStep() > d || b.lastUse() < u) {
                fail(v + " is live over [" + d + ", " + u + "] but planned only over [" + b.defStep() + ", " + b.lastUse() + "]");
            }
            if (b.offset() + b.size() > plan.peakBytes()) fail(v + " ends at " + (b.offset() + b.size()) + ", past peak " + plan.peakBytes());
            naive += b.size();
        }

        List<MemoryPlan.Buffer> bs = plan.buffers();
        for (int i = 0; i < bs.size(); i++) {
            for (int j = i + 1; j < bs.size(); j++) {
                MemoryPlan.Buffer a = bs.get(i), b = bs.get(j);
                if (!a.liveTogether(b) || !a.bytesOverlap(b)) continue;
                if (isInPlacePair(a, b, lastUse, viewOf) || isInPlacePair(b, a, lastUse, viewOf)) continue;
                fail(a.value() + " (" + a + ") and " + b.value() + " (" + b + ") are live together and overlap in bytes");
            }
        }

        // Lower bound from the plan's sharing: bytes of distinct (offset, size) slots live at each step.
        long lower = 0;
        for (int t = 0; t <= last; t++) {
            long live = 0;
            List<MemoryPlan.Buffer> counted = new ArrayList<>();
            for (MemoryPlan.Buffer b : bs) {
                if (b.defStep() > t || t > b.lastUse()) continue;
                boolean shared = false;
                for (MemoryPlan.Buffer c : counted) {
                    if (isInPlacePair(c, b, lastUse, viewOf) || isInPlacePair(b, c, lastUse, viewOf)) shared = true;
                }
                if (!shared) live += b.size();
                counted.add(b);
            }
            lower = Math.max(lower, live);
        }
        if (plan.peakBytes() < lower) fail("peak " + plan.peakBytes() + " is below the lower bound " + lower);
        if (plan.lowerBound() != lower) fail("plan reports lower bound " + plan.lowerBound() + " but the checker finds " + lower);
        if (plan.naiveBytes() != naive) fail("plan reports naive " + plan.naiveBytes() + " but sizes sum to " + naive);
        if (plan.peakBytes() > plan.naiveBytes()) fail("peak " + plan.peakBytes() + " exceeds naive " + plan.naiveBytes());
    }

    /**
     * {@code out} reuses {@code in}'s bytes legitimately: declared, elementwise, same slot, {@code in}'s
     * bytes die at out's op, and no other operand of the op views them.
     */
    private static boolean isInPlacePair(MemoryPlan.Buffer in, MemoryPlan.Buffer out, Map<Value, Integer> lastUse,
                                         Map<Value, Value> viewOf) {
        if (out.inPlaceOf() != in.value()) return false;
        Op op = out.value().definingOp();
        return op.has(Trait.ELEMENTWISE) && op.operands().contains(in.value())
                && !MemoryPlanner.viewedByAnotherOperand(op, in.value(), viewOf)
                && in.offset() == out.offset() && in.size() == out.size()
                && in.lastUse() == out.defStep() && lastUse.getOrDefault(in.value(), -1) == out.defStep();
    }

    private static void collectOperands(Op op, List<Value> into) {
        into.addAll(op.operands());
        for (Block region : op.regions()) for (Op inner : region.ops()) collectOperands(inner, into);
    }

    private static long bytes(TensorType t, Map<String, Long> bindings) {
        long n = t.dtype().byteSize();
        for (Dim d : t.shape().dims()) {
            if (d instanceof Dim.Symbolic s && bindings.containsKey(s.name())) n *= bindings.get(s.name());
            else n *= d.size();
        }
        return n;
    }

    private static void fail(String message) {
        throw new IllegalStateException("memory plan check: " + message);
    }
}
