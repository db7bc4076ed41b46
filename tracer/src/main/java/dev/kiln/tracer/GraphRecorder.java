package dev.kiln.tracer;

import dev.kiln.frontend.OpRecorder;
import dev.kiln.frontend.Tensor;
import dev.kiln.ir.Attribute;
import dev.kiln.ir.Builder;
import dev.kiln.ir.DType;
import dev.kiln.ir.Graph;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;
import dev.kiln.runtime.NDArray;

import dev.kiln.ir.DType;
import dev.kiln.runtime.Shapes;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Builds IR from an eager run: each dispatched op becomes an IR op whose operands are the values of
 * the tensors it consumed. Parameters and buffers become named weights on first use; any other tensor the graph
 * did not produce (one created inside the traced code) becomes a constant holding its data.
 */
final class GraphRecorder implements OpRecorder {

    private final Graph graph;
    private final Builder builder;
    private final String entryPoint;
    private final Map<Tensor, Value> values = new IdentityHashMap<>();
    private final Map<Tensor, String> parameterNames = new IdentityHashMap<>();
    private final Map<String, NDArray> usedWeights = new LinkedHashMap<>();
    private final TraceOptions options;
    private final List<String> warnings = new java.util.ArrayList<>();

    /** With {@code shapeOnly}, the storage of the run's inputs and op results (placeholder zeros, free to write). */
    private final Set<MemorySegment> scratch;
    private MemorySegment placeholders;

    GraphRecorder(Graph graph, String entryPoint, Map<String, ? extends Tensor> parameters, TraceOptions options, boolean shapeOnly) {
        this.graph = graph;
        this.builder = Builder.atEnd(graph.body());
        this.entryPoint = entryPoint;
        this.options = options;
        this.scratch = shapeOnly ? Collections.newSetFromMap(new IdentityHashMap<>()) : null;
        if (!options.freeze()) parameters.forEach((name, p) -> parameterNames.putIfAbsent(p, name));
    }

    void addInput(String name, Tensor example, TensorType type) {
        if (values.containsKey(example)) {
            throw new TraceException("trace " + entryPoint + ": the same tensor is passed as two inputs ('" + name + "')");
        }
        values.put(example, graph.addInput(name, type));
        if (scratch != null) scratch.add(example.data().segment());
    }

    /** Thrown to stop a shape-only run where placeholder data would reach Java or a real tensor. */
    static final class NeedsData extends RuntimeException {
        NeedsData(String what) { super(what, null, false, false); }
    }

    /**
     * Shape-only: every op result is a view of one shared placeholder segment (grown to the largest result), so
     * the run allocates almost nothing.
     */
    @Override
    public NDArray placeholder(DType dtype, long[] shape) {
        if (scratch == null) return null;
        long bytes = Math.multiplyExact(Shapes.numel(shape), (long) dtype.byteSize());
        if (placeholders == null || placeholders.byteSize() < bytes) {
            placeholders = Arena.ofAuto().allocate(Math.max(64, bytes), 64);
            scratch.add(placeholders);
        }
        return NDArray.wrap(placeholders, dtype, shape, Shapes.contiguousStrides(shape), 0);
    }

    @Override
    public void onInPlaceWrite(Tensor target) {
        if (scratch != null && !scratch.contains(target.data().segment())) throw new NeedsData("in-place write to a tensor the run did not make");
    }

    @Override
    public void record(String op, Map<String, Attribute> attributes, List<Tensor> inputs, Tensor output) {
        List<Value> operands = inputs.stream().map(this::valueOf).toList();
        values.put(output, builder.create(op, operands, attributes).result());
    }

    @Override
    public void onDataRead(Tensor tensor, String what) {
        if (scratch != null) throw new NeedsData(what);
        String where = SourceLines.callerOfTensor();
        if (!options.bakeDataReads()) {
            throw new TraceException("trace " + entryPoint + ": " + where + " reads tensor data with " + what
                    + ". A traced graph cannot follow data into Java, so a branch or loop on it would be baked in. "
                    + "Express the computation with tensor ops, capture the method with @Compile, or opt in with "
                    + "TraceOptions.bakeDataReads(true) to bake the value.");
        }
        String warning = "trace " + entryPoint + ": " + where + " reads tensor data with " + what
                + "; its traced value is baked into the graph (TraceOptions.bakeDataReads)";
        warnings.add(warning);
    }

    /** The warnings logged while tracing (baked data reads). */
    List<String> warnings() { return warnings; }

    @Override
    public void alias(Tensor target, Tensor source) {
        values.put(target, valueOf(source));
    }

    /** The IR value of {@code t}: recorded, an input, a weight, or else a constant copy of its data. */
    Value valueOf(Tensor t) {
        Value v = values.get(t);
        if (v != null) return v;
        NDArray data = t.data();
        TensorType type = TensorType.of(data.dtype(), data.shape());
        String weightName = parameterNames.get(t);
        if (weightName != null) {
            v = graph.addWeight(weightName, type);
            usedWeights.put(weightName, data);
        } else {
            v = builder.constant(new Attribute.Tensor(type, data.toLittleEndianBytes()));
        }
        values.put(t, v);
        return v;
    }

    Graph graph() { return graph; }

    /** Weights the graph uses, by name, with their (shared, not copied) data. */
    Map<String, NDArray> usedWeights() { return usedWeights; }
}
