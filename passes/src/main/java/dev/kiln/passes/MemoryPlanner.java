package dev.kiln.passes;

import dev.kiln.ir.Block;
import dev.kiln.ir.Dim;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Op;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Trait;
import dev.kiln.ir.Value;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Static memory planning (an analysis; the graph is not changed). Over the top-level block's op
 * schedule (program order, one step per op, an {@code if}/{@code loop} being one step whose results
 * appear at that step), every tensor result of a top-level op gets a size and a live range, and an
 * offset in one arena:
 *
 * <ul>
 *   <li>size = numel * dtype size, rounded up to {@value #ALIGNMENT} bytes; symbolic dims take their
 *       size from the bindings, an unknown ({@code ?}) or unbound dim is an error;</li>
 *   <li>live range = [def step, last use step]; a use inside a region counts at the step of the
 *       top-level op that encloses it; graph outputs live to the last step ({@code return});</li>
 *   <li>in place (optional): the result of an {@code ELEMENTWISE} op reuses the bytes of an operand
 *       that is planned, dies at that op, is not a graph output, and has exactly the result's dtype
 *       and shape; each operand is donated at most once;</li>
 *   <li>offsets: greedy by size: tensors (in-place chains as one) largest first, each at the lowest
 *       offset that overlaps no already placed tensor whose live range intersects its own.</li>
 * </ul>
 *
 * Graph inputs, weights, host scalars and values defined inside regions are not planned.
 */
public final class MemoryPlanner {

    /** Byte alignment of every planned size and offset. */
    public static final long ALIGNMENT = 64;

    private MemoryPlanner() {}

    /** Plans {@code graph} with in-place reuse allowed. */
    public static MemoryPlan plan(Graph graph, Map<String, Long> bindings) {
        return plan(graph, bindings, true);
    }

    /** Plans {@code graph}; {@code inPlace} enables in-place reuse for elementwise ops. */
    public static MemoryPlan plan(Graph graph, Map<String, Long> bindings, boolean inPlace) {
        Block body = graph.body();
        List<Op> ops = body.ops();
        int last = ops.size() - 1;
        Map<Op, Integer> stepOf = new IdentityHashMap<>();
        for (int i = 0; i < ops.size(); i++) stepOf.put(ops.get(i), i);
        Map<Value, Boolean> isOutput = new IdentityHashMap<>();
        for (Value v : graph.outputs()) isOutput.put(v, true);

        // Sizes and live ranges, in program order.
        List<Value> values = new ArrayList<>();
        Map<Value, long[]> info = new IdentityHashMap<>(); // size, def, lastUse
        for (int i = 0; i < ops.size(); i++) {
            for (Value r : ops.get(i).results()) {
                if (!(r.type() instanceof TensorType tt)) continue;
                long size = alignedBytes(tt, bindings, r);
                int lastUse = i;
                for (Value.Use u : r.uses()) lastUse = Math.max(lastUse, stepOf.get(topLevel(u.user(), body)));
                if (isOutput.containsKey(r)) lastUse = last;
                values.add(r);
                info.put(r, new long[] {size, i, lastUse});
            }
        }

        // In-place chains: a group shares one offset; its live range is the union of its members'.
        Map<Value, Value> donor = new IdentityHashMap<>();
        Map<Value, Group> group = new IdentityHashMap<>();
        List<Group> groups = new ArrayList<>();
        for (Value v : values) {
            long[] vi = info.get(v);
            Op def = v.definingOp();
            Value taken = null;
            if (inPlace && def.has(Trait.ELEMENTWISE) && def.results().size() == 1 && def.regions().isEmpty()) {
                for (Value x : def.operands()) {
                    long[] xi = info.get(x);
                    if (xi == null || donor.containsValue(x) || isOutput.containsKey(x)) continue;
                    if (xi[2] != vi[1] || xi[0] != vi[0]) continue;
                    if (!x.type().equals(v.type())) continue;
                    taken = x;
                    break;
                }
            }
            if (taken != null) {
                donor.put(v, taken);
                Group g = group.get(taken);
                g.lastUse = Math.max(g.lastUse, (int) vi[2]);
                group.put(v, g);
            } else {
                Group g = new Group(vi[0], (int) vi[1], (int) vi[2]);
                groups.add(g);
                group.put(v, g);
            }
        }

        // Greedy by size.
        List<Group> order = new ArrayList<>(groups);
        order.sort(Comparator.comparingLong((Group g) -> -g.size).thenComparingInt(g -> g.def));
        List<Group> placed = new ArrayList<>();
        long peak = 0;
        for (Group g : order) {
            List<Group> conflicts = new ArrayList<>();
            for (Group p : placed) if (p.size > 0 && p.def <= g.lastUse && g.def <= p.lastUse) conflicts.add(p);
            conflicts.sort(Comparator.comparingLong(p -> p.offset));
            long candidate = 0;
            if (g.size > 0) {
                for (Group p : conflicts) {
                    if (candidate + g.size <= p.offset) break;
                    candidate = Math.max(candidate, p.offset + p.size);
                }
            }
            g.offset = candidate;
            placed.add(g);
            peak = Math.max(peak, candidate + g.size);
        }

        // Lower bound: bytes live per step, each group counted once.
        long lower = 0;
        for (int t = 0; t <= last; t++) {
            long live = 0;
            for (Group g : groups) if (g.def <= t && t <= g.lastUse) live += g.size;
            lower = Math.max(lower, live);
        }

        List<MemoryPlan.Buffer> buffers = new ArrayList<>();
        long naive = 0;
        for (Value v : values) {
            long[] vi = info.get(v);
            naive += vi[0];
            buffers.add(new MemoryPlan.Buffer(v, group.get(v).offset, vi[0], (int) vi[1], (int) vi[2], donor.get(v)));
        }
        return new MemoryPlan(buffers, peak, lower, naive, ops.size());
    }

    /** One line: {@code planned peak X KiB vs lower bound Y KiB vs naive Z KiB}, for {@code graph} planned with in-place reuse. */
    public static String report(Graph graph, Map<String, Long> bindings) {
        return graph.name() + ": " + plan(graph, bindings).summary();
    }

    /** {@code numel * dtype size} of {@code type}, rounded up to {@link #ALIGNMENT}. */
    static long alignedBytes(TensorType type, Map<String, Long> bindings, Value forValue) {
        long numel = 1;
        for (Dim d : type.shape().dims()) {
            long size = switch (d) {
                case Dim.Static s -> s.size();
                case Dim.Symbolic s -> {
                    Long bound = bindings.get(s.name());
                    if (bound == null) {
                        throw new IllegalArgumentException("memory plan: " + forValue + " : " + type + " has symbolic dim "
                                + s.name() + " with no size bound (bindings " + bindings + ")");
                    }
                    yield bound;
                }
                case Dim.Unknown u -> throw new IllegalArgumentException("memory plan: " + forValue + " : " + type
                        + " has an unknown dim; only static and bound symbolic shapes can be planned");
            };
            numel = Math.multiplyExact(numel, size);
        }
        long bytes = Math.multiplyExact(numel, (long) type.dtype().byteSize());
        return (bytes + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    /** The op of {@code body} that is, or (through regions) encloses, {@code op}. */
    private static Op topLevel(Op op, Block body) {
        Op cur = op;
        while (cur.parent() != body) {
            Block b = cur.parent();
            if (b == null || b.parentOp() == null) throw new IllegalStateException("memory plan: op " + op + " is not inside the graph body");
            cur = b.parentOp();
        }
        return cur;
    }

    private static final class Group {
        final long size;
        final int def;
        int lastUse;
        long offset;

        Group(long size, int def, int lastUse) {
            this.size = size;
            this.def = def;
            this.lastUse = lastUse;
        }
    }
}
