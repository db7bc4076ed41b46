package dev.kiln.onnx;

import dev.kiln.codegen.CompiledModel;
import dev.kiln.ir.Graph;
import dev.kiln.runtime.Interpreter;
import dev.kiln.runtime.NDArray;

import java.util.List;
import java.util.Map;

/**
 * An imported ONNX model: the Kiln graph (inputs named as in ONNX, initializers as weights), the
 * weights' data by name, and what the model says about itself.
 */
public final class ImportedModel {
    private final Graph graph;
    private final Map<String, NDArray> weights;
    private final Info info;
    private CompiledModel compiled;

    /** The model's metadata; {@code opsetImports} maps domain ("" for ONNX) to version. */
    public record Info(long irVersion, Map<String, Long> opsetImports, String producerName, String producerVersion,
                       String docString, String graphName, List<String> inputNames, List<String> outputNames) {
        public Info {
            opsetImports = Map.copyOf(opsetImports);
            inputNames = List.copyOf(inputNames);
            outputNames = List.copyOf(outputNames);
        }
    }

    public ImportedModel(Graph graph, Map<String, NDArray> weights, Info info) {
        this.graph = graph;
        this.weights = Map.copyOf(weights);
        this.info = info;
    }

    public Graph graph() { return graph; }

    /** Weight data by initializer name. */
    public Map<String, NDArray> weights() { return weights; }

    public Info info() { return info; }

    /** Runs the graph on the reference interpreter (O0, the oracle); inputs in the order of {@link Info#inputNames}. */
    public List<NDArray> interpret(List<NDArray> inputs) {
        checkArity(inputs);
        return Interpreter.runTensors(graph, inputs, weights);
    }

    private void checkArity(List<NDArray> inputs) {
        if (inputs.size() != info.inputNames().size()) {
            throw new IllegalArgumentException("model takes " + info.inputNames().size() + " inputs " + info.inputNames()
                    + ", got " + inputs.size());
        }
    }

    /**
     * Runs the model as generated code (O2, then code generated for these inputs' sizes on first use; see
     * {@link #compiled()}); inputs in the order of {@link Info#inputNames}.
     */
    public List<NDArray> run(List<NDArray> inputs) {
        checkArity(inputs);
        return compiled().run(inputs);
    }

    /** The model compiled to generated code, made on first use and kept; its {@code explain()} lists the kernels. */
    public synchronized CompiledModel compiled() {
        if (compiled == null) compiled = CompiledModel.compile(graph, weights);
        return compiled;
    }
}
