package dev.kiln.tracer;

import dev.kiln.codegen.CompiledModel;
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
 * A captured or traced function: an IR graph plus the weights it reads (shared with the module, so
 * later parameter updates are seen, except in weights O2 derives from others, such as convolutions with
 * BatchNorm folded in). Calling it runs generated code ({@link #compiled()}); {@link #interpret} runs the
 * reference interpreter. Inputs whose dtype or non-symbolic dims differ from the graph's are refused, never
 * silently run.
 */
public abstract class GraphFunction {

    private final Graph graph;
    private final Map<String, NDArray> weights;
    private final String entryPoint;
    private CompiledModel compiled;

    protected GraphFunction(Graph graph, Map<String, NDArray> weights, String entryPoint) {
        this.graph = graph;
        this.weights = Collections.unmodifiableMap(weights);
        this.entryPoint = entryPoint;
    }

    public Graph graph() { return graph; }

    /** Weight data by name, shared with the module. */
    public Map<String, NDArray> weights() { return weights; }

    /** Weight data as little-endian byte buffers, as the ONNX exporter takes them. */
    public Map<String, ByteBuffer> weightBuffers() { return Weights.asBuffers(weights); }

    /** The Java entry point the graph came from, e.g. {@code LeNet.forward}. */
    public String entryPoint() { return entryPoint; }

    /** Runs the graph; for a graph with one output. */
    public Tensor call(Tensor... inputs) {
        List<Tensor> out = callAll(inputs);
        if (out.size() != 1) throw new IllegalStateException(graph.name() + " has " + out.size() + " outputs; use callAll");
        return out.get(0);
    }

    /**
     * Runs the graph as generated code (O2, then code generated for these inputs' sizes on first use, see
     * {@link #compiled()}) and returns every output.
     */
    public List<Tensor> callAll(Tensor... inputs) {
        List<NDArray> arrays = Arrays.stream(inputs).map(Tensor::data).toList();
        try {
            return compiled().run(arrays).stream().map(Tensor::wrap).toList();
        } catch (InputMismatchException e) {
            throw new InputMismatchException(e.getMessage() + ". " + entryPoint + " was made for "
                    + graph.inputs().stream().map(v -> v.type().toString()).toList() + "; " + mismatchAdvice());
        }
    }

    /**
     * This function compiled to generated code, made on first use: what {@link #call} runs. Its
     * {@code explain()} lists the generated kernels per size binding.
     */
    public synchronized CompiledModel compiled() {
        if (compiled == null) compiled = CompiledModel.compile(graph, weights);
        return compiled;
    }

    /** Runs the graph on the reference interpreter (O0, the oracle compiled code is tested against); one output. */
    public Tensor interpret(Tensor... inputs) {
        List<Tensor> out = interpretAll(inputs);
        if (out.size() != 1) throw new IllegalStateException(graph.name() + " has " + out.size() + " outputs; use interpretAll");
        return out.get(0);
    }

    /** Runs the graph on the reference interpreter and returns every output. */
    public List<Tensor> interpretAll(Tensor... inputs) {
        List<NDArray> arrays = Arrays.stream(inputs).map(Tensor::data).toList();
        try {
            return Interpreter.runTensors(graph, arrays, weights).stream().map(Tensor::wrap).toList();
        } catch (InputMismatchException e) {
            throw new InputMismatchException(e.getMessage() + ". " + entryPoint + " was made for "
                    + graph.inputs().stream().map(v -> v.type().toString()).toList() + "; " + mismatchAdvice());
        }
    }

    /**
     * Runs O2 on a copy of this function's graph (this function is unchanged) and returns the result:
     * ops before and after each pass, the folds and fusion groups formed, and the memory plan, with
     * {@code bindings} giving sizes for symbolic dims. {@code result.explain()} is the readable report.
     */
    public dev.kiln.passes.Optimize.Result optimize(Map<String, Long> bindings) {
        Graph copy = dev.kiln.ir.IrParser.parse(IrPrinter.print(graph));
        return dev.kiln.passes.Optimize.o2(copy, weights, bindings, false);
    }

    /** The O2 explain report for this function; see {@link #optimize(Map)}. */
    public String explain(Map<String, Long> bindings) { return optimize(bindings).explain(); }

    /** What to do about inputs of another type (trace or capture again, or mark dims dynamic). */
    protected abstract String mismatchAdvice();

    /** The graph in IR text form. */
    @Override
    public String toString() { return IrPrinter.print(graph); }
}
