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
 *   <li>views, as the runtime's kernels make them ({@link ResultStorage}): a result that is always a
 *       view of operand 0 ({@code permute}, {@code expand}, {@code slice}, same-dtype {@code cast}),
 *       or a {@code reshape}/{@code flatten} of an operand known to be contiguous (a planned new
 *       tensor, or such a reshape of one), gets no bytes of its own (it is in {@link MemoryPlan#views});
 *       a {@code reshape}/{@code flatten} of anything else may or may not copy, so it gets bytes and
 *       still counts as a view for liveness;</li>
 *   <li>live range = [def step, last use step], where the uses of a tensor's bytes are its own uses
 *       and those of every view of it, transitively; a use inside a region counts at the step of the
 *       top-level op that encloses it; graph outputs live to the last step ({@code return});</li>
 *   <li>in place (optional): the result of an {@code ELEMENTWISE} op reuses the bytes of an operand
 *       that has bytes of its own, dies (with its views) at that op, is not a graph output, has exactly
 *       the result's dtype and shape, and is not viewed by another operand of the op (the kernel reads
 *       each element just before writing the same element, so only same-index reads are safe); each
 *       operand is donated at most once;</li>
 *   <li>offsets: greedy by size: tensors (in-place chains as one) largest first, each at the lowest
 *       offset that overlaps no already placed tensor whose live range intersects its own.</li>
 * </ul>
 *
 * Graph inputs, weights, host scalars and values defined inside regions are not planned; an
 * {@code if}/{@code loop} is one step, and what its regions allocate is not in the plan.
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
        return plan(graph, bindings, inPlace, v -> null);
    }

    /**
     * Plans {@code graph} with the concrete sizes {@code shapes} gives (null for a value whose type and
     * {@code bindings} say it): how code generated for one set of input sizes plans tensors whose types have
     * unknown dims ({@code f32[?, 6]} after size arithmetic), whose sizes it computed from the input sizes.
     */
    public static MemoryPlan plan(Graph graph, Map<String, Long> bindings, boolean inPlace,
                                  java.util.function.Function<Value, long[]> shapes) {
        Block body = graph.body();
        List<Op> ops = body.ops();
        int last = ops.size() - 1;
        Map<Op, Integer> stepOf = new IdentityHashMap<>();
        for (int i = 0; i < ops.size(); i++) stepOf.put(ops.get(i), i);
        Map<Value, Boolean> isOutput = new IdentityHashMap<>();
        for (Value v : graph.outputs()) isOutput.put(v, true);

        // Sizes, own live ranges and aliasing, in program order.
        List<Value> results = new ArrayList<>();
        Map<Value, long[]> info = new IdentityHashMap<>(); // size, def, lastUse (own uses, then with views')
        Map<Value, Value> viewOf = new IdentityHashMap<>(); // any result that may share operand 0's bytes
        Map<Value, Value> views = new IdentityHashMap<>(); // results that surely do: no bytes of their own
        Map<Value, Boolean> contiguous = new IdentityHashMap<>();
        for (int i = 0; i < ops.size(); i++) {
            Op op = ops.get(i);
            for (Value r : op.results()) {
                if (!(r.type() instanceof TensorType tt)) continue;
                long[] concrete = shapes.apply(r);
                long size = concrete != null ? aligned(concrete, tt) : alignedBytes(tt, bindings, r);
                int lastUse = i;
                for (Value.Use u : r.uses()) lastUse = Math.max(lastUse, stepOf.get(topLevel(u.user(), body)));
                if (isOutput.containsKey(r)) lastUse = last;
                results.add(r);
                info.put(r, new long[] {size, i, lastUse});
                ResultStorage storage = ResultStorage.of(op);
                Value src = storage == ResultStorage.NEW ? null : op.operand(0);
                if (src != null) viewOf.put(r, src);
                if (storage == ResultStorage.VIEW || storage == ResultStorage.VIEW_IF_STRIDES_ALLOW && contiguous.containsKey(src)) {
                    views.put(r, src);
                }
                // Kernels return new tensors contiguous; reshape, flatten and cast keep a contiguous layout.
                boolean keepsLayout = op.name().equals("reshape") || op.name().equals("flatten") || op.name().equals("cast");
                if (storage == ResultStorage.NEW || keepsLayout && contiguous.containsKey(src)) contiguous.put(r, true);
            }
        }
        // A tensor's bytes live as long as any view of it (views come later, so walk backwards).
        for (int k = results.size() - 1; k >= 0; k--) {
            Value r = results.get(k);
            Value src = viewOf.get(r);
            if (src != null && info.containsKey(src)) info.get(src)[2] = Math.max(info.get(src)[2], info.get(r)[2]);
        }
        List<Value> values = results.stream().filter(v -> !views.containsKey(v)).toList();

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
                    if (xi == null || views.containsKey(x) || donor.containsValue(x) || isOutput.containsKey(x)) continue;
                    if (xi[2] != vi[1] || xi[0] != vi[0]) continue;
                    if (!x.type().equals(v.type())) continue;
                    if (viewedByAnotherOperand(def, x, viewOf)) continue;
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
        return new MemoryPlan(buffers, views, bindings, peak, lower, naive, ops.size());
    }

    /** Whether an operand of {@code op} other than {@code x} itself is a view of {@code x}, directly or through views. */
    static boolean viewedByAnotherOperand(Op op, Value x, Map<Value, Value> viewOf) {
        for (Value o : op.operands()) {
            if (o == x) continue;
            for (Value v = viewOf.get(o); v != null; v = viewOf.get(v)) if (v == x) return true;
        }
        return false;
    }

    /** One line: {@code planned peak X KiB vs lower bound Y KiB vs naive Z KiB}, for {@code graph} planned with in-place reuse. */
    public static String report(Graph graph, Map<String, Long> bindings) {
        return graph.name() + ": " + plan(graph, bindings).summary();
    }

    /** {@code numel * dtype size} of {@code type}, rounded up to {@link #ALIGNMENT}. */
    private static long aligned(long[] shape, TensorType type) {
        long numel = 1;
        for (long d : shape) numel = Math.multiplyExact(numel, d);
        long bytes = Math.multiplyExact(numel, (long) type.dtype().byteSize());
        return (bytes + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

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
