package dev.kiln.codegen;

import dev.kiln.ir.KilnException;
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
        if (op.name().equals("if") || op.name().equals("loop")) {
            inferRegions(op);
            return;
        }
        boolean unknownResult = op.results().stream().anyMatch(r -> r.type() instanceof TensorType t
                && t.shape().dims().stream().anyMatch(d -> d instanceof Dim.Unknown));
        if (!op.regions().isEmpty() && !unknownResult) {
            for (Value r : op.results()) if (r.type() instanceof TensorType t) shapes.put(r, known(t, r));
            if (op.name().equals("fused_elementwise")) checkFusedGroup(op);
            return;
        }
        List<Type> operandTypes = new ArrayList<>();
        for (Value v : op.operands()) {
            long[] s = shapes.get(v);
            operandTypes.add(s != null && v.type() instanceof TensorType t ? new TensorType(t.dtype(), Shape.of(s)) : v.type());
        }
        // The op's own type inference on the concrete sizes: it finds the sizes the declared type leaves unknown,
        // and it checks the op at these sizes (a symbolic dim bound to a size the op cannot take, say a channel
        // count that does not match the weight), which compiled code, trusting every size, would not.
        List<Type> inferred;
        try {
            inferred = op.schema().inference().infer(new InferenceContext(op.schema(), operandTypes, resolved(op), op.regions()));
        } catch (KilnException e) {
            throw new KilnException(graphName + " at sizes " + bindings + ": " + op.name() + " (" + op.results() + "): " + e.getMessage(), e);
        }
        for (int i = 0; i < op.results().size(); i++) {
            Value r = op.results().get(i);
            if (!(r.type() instanceof TensorType declared)) continue;
            boolean unknown = declared.shape().dims().stream().anyMatch(d -> d instanceof Dim.Unknown);
            long[] size = unknown ? known((TensorType) inferred.get(i), r) : known(declared, r);
            if (!unknown && inferred.get(i) instanceof TensorType t && t.shape().isStatic() && !java.util.Arrays.equals(t.shape().toArray(), size)) {
                throw new KilnException(graphName + " at sizes " + bindings + ": " + op.name() + " (" + r + ") is declared "
                        + java.util.Arrays.toString(size) + " but computes " + java.util.Arrays.toString(t.shape().toArray()) + " from its operands");
            }
            shapes.put(r, size);
        }
    }

    /**
     * A fused group's region is typed with the symbolic sizes, so its ops are checked here at the concrete ones
     * (operands that do not broadcast at these sizes, say), and what it yields must have the group's size.
     */
    private void checkFusedGroup(Op op) {
        dev.kiln.ir.Block body = op.regions().get(0);
        if (body.arguments().size() != op.operandCount()) return;
        for (int i = 0; i < op.operandCount(); i++) {
            long[] s = shapes.get(op.operand(i));
            if (s != null) shapes.put(body.argument(i), s);
        }
        for (Op inner : body.ops()) if (!inner.name().equals("yield")) infer(inner);
        List<Value> ys = body.terminator().operands();
        for (int i = 0; i < ys.size() && i < op.results().size(); i++) {
            long[] yielded = shapes.get(ys.get(i)), result = shapes.get(op.results().get(i));
            if (yielded != null && result != null && !java.util.Arrays.equals(yielded, result)) {
                throw new KilnException(graphName + " at sizes " + bindings + ": fused_elementwise (" + op.results().get(i)
                        + ") is declared " + java.util.Arrays.toString(result) + " but computes " + java.util.Arrays.toString(yielded));
            }
        }
    }

    /**
     * {@code if}: the regions' values get sizes from the outer ones, and each result the size both branches yield
     * (when they disagree it stays unknown). {@code loop}: the body's arguments take the initial values' sizes, and
     * a carried value keeps its size only when the body yields that size again.
     */
    private void inferRegions(Op op) {
        List<Value> results = op.results();
        long[][] yielded = new long[results.size()][];
        boolean[] agree = new boolean[results.size()];
        java.util.Arrays.fill(agree, true);
        for (int b = 0; b < op.regions().size(); b++) {
            dev.kiln.ir.Block body = op.regions().get(b);
            if (op.name().equals("loop")) {
                for (int k = 2; k < op.operandCount(); k++) {
                    long[] s = shapes.get(op.operand(k));
                    if (s != null) shapes.put(body.argument(k - 1), s);
                }
            }
            for (Op inner : body.ops()) if (!inner.name().equals("yield")) tryInfer(inner);
            List<Value> ys = body.terminator().operands();
            int first = op.name().equals("loop") ? 1 : 0; // a loop yields its condition first
            for (int i = 0; i < results.size(); i++) {
                long[] s = shapes.get(ys.get(i + first));
                if (op.name().equals("loop")) {
                    long[] initial = shapes.get(op.operand(i + 2));
                    if (s == null || initial == null || !java.util.Arrays.equals(s, initial)) agree[i] = false;
                    s = initial;
                }
                if (s == null || (yielded[i] != null && !java.util.Arrays.equals(yielded[i], s))) agree[i] = false;
                yielded[i] = s;
            }
        }
        for (int i = 0; i < results.size(); i++) {
            Value r = results.get(i);
            if (!(r.type() instanceof TensorType t)) continue;
            boolean unknown = t.shape().dims().stream().anyMatch(d -> d instanceof Dim.Unknown);
            shapes.put(r, unknown && agree[i] ? yielded[i] : known(t, r));
        }
    }

    /** Sizes for a value inside a region, where that is possible (an op whose sizes cannot be found keeps none). */
    private void tryInfer(Op op) {
        try {
            infer(op);
        } catch (RuntimeException sizeUnknownHere) {
            // values in regions only need sizes to give their enclosing op's results one; that op reports it
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
                    if (b == null) throw new KilnException("codegen: " + graphName + ": " + v + " : " + t + " has symbolic dim " + s.name() + " with no size in " + bindings);
                    yield b;
                }
                case Dim.Unknown u -> throw new UncompilableGraphException("codegen: " + graphName + ": the size of " + v + " : " + t
                        + " (result of " + (v.definingOp() == null ? "?" : v.definingOp().name()) + ") cannot be computed from the input sizes "
                        + bindings + "; compiled code needs every top-level tensor's size; run this graph on the reference interpreter (O0)");
            };
        }
        return out;
    }
}
