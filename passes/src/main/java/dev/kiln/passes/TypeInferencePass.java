package dev.kiln.passes;

import dev.kiln.ir.Block;
import dev.kiln.ir.Builder;
import dev.kiln.ir.Graph;
import dev.kiln.ir.InferenceContext;
import dev.kiln.ir.IrException;
import dev.kiln.ir.Op;
import dev.kiln.ir.Type;
import dev.kiln.ir.Value;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Re-infers every op's result types from its current operand types, in program order, so that a
 * change upstream (for example uses of a symbolic input rewired to a value of a more specific
 * shape) reaches every op downstream. Values' types are immutable, so an op whose types change is
 * rebuilt (same name, operands and attributes) and its uses moved to the new op. {@link #changes()}
 * lists what changed in the last run, one line per op: {@code relu: f32[N, 4] -> f32[2, 4]}.
 *
 * <p>Limit: ops with regions ({@code if}, {@code loop}) cannot be rebuilt (their regions cannot be
 * moved); when their types would change the pass throws an {@link IrException} naming the op. Their
 * regions are still re-inferred.
 */
public final class TypeInferencePass implements Pass {

    private final List<String> changes = new ArrayList<>();

    @Override
    public String name() { return "infer-types"; }

    /** What the last {@link #run(Graph)} changed, in program order. */
    public List<String> changes() { return Collections.unmodifiableList(changes); }

    @Override
    public boolean run(Graph graph) {
        changes.clear();
        walk(graph.body());
        return !changes.isEmpty();
    }

    private void walk(Block block) {
        for (Op op : new ArrayList<>(block.ops())) {
            for (Block region : op.regions()) walk(region);
            if (op.results().isEmpty()) continue;
            List<Type> current = op.results().stream().map(Value::type).toList();
            List<Type> operandTypes = op.operands().stream().map(Value::type).toList();
            List<Type> inferred = op.schema().inference().infer(
                    new InferenceContext(op.schema(), operandTypes, op.attributes(), op.regions()));
            if (inferred.equals(current)) continue;
            if (!op.regions().isEmpty()) {
                throw new IrException("infer-types: " + op.name() + " would change from " + current + " to " + inferred
                        + ", but ops with regions cannot be rebuilt");
            }
            Op rebuilt = Builder.before(op).create(op.name(), op.operands(), op.attributes());
            for (int i = 0; i < current.size(); i++) op.results().get(i).replaceAllUsesWith(rebuilt.results().get(i));
            block.erase(op);
            changes.add(op.name() + ": " + (current.size() == 1 ? current.get(0) + " -> " + inferred.get(0) : current + " -> " + inferred));
        }
    }
}
