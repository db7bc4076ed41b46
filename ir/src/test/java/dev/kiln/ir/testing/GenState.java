package dev.kiln.ir.testing;

import dev.kiln.ir.DType;
import dev.kiln.ir.Graph;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;

import java.util.List;

/** What the generator parts share while building one graph: the graph, the choice tape, budgets. */
final class GenState {

    private static final List<String> HINTS = List.of("h", "out", "tmp", "a_1", "x", "1bad", "has.dot", "");

    final Graph graph;
    final Choices c;
    /** Ops still allowed, so graphs stay small and the tests fast. */
    int opBudget;
    private int weightCount;

    GenState(Graph graph, Choices c, int opBudget) {
        this.graph = graph;
        this.c = c;
        this.opBudget = opBudget;
    }

    /** A fresh weight; its name is usually dotted like a PyTorch parameter, now and then one that needs quoting. */
    Value weight(String prefix, String suffix, TensorType type) {
        int n = weightCount++;
        String name = switch (c.next(8)) {
            case 0 -> n + "." + suffix;
            case 1 -> prefix + " " + n + "/" + suffix;
            default -> prefix + n + "." + suffix;
        };
        return graph.addWeight(name, type);
    }

    /** Gives some values name hints, including duplicates and non-identifiers the printer must number. */
    void maybeName(Value v) {
        if (c.chance(25)) v.setName(c.pick(HINTS));
    }

    static boolean isF32(Value v) {
        return v.type() instanceof TensorType t && t.dtype() == DType.F32;
    }

    static TensorType tensor(Value v) { return (TensorType) v.type(); }
}
