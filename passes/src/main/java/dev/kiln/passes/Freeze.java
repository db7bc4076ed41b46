package dev.kiln.passes;

import dev.kiln.ir.Attribute;
import dev.kiln.ir.Builder;
import dev.kiln.ir.Graph;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;
import dev.kiln.runtime.NDArray;

import java.util.List;
import java.util.Map;

/**
 * Turns every weight with data in {@code weights} into a constant holding that data, so that
 * constant folding and BatchNorm folding can see through it; the weights leave the graph.
 */
public final class Freeze implements Pass {

    private final Map<String, NDArray> weights;

    public Freeze(Map<String, NDArray> weights) { this.weights = Map.copyOf(weights); }

    @Override
    public String name() { return "freeze"; }

    @Override
    public boolean run(Graph graph) {
        boolean changed = false;
        for (Map.Entry<String, Value> e : List.copyOf(graph.weights().entrySet())) {
            NDArray data = weights.get(e.getKey());
            if (data == null) continue;
            TensorType type = e.getValue().tensorType();
            if (!type.shape().isStatic() || !java.util.Arrays.equals(type.shape().toArray(), data.shape()) || type.dtype() != data.dtype()) {
                throw new IllegalArgumentException("freeze: data for weight '" + e.getKey() + "' is " + data.dtype()
                        + java.util.Arrays.toString(data.shape()) + ", but the graph declares " + type);
            }
            Builder b = graph.body().ops().isEmpty() ? Builder.atEnd(graph.body()) : Builder.before(graph.body().ops().get(0));
            Value constant = b.constant(new Attribute.Tensor(type, data.toLittleEndianBytes()));
            e.getValue().replaceAllUsesWith(constant);
            graph.removeWeight(e.getKey());
            changed = true;
        }
        return changed;
    }
}
