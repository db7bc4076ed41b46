package dev.kiln.passes;

import dev.kiln.ir.Block;
import dev.kiln.ir.Builder;
import dev.kiln.ir.Dim;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Op;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Trait;
import dev.kiln.ir.Value;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Groups trees of elementwise ops into one {@code fused_elementwise} op. An op joins a group when it has the
 * {@link Trait#ELEMENTWISE} and {@link Trait#PURE} traits, one tensor result, and every use of that result is an
 * op of the group in the same block (diamonds inside a group are fine); broadcasting is allowed (each op keeps its
 * own operand shapes inside the region). A group grows backwards from its root (the op whose result leaves the
 * group), so a value used twice is never recomputed: it becomes an input of the group instead. Groups of one op
 * are left alone.
 *
 * <p><b>Trailing reduction.</b> A {@link Trait#REDUCTION} op ({@code sum}, {@code mean}, {@code amax}, {@code argmax},
 * ...) whose operand is produced by a fusable op used by nothing else is the root of a group: the group's elementwise
 * ops then feed the reduction inside the region, and the full-size intermediate is never materialised. This pays
 * whenever the reduction really reduces, so that is the rule: the reduction's result must have fewer elements than
 * its operand (fewer static elements, or fewer symbolic/unknown dims). A reduction over size-1 axes (or nothing)
 * does not join; its producer forms an ordinary group instead. A single elementwise op before a real reduction is
 * worth fusing ({@code sum(mul(x, y))} never writes {@code x * y}), so such a pair forms a group of two.
 *
 * <p>The fused op's operands are the group's external inputs in order of first use; its region takes one
 * argument per input, holds copies of the group's ops in their original order, and yields the root's value.
 * The interpreter runs the region with the ops' own kernels, so results are identical to the unfused graph.
 * Works inside {@code if}/{@code loop} regions too; fused regions are not entered (a second run changes nothing).
 */
public final class FuseElementwise implements Pass {

    /** One fused group: the graph, the ops in it (in order, root last) and how many inputs it takes. */
    public record Group(String graph, List<String> ops, int inputs, TensorType result) {
        @Override
        public String toString() {
            return "@" + graph + ": fused_elementwise[" + String.join(", ", ops) + "] (" + inputs + " inputs) -> " + result;
        }
    }

    private final List<Group> groups = new ArrayList<>();

    @Override
    public String name() { return "fuse-elementwise"; }

    /** The groups formed by every run of this instance so far, in the order they were formed. */
    public List<Group> groups() { return Collections.unmodifiableList(groups); }

    @Override
    public boolean run(Graph graph) { return runBlock(graph, graph.body()); }

    private boolean runBlock(Graph graph, Block block) {
        boolean changed = false;
        for (Op op : List.copyOf(block.ops())) {
            if (op.parent() == block && !op.name().equals("fused_elementwise")) {
                for (Block region : op.regions()) changed |= runBlock(graph, region);
            }
        }
        List<Op> ops = block.ops();
        for (int i = ops.size() - 1; i >= 0; i--) {
            if (i >= ops.size()) continue;
            Op root = ops.get(i);
            if (!fusable(root) && !trailingReduction(root)) continue;
            List<Op> group = grow(root);
            if (group.size() < 2) continue;
            fuse(graph, block, group);
            changed = true;
            i = Math.min(i, ops.size()); // the group's ops were replaced by one op at the root's position
        }
        return changed;
    }

    static boolean fusable(Op op) {
        return op.has(Trait.ELEMENTWISE) && op.has(Trait.PURE) && op.regions().isEmpty()
                && op.results().size() == 1 && op.result().type() instanceof TensorType;
    }

    /** A reduction that really reduces a value only it uses, produced by a fusable op of the same block. */
    static boolean trailingReduction(Op op) {
        if (!op.has(Trait.REDUCTION) || !op.has(Trait.PURE) || !op.regions().isEmpty() || op.operandCount() != 1
                || op.results().size() != 1 || !(op.result().type() instanceof TensorType out)) {
            return false;
        }
        Value in = op.operand(0);
        Op def = in.definingOp();
        if (def == null || def.parent() != op.parent() || !fusable(def) || in.uses().size() != 1) return false;
        return reduces(in.tensorType(), out);
    }

    /** Whether {@code out} has fewer elements than {@code in}: a smaller static product, or fewer non-static dims. */
    private static boolean reduces(TensorType in, TensorType out) {
        return staticNumel(in) > staticNumel(out) || nonStaticDims(in) > nonStaticDims(out);
    }

    private static long staticNumel(TensorType t) {
        long n = 1;
        for (Dim d : t.shape().dims()) if (d.isStatic()) n *= d.size();
        return n;
    }

    private static long nonStaticDims(TensorType t) {
        return t.shape().dims().stream().filter(d -> !d.isStatic()).count();
    }

    /** The root and every producer reachable through single-use fusable results, in block order. */
    private static List<Op> grow(Op root) {
        Set<Op> members = Collections.newSetFromMap(new IdentityHashMap<>());
        members.add(root);
        List<Op> work = new ArrayList<>(List.of(root));
        while (!work.isEmpty()) {
            Op op = work.removeLast();
            for (Value v : op.operands()) {
                Op def = v.definingOp();
                if (def == null || def.parent() != root.parent() || members.contains(def) || !fusable(def)) continue;
                if (def.result() != v || !v.uses().stream().allMatch(u -> members.contains(u.user()))) continue;
                members.add(def);
                work.add(def);
            }
        }
        List<Op> ordered = new ArrayList<>();
        for (Op op : root.parent().ops()) if (members.contains(op)) ordered.add(op);
        return ordered;
    }

    private void fuse(Graph graph, Block block, List<Op> group) {
        Op root = group.getLast();
        Set<Op> members = Collections.newSetFromMap(new IdentityHashMap<>());
        members.addAll(group);
        List<Value> inputs = new ArrayList<>();
        Set<Value> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Op op : group) {
            for (Value v : op.operands()) {
                if ((v.definingOp() == null || !members.contains(v.definingOp())) && seen.add(v)) inputs.add(v);
            }
        }
        Op fused = Builder.before(root).createWithResultTypes("fused_elementwise", inputs, Map.of(), List.of(root.result().type()));
        Block body = fused.region(0);
        Map<Value, Value> mapped = new IdentityHashMap<>();
        for (Value in : inputs) mapped.put(in, body.addArgument(in.type(), null));
        Builder b = Builder.atEnd(body);
        List<String> names = new ArrayList<>();
        for (Op op : group) {
            List<Value> operands = op.operands().stream().map(mapped::get).toList();
            Op copy = b.create(op.name(), operands, op.attributes());
            mapped.put(op.result(), copy.result());
            names.add(op.name());
        }
        b.yield(mapped.get(root.result()));
        root.result().replaceAllUsesWith(fused.result());
        for (Op op : group.reversed()) block.erase(op);
        groups.add(new Group(graph.name(), List.copyOf(names), inputs.size(), root.result().tensorType()));
    }
}
