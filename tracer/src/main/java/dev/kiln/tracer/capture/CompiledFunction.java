package dev.kiln.tracer.capture;

import dev.kiln.frontend.Tensor;
import dev.kiln.ir.Graph;
import dev.kiln.ir.IrPrinter;
import dev.kiln.runtime.InputMismatchException;
import dev.kiln.runtime.Interpreter;
import dev.kiln.runtime.NDArray;
import dev.kiln.tracer.Weights;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * A captured {@code @Compile} method: its IR graph (control flow included), the weights it reads
 * (shared with the module), and the fields the capture read as constants (the future guards).
 * Calling it runs the graph in the reference interpreter; inputs whose dtype or dims differ from the
 * captured types are refused.
 */
public final class CompiledFunction {

    /** A field the capture read and treated as a constant: {@code owner.field} held {@code value}. */
    public record FieldRead(String owner, String field, Object value) {}

    private final Graph graph;
    private final Map<String, NDArray> weights;
    private final List<FieldRead> fieldReads;
    private final String entryPoint;

    CompiledFunction(Graph graph, Map<String, NDArray> weights, List<FieldRead> fieldReads, String entryPoint) {
        this.graph = graph;
        this.weights = Collections.unmodifiableMap(weights);
        this.fieldReads = List.copyOf(fieldReads.stream().map(r -> r.value() == null ? new FieldRead(r.owner(), r.field(), "null") : r).toList());
        this.entryPoint = entryPoint;
    }

    public Graph graph() { return graph; }

    /** Weight data by name, shared with the module. */
    public Map<String, NDArray> weights() { return weights; }

    /** Weight data as little-endian byte buffers, as the ONNX exporter takes them. */
    public Map<String, ByteBuffer> weightBuffers() { return Weights.asBuffers(weights); }

    /** Fields read during capture, in order (null values shown as the string "null"). */
    public List<FieldRead> fieldReads() { return fieldReads; }

    /** Runs the graph; for a graph with one output. */
    public Tensor call(Tensor... inputs) {
        List<Tensor> out = callAll(inputs);
        if (out.size() != 1) throw new IllegalStateException(graph.name() + " has " + out.size() + " outputs; use callAll");
        return out.get(0);
    }

    /** Runs the graph and returns every output. */
    public List<Tensor> callAll(Tensor... inputs) {
        List<NDArray> arrays = Arrays.stream(inputs).map(Tensor::data).toList();
        try {
            return Interpreter.runTensors(graph, arrays, weights).stream().map(Tensor::wrap).toList();
        } catch (InputMismatchException e) {
            throw new InputMismatchException(e.getMessage() + ". " + entryPoint + " was captured for "
                    + graph.inputs().stream().map(v -> v.type().toString()).toList() + "; capture it again for these inputs");
        }
    }

    /** The graph in IR text form. */
    @Override
    public String toString() { return IrPrinter.print(graph); }
}
