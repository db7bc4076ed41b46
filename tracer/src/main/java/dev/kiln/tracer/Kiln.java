package dev.kiln.tracer;

import dev.kiln.frontend.Dispatch;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.Module;
import dev.kiln.frontend.nn.Parameter;
import dev.kiln.ir.Dim;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;
import dev.kiln.ir.Verifier;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** Entry points that turn eager Kiln code into IR. */
public final class Kiln {

    private Kiln() {}

    /** Traces {@code module} on {@code examples}, with every dim fixed to the examples' sizes. */
    public static TracedFunction trace(Module module, Tensor... examples) {
        return trace(module, TraceOptions.defaults(), examples);
    }

    /**
     * Runs {@code module} once on {@code examples} while recording every op. Parameters become named
     * weights (by their paths, such as {@code conv1.weight}); dims marked dynamic in {@code options}
     * stay symbolic.
     */
    public static TracedFunction trace(Module module, TraceOptions options, Tensor... examples) {
        String name = options.graphName() != null ? options.graphName() : graphName(module.getClass().getSimpleName());
        return trace(name, module.getClass().getName() + ".call", module.namedParameters(), module::call, options, examples);
    }

    /** Traces a function of tensors; tensors it captures from outside become constants. */
    public static TracedFunction trace(String name, Function<Tensor[], Object> function, TraceOptions options, Tensor... examples) {
        return trace(graphName(name), name, Map.of(), function::apply, options, examples);
    }

    private interface Entry {
        Object call(Tensor[] inputs);
    }

    private static TracedFunction trace(String name, String entryPoint, Map<String, Parameter> parameters, Entry entry,
                                        TraceOptions options, Tensor... examples) {
        Graph graph = new Graph(name);
        GraphRecorder recorder = new GraphRecorder(graph, entryPoint, parameters);
        for (int i = 0; i < examples.length; i++) {
            recorder.addInput(examples.length == 1 ? "x" : "x" + i, examples[i], inputType(examples[i], i, options));
        }
        checkDynamicDims(options, examples.length);
        Object result;
        try (Dispatch.RecordingScope _ = Dispatch.record(recorder)) {
            result = entry.call(examples);
        }
        List<Value> outputs = new ArrayList<>();
        for (Tensor t : outputTensors(result, entryPoint)) outputs.add(recorder.valueOf(t));
        dev.kiln.ir.Builder.atEnd(graph.body()).ret(outputs.toArray(Value[]::new));
        Verifier.verify(graph);
        return new TracedFunction(graph, recorder.usedWeights(), entryPoint);
    }

    private static TensorType inputType(Tensor example, int index, TraceOptions options) {
        long[] shape = example.shape();
        List<Dim> dims = new ArrayList<>();
        for (long s : shape) dims.add(Dim.of(s));
        for (TraceOptions.DynamicDim d : options.dynamicDims()) {
            if (d.input() == index) {
                int axis = Shape.normalizeAxis(d.axis(), shape.length);
                dims.set(axis, Dim.sym(d.name()));
            }
        }
        return new TensorType(example.dtype(), new Shape(dims));
    }

    private static void checkDynamicDims(TraceOptions options, int inputCount) {
        for (TraceOptions.DynamicDim d : options.dynamicDims()) {
            if (d.input() < 0 || d.input() >= inputCount) {
                throw new IllegalArgumentException("trace: dynamic dim " + d + " names input " + d.input()
                        + " but there are " + inputCount + " inputs");
            }
        }
    }

    private static List<Tensor> outputTensors(Object result, String entryPoint) {
        if (result instanceof Tensor t) return List.of(t);
        if (result instanceof Tensor[] arr && arr.length > 0) return List.of(arr);
        if (result instanceof List<?> list && !list.isEmpty() && list.stream().allMatch(Tensor.class::isInstance)) {
            return list.stream().map(Tensor.class::cast).toList();
        }
        String got = result == null ? "null" : result.getClass().getName()
                + (result instanceof Object[] || result instanceof List<?> ? " (empty, or holding non-tensors)" : "");
        throw new TraceException("trace " + entryPoint + ": the traced code returned " + got
                + ", but a traced function must return a Tensor, a Tensor[] or a List<Tensor>");
    }

    private static String graphName(String raw) {
        String cleaned = raw.replaceAll("[^A-Za-z0-9_.]", "_");
        if (cleaned.isEmpty() || !Character.isLetter(cleaned.charAt(0)) && cleaned.charAt(0) != '_') cleaned = "g_" + cleaned;
        return Character.toLowerCase(cleaned.charAt(0)) + cleaned.substring(1);
    }
}
