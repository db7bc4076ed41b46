package dev.kiln.ir;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks a graph's invariants so that passes can rely on them: operands and attributes match the
 * schema, result types match inference (and, for {@code if}/{@code loop}, the regions), every use
 * is dominated by its definition, region values stay inside their region, each block ends in
 * exactly one terminator of the right kind, use lists match operands, and weights belong to the
 * graph. The first problem found is thrown as a {@link VerificationException} whose message names
 * the graph, the op (by the names {@link IrPrinter} would print) and the problem.
 */
public final class Verifier {

    private final Graph graph;
    /** Printed names for messages, computed on the first failure only (naming every value costs as much as checking it). */
    private ValueNames names;
    /** The block each value of this graph is defined in (weights excluded). */
    private final Map<Value, Block> defBlock;
    private final List<Value> defined;
    private final Set<Op> ops;
    private final List<Op> opOrder;
    /** Ops in the graph (nested ones included), counted first so that the tables above are sized once. */
    private final int opCount;

    private Verifier(Graph graph) {
        this.graph = graph;
        this.opCount = count(graph.body());
        this.defBlock = new IdentityHashMap<>(opCount + graph.inputs().size());
        this.defined = new ArrayList<>(opCount + graph.inputs().size());
        this.ops = Collections.newSetFromMap(new IdentityHashMap<>(opCount));
        this.opOrder = new ArrayList<>(opCount);
    }

    private static int count(Block block) {
        int n = block.ops().size();
        for (Op op : block.ops()) for (Block region : op.regions()) n += count(region);
        return n;
    }

    private ValueNames names() {
        if (names == null) names = ValueNames.of(graph);
        return names;
    }

    /** Throws {@link VerificationException} describing the first broken invariant; returns quietly otherwise. */
    public static void verify(Graph graph) {
        new Verifier(graph).run();
    }

    private void run() {
        if (graph.body().parentOp() != null) fail(null, "the graph body must not belong to an op");
        index(graph.body());
        Set<Value> visible = Collections.newSetFromMap(new IdentityHashMap<>(defined.size() + graph.weights().size()));
        visible.addAll(graph.inputs());
        graph.weights().forEach((name, w) -> {
            if (w.kind() != Value.Kind.WEIGHT || !name.equals(w.name())) {
                fail(null, "weight entry '" + name + "' holds " + w + ", not a weight of that name");
            }
            visible.add(w);
        });
        checkBlock(graph.body(), visible);
        checkUseLists();
    }

    // ---- structure ----

    private void index(Block block) {
        for (int i = 0; i < block.arguments().size(); i++) {
            Value a = block.argument(i);
            if (a.kind() != Value.Kind.BLOCK_ARGUMENT || a.ownerBlock() != block || a.index() != i) {
                fail(null, "argument " + i + " of " + blockName(block) + " does not point back to its block");
            }
            define(a, block);
        }
        for (Op op : block.ops()) {
            if (op.parent() != block) fail(op, describe(op) + " is listed in " + blockName(block) + " but its parent is another block");
            if (!ops.add(op)) fail(op, describe(op) + " appears twice in the graph");
            opOrder.add(op);
            for (int i = 0; i < op.results().size(); i++) {
                Value r = op.results().get(i);
                if (r.kind() != Value.Kind.OP_RESULT || r.definingOp() != op || r.index() != i) {
                    fail(op, describe(op) + ": result " + i + " does not point back to its op");
                }
                define(r, block);
            }
            for (Block region : op.regions()) {
                if (region.parentOp() != op) fail(op, describe(op) + " holds a region that belongs to another op");
                index(region);
            }
        }
    }

    private void define(Value v, Block block) {
        if (defBlock.put(v, block) != null) fail(null, names().ref(v) + " is defined twice");
        defined.add(v);
    }

    /** Checks the block's ops in order; {@code visible} holds the values in scope and is restored on return. */
    private void checkBlock(Block block, Set<Value> visible) {
        String where = blockName(block);
        String terminator = block.parentOp() == null ? "return" : "yield";
        if (block.ops().isEmpty()) fail(block.parentOp(), where + " is empty; it must end in " + terminator + "(...)");
        List<Op> list = block.ops();
        for (int i = 0; i < list.size(); i++) {
            Op op = list.get(i);
            boolean last = i == list.size() - 1;
            if (op.has(Trait.TERMINATOR)) {
                if (!last) {
                    fail(op, base(op) + " is in the middle of " + where + "; a terminator must be the last op of its block");
                }
                if (!op.name().equals(terminator)) {
                    fail(op, base(op) + " ends " + where + ", which must end in " + terminator + " instead");
                }
            } else if (last) {
                fail(op, where + " does not end in " + terminator + "; its last op is " + base(op));
            }
            checkOperandsVisible(op, visible);
            checkSchema(op);
            checkTypes(op);
            for (Block region : op.regions()) {
                visible.addAll(region.arguments());
                checkBlock(region, visible);
                region.arguments().forEach(visible::remove);
            }
            visible.addAll(op.results());
        }
        // A region's values go out of scope when it ends (SSA: none of them was visible before).
        if (block.parentOp() != null) list.forEach(op -> op.results().forEach(visible::remove));
    }

    // ---- dominance ----

    private void checkOperandsVisible(Op op, Set<Value> visible) {
        for (int j = 0; j < op.operandCount(); j++) {
            Value v = op.operand(j);
            if (visible.contains(v)) continue;
            String head = describe(op) + ": operand " + j + " (" + names().ref(v) + ")";
            if (v.kind() == Value.Kind.WEIGHT) fail(op, head + " is a weight that does not belong to graph @" + graph.name());
            Block def = defBlock.get(v);
            if (def == null) fail(op, head + " is not defined in graph @" + graph.name());
            if (v.definingOp() != null && encloses(v.definingOp(), op)) {
                fail(op, head + " is a result of the enclosing " + base(v.definingOp()) + ", used inside that op's own region");
            }
            if (isSelfOrAncestor(def, op.parent())) fail(op, head + " is used before its definition");
            fail(op, head + " is defined inside " + blockName(def) + ", which does not enclose this use");
        }
    }

    private static boolean encloses(Op outer, Op inner) {
        for (Op p = inner.parent().parentOp(); p != null; p = p.parent().parentOp()) {
            if (p == outer) return true;
        }
        return false;
    }

    private static boolean isSelfOrAncestor(Block candidate, Block block) {
        for (Block b = block; b != null; b = b.parentOp() == null ? null : b.parentOp().parent()) {
            if (b == candidate) return true;
        }
        return false;
    }

    // ---- schema and types ----

    private void checkSchema(Op op) {
        if (!OpRegistry.contains(op.name())) fail(op, describe(op) + ": op '" + op.name() + "' is not registered");
        try {
            op.schema().checkOperands(types(op.operands()));
            op.schema().checkAttributes(op.attributes());
        } catch (IrException e) {
            fail(op, describe(op) + ": " + withoutOpName(op, e.getMessage()));
        }
        if (op.regions().size() != op.schema().regionCount()) {
            fail(op, describe(op) + " has " + op.regions().size() + " regions but its schema declares " + op.schema().regionCount());
        }
    }

    private void checkTypes(Op op) {
        switch (op.name()) {
            case "if" -> checkIf(op);
            case "loop" -> checkLoop(op);
            default -> {
                List<Type> inferred;
                try {
                    inferred = op.schema().inference().infer(new InferenceContext(
                            op.schema(), types(op.operands()), op.attributes(), op.regions()));
                } catch (RuntimeException e) {
                    // Inference rules throw IrException; anything else is still this op's problem to report.
                    fail(op, describe(op) + ": " + withoutOpName(op, String.valueOf(e.getMessage())));
                    return;
                }
                checkResults(op, inferred, "inference gives");
            }
        }
    }

    private void checkResults(Op op, List<Type> expected, String source) {
        List<Type> actual = types(op.results());
        if (actual.size() != expected.size()) {
            fail(op, describe(op) + " has " + actual.size() + " results but " + source + " " + expected.size() + " " + expected);
        }
        for (int i = 0; i < actual.size(); i++) {
            if (!actual.get(i).equals(expected.get(i))) {
                fail(op, describe(op) + ": result " + i + " (" + names().ref(op.results().get(i)) + ") has type " + actual.get(i)
                        + " but " + source + " " + expected.get(i));
            }
        }
    }

    private void checkIf(Op op) {
        if (op.operand(0).type() != ScalarType.BOOL) {
            fail(op, describe(op) + ": condition " + names().ref(op.operand(0)) + " must be bool, got " + op.operand(0).type());
        }
        for (Block region : op.regions()) {
            if (!region.arguments().isEmpty()) fail(op, blockName(region) + " must not have arguments");
            Op yield = yieldOf(region);
            if (yield != null && !types(yield.operands()).equals(types(op.results()))) {
                fail(yield, blockName(region) + " yields " + types(yield.operands()) + " but " + base(op)
                        + " has result types " + types(op.results()));
            }
        }
    }

    private void checkLoop(Op op) {
        if (op.operand(0).type() != ScalarType.INT) {
            fail(op, describe(op) + ": trip count " + names().ref(op.operand(0)) + " must be int, got " + op.operand(0).type());
        }
        if (op.operand(1).type() != ScalarType.BOOL) {
            fail(op, describe(op) + ": condition " + names().ref(op.operand(1)) + " must be bool, got " + op.operand(1).type());
        }
        List<Type> carried = types(op.operands().subList(2, op.operandCount()));
        checkResults(op, carried, "its carried values have");
        Block body = op.region(0);
        List<Type> expectedArgs = new ArrayList<>(List.of(ScalarType.INT));
        expectedArgs.addAll(carried);
        if (!types(body.arguments()).equals(expectedArgs)) {
            fail(op, blockName(body) + " has arguments " + types(body.arguments()) + " but must have " + expectedArgs
                    + " (the iteration index, then the carried values)");
        }
        Op yield = yieldOf(body);
        List<Type> expectedYield = new ArrayList<>(List.of(ScalarType.BOOL));
        expectedYield.addAll(carried);
        if (yield != null && !types(yield.operands()).equals(expectedYield)) {
            fail(yield, blockName(body) + " yields " + types(yield.operands()) + " but must yield " + expectedYield
                    + " (the next condition, then the next carried values)");
        }
    }

    /** The region's terminator if it is a yield; a missing one is reported by {@link #checkBlock}. */
    private static Op yieldOf(Block region) {
        Op t = region.terminator();
        return t != null && t.name().equals("yield") ? t : null;
    }

    // ---- use lists ----

    /**
     * Every operand slot is recorded exactly once in its value's use list, and every use names a slot of an op
     * in the graph that holds the value. Checked in linear time (a value used by 10^6 ops must not cost 10^12
     * steps); only when that finds a problem do the per-slot and per-use loops below run, to report the first
     * one precisely.
     */
    private void checkUseLists() {
        if (useListsConsistent()) return;
        for (Op op : opOrder) {
            for (int j = 0; j < op.operandCount(); j++) {
                Value v = op.operand(j);
                int index = j;
                long exact = v.uses().stream().filter(u -> u.user() == op && u.index() == index).count();
                if (exact != 1) {
                    fail(op, "use list of " + names().ref(v) + " records operand " + j + " of " + describe(op) + " "
                            + exact + " times instead of once");
                }
            }
        }
        List<Value> all = new ArrayList<>(defined);
        all.addAll(graph.weights().values());
        for (Value v : all) {
            for (Value.Use u : v.uses()) {
                if (!ops.contains(u.user())) {
                    fail(u.user(), "use list of " + names().ref(v) + " names a " + u.user().name()
                            + " op that is not in the graph (was it removed without dropping its operands?)");
                }
                if (u.index() >= u.user().operandCount() || u.user().operand(u.index()) != v) {
                    fail(u.user(), "use list of " + names().ref(v) + " names operand " + u.index() + " of "
                            + describe(u.user()) + ", which holds a different value");
                }
            }
        }
    }

    /** Whether uses and operand slots correspond one to one (each use valid, none twice, as many as slots). */
    private boolean useListsConsistent() {
        long slots = 0;
        for (Op op : opOrder) slots += op.operandCount();
        List<Value> all = new ArrayList<>(defined);
        all.addAll(graph.weights().values());
        Set<Value.Use> seen = new java.util.HashSet<>();
        long uses = 0;
        for (Value v : all) {
            for (Value.Use u : v.uses()) {
                if (!ops.contains(u.user()) || u.index() >= u.user().operandCount() || u.user().operand(u.index()) != v || !seen.add(u)) {
                    return false;
                }
                uses++;
            }
        }
        return uses == slots;
    }

    // ---- naming ----

    /** {@code %3 = relu}, plus where it sits when inside a region. */
    private String describe(Op op) {
        Block parent = op.parent();
        return base(op) + (parent != null && parent.parentOp() != null ? " in " + blockName(parent) : "");
    }

    private String base(Op op) {
        if (op.results().isEmpty()) return op.name();
        StringBuilder sb = new StringBuilder();
        for (Value r : op.results()) sb.append(sb.isEmpty() ? "" : ", ").append(names().ref(r));
        return sb.append(" = ").append(op.name()).toString();
    }

    private String blockName(Block block) {
        Op owner = block.parentOp();
        if (owner == null) return block == graph.body() ? "the graph body" : "a block outside graph @" + graph.name();
        int i = owner.regions().indexOf(block);
        String region = switch (owner.name()) {
            case "if" -> i == 0 ? "the then region" : "the else region";
            case "loop" -> "the body";
            default -> "region " + i;
        };
        return region + " of " + base(owner);
    }

    private static String withoutOpName(Op op, String message) {
        String prefix = op.name() + ": ";
        return message.startsWith(prefix) ? message.substring(prefix.length()) : message;
    }

    private static List<Type> types(List<Value> values) { return Value.typesOf(values); }


    private void fail(Op op, String message) {
        throw new VerificationException("graph @" + graph.name() + ": " + message, op);
    }
}
