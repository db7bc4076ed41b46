package dev.kiln.tracer;

import dev.kiln.frontend.Tensor;
import dev.kiln.ir.Graph;
import dev.kiln.ir.IrPrinter;
import dev.kiln.runtime.InputMismatchException;
import dev.kiln.runtime.Interpreter;
import dev.kiln.runtime.NDArray;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * The result of tracing: an IR graph plus the weights it reads (shared with the module, so later
 * parameter updates are seen). Calling it runs the graph in the reference interpreter. A call whose
 * inputs differ in dtype or in a non-dynamic dim from the traced ones is an error, never a silent
 * run of the wrong graph; trace again, or mark the dim dynamic.
 */
public final class TracedFunction {

    private final Graph graph;
    private final Map<String, NDArray> weights;
    private final String entryPoint;
    private final List<String> warnings;

    TracedFunction(Graph graph, Map<String, NDArray> weights, String entryPoint, List<String> warnings) {
        this.graph = graph;
        this.weights = Collections.unmodifiableMap(weights);
        this.entryPoint = entryPoint;
        this.warnings = List.copyOf(warnings);
    }

    /** Warnings from tracing, such as data reads baked into the graph under TraceOptions.bakeDataReads. */
    public List<String> warnings() { return warnings; }

    public Graph graph() { return graph; }

    /** Weight data by name, shared with the traced module. */
    public Map<String, NDArray> weights() { return weights; }

    /** Weight data as little-endian byte buffers, as the ONNX exporter takes them. */
    public Map<String, ByteBuffer> weightBuffers() { return Weights.asBuffers(weights); }

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
            throw new InputMismatchException(e.getMessage() + ". " + entryPoint + " was traced for "
                    + graph.inputs().stream().map(v -> v.type().toString()).toList()
                    + "; trace again for these inputs, or mark the differing dim dynamic with TraceOptions.dynamic(input, axis, name)");
        }
    }

    /** The graph in IR text form. */
    @Override
    public String toString() { return IrPrinter.print(graph); }
}
