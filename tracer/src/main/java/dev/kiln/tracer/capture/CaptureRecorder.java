package dev.kiln.tracer.capture;

import dev.kiln.frontend.OpRecorder;
import dev.kiln.frontend.Tensor;
import dev.kiln.ir.Attribute;
import dev.kiln.ir.Block;
import dev.kiln.ir.Builder;
import dev.kiln.ir.Graph;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;
import dev.kiln.runtime.NDArray;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Turns the ops that atomic tensor calls dispatch into IR, like the tracer's recorder, but with
 * scopes: each region being filled (an {@code if} arm, a {@code loop} body) has its own builder and
 * its own map from example tensors to IR values, dropped when the region ends, so a value never
 * escapes the region that defines it. Weights are graph-wide.
 */
final class CaptureRecorder implements OpRecorder {

    private record Scope(Builder builder, Map<Tensor, Value> values) {}

    private final Graph graph;
    private final Map<Tensor, String> parameterNames = new IdentityHashMap<>();
    private final Map<Tensor, Value> weightValues = new IdentityHashMap<>();
    private final Map<String, NDArray> usedWeights = new LinkedHashMap<>();
    private final Deque<Scope> scopes = new ArrayDeque<>();
    private final Supplier<String> where;

    CaptureRecorder(Graph graph, Map<String, ? extends Tensor> parameters, Supplier<String> where) {
        this.graph = graph;
        this.where = where;
        parameters.forEach((name, p) -> parameterNames.putIfAbsent(p, name));
        scopes.push(new Scope(Builder.atEnd(graph.body()), new IdentityHashMap<>()));
    }

    /** Starts filling {@code block}: new ops go there, and tensors made from now on are local to it. */
    void enter(Block block) { scopes.push(new Scope(Builder.atEnd(block), new IdentityHashMap<>())); }

    /** Ends the innermost region; its tensors' values go out of scope. */
    void exit() {
        if (scopes.size() == 1) throw new IllegalStateException("no region to exit");
        scopes.pop();
    }

    Builder builder() { return scopes.peek().builder(); }

    /** Binds {@code example} to {@code value} in the innermost scope. */
    void bind(Tensor example, Value value) { scopes.peek().values().put(example, value); }

    /** Whether {@code t} has an IR value in scope (an input, a recorded result or a used weight). */
    boolean isSymbolic(Tensor t) { return lookup(t) != null; }

    private Value lookup(Tensor t) {
        for (Scope s : scopes) {
            Value v = s.values().get(t);
            if (v != null) return v;
        }
        return weightValues.get(t);
    }

    @Override
    public void record(String op, Map<String, Attribute> attributes, List<Tensor> inputs, Tensor output) {
        List<Value> operands = inputs.stream().map(this::valueOf).toList();
        bind(output, builder().create(op, operands, attributes).result());
    }

    @Override
    public void onDataRead(Tensor tensor, String what) {
        throw new CaptureException(where.get() + ": a library call reads tensor data with " + what
                + "; inside Tensor/F/nn code the capture cannot follow data into Java. Call item() in the "
                + "@Compile method itself, where its comparisons become IR");
    }

    @Override
    public void alias(Tensor target, Tensor source) {
        if (scopes.size() > 1 && !scopes.peek().values().containsKey(target)) {
            throw new CaptureException(where.get() + ": in-place ops on a tensor defined outside a data-dependent "
                    + "branch or loop are not supported in @Compile methods; use the out-of-place op and assign the result");
        }
        bind(target, valueOf(source));
    }

    /** The IR value of {@code t}: in scope, a weight (a parameter), or else a constant of its data. */
    Value valueOf(Tensor t) {
        Value v = lookup(t);
        if (v != null) return v;
        NDArray data = t.data();
        TensorType type = TensorType.of(data.dtype(), data.shape());
        String weightName = parameterNames.get(t);
        if (weightName != null) {
            v = graph.addWeight(weightName, type);
            usedWeights.put(weightName, data);
            weightValues.put(t, v);
            return v;
        }
        v = builder().constant(new Attribute.Tensor(type, data.toLittleEndianBytes()));
        bind(t, v);
        return v;
    }

    /** Weights the graph reads, by name, with their (shared) data. */
    Map<String, NDArray> usedWeights() { return usedWeights; }
}
