package dev.kiln.codegen;

import dev.kiln.ir.Attribute;
import dev.kiln.ir.Dim;
import dev.kiln.ir.Graph;
import dev.kiln.ir.InferenceContext;
import dev.kiln.ir.Op;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Type;
import dev.kiln.ir.Value;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The size of every top-level tensor of a graph for one binding of its symbolic dims: from its type where that
 * says it, otherwise (an unknown dim, {@code f32[?, 6]}, left by size arithmetic or slicing) by running the op's
 * own type inference again on the concrete operand sizes, so that code generated for these sizes knows them all.
 */
final class ConcreteShapes {
    private final Map<Value, long[]> shapes = new IdentityHashMap<>();
    private final Map<String, Long> bindings;
    private final String graphName;

    private ConcreteShapes(Graph graph, Map<String, Long> bindings) {
        this.bindings = bindings;
        this.graphName = graph.name();
        for (Value v : graph.inputs()) if (v.type() instanceof TensorType t) shapes.put(v, known(t, v));
        for (Value v : graph.weights().values()) shapes.put(v, known(v.tensorType(), v));
        for (Op op : graph.body().ops()) infer(op);
    }

    static ConcreteShapes of(Graph graph, Map<String, Long> bindings) { return new ConcreteShapes(graph, bindings); }

    /** The concrete size of top-level tensor {@code v} (null for values inside regions and host scalars). */
    long[] shape(Value v) {
        long[] s = shapes.get(v);
        return s == null ? null : s.clone();
    }

    private void infer(Op op) {
        boolean unknown = false;
        for (Value r : op.results()) {
            if (r.type() instanceof TensorType t && t.shape().dims().stream().anyMatch(d -> d instanceof Dim.Unknown)) unknown = true;
        }
        if (!unknown) {
            for (Value r : op.results()) if (r.type() instanceof TensorType t) shapes.put(r, known(t, r));
            return;
        }
        List<Type> operandTypes = new ArrayList<>();
        for (Value v : op.operands()) {
            long[] s = shapes.get(v);
            operandTypes.add(s != null && v.type() instanceof TensorType t ? new TensorType(t.dtype(), Shape.of(s)) : v.type());
        }
        List<Type> inferred = op.schema().inference().infer(new InferenceContext(op.schema(), operandTypes, resolved(op), op.regions()));
        for (int i = 0; i < op.results().size(); i++) {
            if (inferred.get(i) instanceof TensorType t) shapes.put(op.results().get(i), known(t, op.results().get(i)));
        }
    }

    private Map<String, Attribute> resolved(Op op) {
        Map<String, Attribute> attrs = new LinkedHashMap<>(op.attributes());
        for (var e : op.attributes().entrySet()) {
            if (e.getValue() instanceof Attribute.Dims d) {
                attrs.put(e.getKey(), new Attribute.Ints(d.resolve(bindings::get, graphName + ": " + op.name() + " attribute '" + e.getKey() + "'")));
            }
        }
        return attrs;
    }

    private long[] known(TensorType t, Value v) {
        long[] out = new long[t.rank()];
        for (int i = 0; i < out.length; i++) {
            out[i] = switch (t.shape().dims().get(i)) {
                case Dim.Static s -> s.size();
                case Dim.Symbolic s -> {
                    Long b = bindings.get(s.name());
                    if (b == null) throw new IllegalArgumentException("codegen: " + graphName + ": " + v + " : " + t + " has symbolic dim " + s.name() + " with no size in " + bindings);
                    yield b;
                }
                case Dim.Unknown u -> throw new UnsupportedOperationException("codegen: " + graphName + ": the size of " + v + " : " + t
                        + " (result of " + (v.definingOp() == null ? "?" : v.definingOp().name()) + ") cannot be computed from the input sizes "
                        + bindings + "; compiled code needs every top-level tensor's size; run this graph on the reference interpreter (O0)");
            };
        }
        return out;
    }
}
