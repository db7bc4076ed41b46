package dev.kiln.tracer;

import dev.kiln.frontend.Dispatch;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.Module;
import dev.kiln.ir.Dim;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;
import dev.kiln.ir.IrPrinter;
import dev.kiln.runtime.NDArray;
import dev.kiln.ir.Verifier;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** Entry points that turn eager Kiln code into IR: tracing a run, or compiling methods from their bytecode. */
public final class Kiln {

    private Kiln() {}

    /** Traces {@code module} on {@code examples}, with every dim fixed to the examples' sizes. */
    public static TracedFunction trace(Module module, Tensor... examples) {
        return trace(module, TraceOptions.defaults(), examples);
    }

    /**
     * Runs {@code module} once on {@code examples} while recording every op. Parameters and buffers
     * become named weights (by their paths, such as {@code conv1.weight}); dims marked dynamic in
     * {@code options} stay symbolic.
     */
    public static TracedFunction trace(Module module, TraceOptions options, Tensor... examples) {
        String name = options.graphName() != null ? options.graphName() : graphName(module.getClass().getSimpleName());
        return trace(name, module.getClass().getName() + ".call", module, module.stateDict(), module::call, options, examples);
    }

    /** Traces a function of tensors; tensors it captures from outside become constants. */
    public static TracedFunction trace(String name, Function<Tensor[], Object> function, TraceOptions options, Tensor... examples) {
        return trace(graphName(name), name, null, Map.of(), function::apply, options, examples);
    }

    /** The module's one {@code @Compile} method, compiled with default options. */
    public static Compiled compile(Module module) { return compile(module, null, CompileOptions.defaults()); }

    /**
     * Compiles {@code module}'s method {@code methodName} (null: its one {@code @Compile} method) from its
     * bytecode. Each call runs the captured graph for its input types, capturing on first use.
     */
    public static Compiled compile(Module module, String methodName, CompileOptions options) {
        java.lang.reflect.Method method = methodName == null ? annotatedMethod(module.getClass()) : null;
        String name = module.getClass().getSimpleName() + "." + (method != null ? method.getName() : methodName);
        return new Compiled(name, new Compiled.Target() {
            @Override
            public dev.kiln.tracer.capture.CompiledFunction capture(TensorType[] types) {
                return methodName == null ? dev.kiln.tracer.capture.Capture.compile(module, types)
                        : dev.kiln.tracer.capture.Capture.compile(module, methodName, types);
            }

            @Override
            public Object runEagerly(Tensor[] inputs) { return invoke(module, method != null ? method : find(module.getClass(), methodName, inputs.length), inputs); }
        }, options);
    }

    /** Compiles static method {@code methodName} of {@code owner} (taking only tensors). */
    public static Compiled compileStatic(Class<?> owner, String methodName, CompileOptions options) {
        return new Compiled(owner.getSimpleName() + "." + methodName, new Compiled.Target() {
            @Override
            public dev.kiln.tracer.capture.CompiledFunction capture(TensorType[] types) {
                return dev.kiln.tracer.capture.Capture.compileStatic(owner, methodName, types);
            }

            @Override
            public Object runEagerly(Tensor[] inputs) { return invoke(null, find(owner, methodName, inputs.length), inputs); }
        }, options);
    }

    /** Compiles a non-capturing lambda of one tensor, e.g. {@code Kiln.compile((Tensor x) -> x.relu().mul(2.0), options)}. */
    public static Compiled compile(TensorFunction fn, CompileOptions options) { return compileLambda(fn, options); }

    /** Compiles a non-capturing lambda of two tensors. */
    public static Compiled compile(TensorFunction2 fn, CompileOptions options) { return compileLambda(fn, options); }

    private static Compiled compileLambda(java.io.Serializable fn, CompileOptions options) {
        java.lang.invoke.SerializedLambda lambda;
        try {
            java.lang.reflect.Method writeReplace = fn.getClass().getDeclaredMethod("writeReplace");
            writeReplace.setAccessible(true);
            lambda = (java.lang.invoke.SerializedLambda) writeReplace.invoke(fn);
        } catch (ReflectiveOperationException | ClassCastException e) {
            throw new IllegalArgumentException("compile: " + fn.getClass().getName() + " is not a lambda or method reference", e);
        }
        if (lambda.getCapturedArgCount() > 0) {
            throw new dev.kiln.tracer.capture.CaptureException(lambda.getImplClass().replace('/', '.') + "." + lambda.getImplMethodName()
                    + ": the lambda captures " + lambda.getCapturedArgCount() + " variable(s); pass them as tensor inputs instead");
        }
        Class<?> owner;
        try {
            owner = Class.forName(lambda.getImplClass().replace('/', '.'), false, fn.getClass().getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new IllegalArgumentException("compile: cannot load the lambda's class " + lambda.getImplClass(), e);
        }
        return compileStatic(owner, lambda.getImplMethodName(), options);
    }

    private static java.lang.reflect.Method annotatedMethod(Class<?> c) {
        for (Class<?> k = c; k != null && k != Module.class; k = k.getSuperclass()) {
            for (java.lang.reflect.Method m : k.getDeclaredMethods()) {
                if (m.isAnnotationPresent(dev.kiln.frontend.Compile.class) && !m.isBridge()) return m;
            }
        }
        throw new IllegalArgumentException(c.getName() + " has no @Compile method");
    }

    private static java.lang.reflect.Method find(Class<?> owner, String name, int arity) {
        for (Class<?> k = owner; k != null; k = k.getSuperclass()) {
            for (java.lang.reflect.Method m : k.getDeclaredMethods()) {
                if (m.getName().equals(name) && m.getParameterCount() == arity && !m.isBridge()) return m;
            }
        }
        throw new IllegalArgumentException(owner.getName() + " has no method " + name + " taking " + arity + " tensors");
    }

    private static Object invoke(Object receiver, java.lang.reflect.Method m, Tensor[] inputs) {
        try {
            m.setAccessible(true);
            return m.invoke(receiver, (Object[]) inputs);
        } catch (java.lang.reflect.InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new IllegalStateException(e.getCause());
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot call " + m, e);
        }
    }

    private interface Entry {
        Object call(Tensor[] inputs);
    }

    private static TracedFunction trace(String name, String entryPoint, Module module, Map<String, ? extends Tensor> parameters, Entry entry,
                                        TraceOptions options, Tensor... examples) {
        checkDynamicDims(options, examples.length);
        GraphRecorder recorder = record(name, entryPoint, parameters, entry, options, false, examples);
        Graph graph = recorder.graph();
        if (!options.dynamicDims().isEmpty()) {
            // The check runs the code again: buffers it updates (running statistics) are put back afterwards.
            Map<String, NDArray> buffers = new java.util.LinkedHashMap<>();
            if (module != null) module.namedBuffers().forEach((k, b) -> buffers.put(k, b.data().copy()));
            try {
                graph = symbolicSizes(graph, name, entryPoint, parameters, entry, options, examples);
            } finally {
                if (module != null) module.namedBuffers().forEach((k, b) -> b.data().assign(buffers.get(k)));
            }
        }
        recorder.warnings().forEach(w -> System.getLogger("dev.kiln.tracer").log(System.Logger.Level.WARNING, w));
        return new TracedFunction(graph, recorder.usedWeights(), entryPoint, recorder.warnings());
    }

    private static GraphRecorder record(String name, String entryPoint, Map<String, ? extends Tensor> parameters, Entry entry,
                                        TraceOptions options, boolean shapeOnly, Tensor... examples) {
        Graph graph = new Graph(name);
        GraphRecorder recorder = new GraphRecorder(graph, entryPoint, parameters, options, shapeOnly);
        for (int i = 0; i < examples.length; i++) {
            recorder.addInput(examples.length == 1 ? "x" : "x" + i, examples[i], inputType(examples[i], i, options));
        }
        Object result;
        try (Dispatch.RecordingScope _ = Dispatch.record(recorder)) {
            result = entry.call(examples);
        }
        List<Value> outputs = new ArrayList<>();
        for (Tensor t : outputTensors(result, entryPoint)) outputs.add(recorder.valueOf(t));
        dev.kiln.ir.Builder.atEnd(graph.body()).ret(outputs.toArray(Value[]::new));
        Verifier.verify(graph);
        return recorder;
    }

    /**
     * Traces again with every dynamic dim larger (the i-th distinct symbol by i + 1, so that two dims
     * of equal example size stay distinguishable). A reshape/expand size entry that is exactly a
     * dynamic dim's size in both traces becomes the dim's symbol ({@link SizeSymbols}); any other
     * difference (a size used in arithmetic, a constant shaped like the input) would make the graph
     * wrong at other sizes, so it is an error naming the op rather than a silently specialised graph.
     */
    private static Graph symbolicSizes(Graph graph, String name, String entryPoint, Map<String, ? extends Tensor> parameters,
                                       Entry entry, TraceOptions options, Tensor... examples) {
        Map<String, Long> increments = new java.util.LinkedHashMap<>();
        for (TraceOptions.DynamicDim d : options.dynamicDims()) increments.putIfAbsent(d.name(), (long) increments.size() + 1);
        Map<String, SizeSymbols.Sizes> sizes = new java.util.LinkedHashMap<>();
        Tensor[] resized = new Tensor[examples.length];
        for (int i = 0; i < examples.length; i++) {
            long[] shape = examples[i].shape();
            for (TraceOptions.DynamicDim d : options.dynamicDims()) {
                if (d.input() != i) continue;
                int axis = Shape.normalizeAxis(d.axis(), shape.length);
                long inc = increments.get(d.name());
                sizes.putIfAbsent(d.name(), new SizeSymbols.Sizes(d.name(), shape[axis], shape[axis] + inc));
                shape[axis] += inc;
            }
            resized[i] = Tensor.zeros(examples[i].dtype(), shape);
        }
        Graph shapeOnly = shapeOnlyRecord(name, entryPoint, parameters, entry, options, resized);
        if (shapeOnly != null) {
            try {
                return SizeSymbols.rewrite(graph, shapeOnly, List.copyOf(sizes.values()));
            } catch (SizeSymbols.Mismatch m) {
                // placeholder data may have steered the run: the real run below decides
            }
        }
        Graph other;
        try {
            other = record(name, entryPoint, parameters, entry, options.bakeDataReads(true), false, resized).graph();
        } catch (RuntimeException e) {
            throw new TraceException("trace " + entryPoint + ": the traced code fails when a dynamic dim changes size ("
                    + e.getMessage() + "), so the dims " + options.dynamicDims() + " cannot be dynamic");
        }
        try {
            return SizeSymbols.rewrite(graph, other, List.copyOf(sizes.values()));
        } catch (SizeSymbols.Mismatch m) {
            throw new TraceException("trace " + entryPoint + ": the graph depends on the size of a dynamic dim"
                    + (options.bakeDataReads() ? " (or on tensor data baked under bakeDataReads)" : "") + ": traced again with "
                    + "the dynamic dims " + sizes.values().stream().map(s -> s.symbol() + " " + s.first() + " -> " + s.second()).toList()
                    + ", " + m.getMessage() + "\nA size read with dim() or shape() was frozen into an op. "
                    + SizeSymbols.REWRITE_RULE);
        }
    }

    /**
     * The second trace without computing: every op yields zeros of its inferred type, so finding symbolic sizes
     * costs a graph build rather than a second forward pass at a larger size. Null when the run needed data (a data
     * read, an in-place write to a tensor it did not make) or failed on its placeholder zeros; the caller then
     * traces for real, which also reports any real failure.
     */
    private static Graph shapeOnlyRecord(String name, String entryPoint, Map<String, ? extends Tensor> parameters, Entry entry,
                                         TraceOptions options, Tensor[] examples) {
        try {
            return record(name, entryPoint, parameters, entry, options.bakeDataReads(true), true, examples).graph();
        } catch (RuntimeException e) {
            return null;
        }
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
        if (result instanceof Record r) {
            return recordTensors(r, what -> new TraceException("trace " + entryPoint + ": the traced code returned " + what
                    + "; a record returned from a traced function must hold only tensors"));
        }
        String got = result == null ? "null" : result.getClass().getName()
                + (result instanceof Object[] || result instanceof List<?> ? " (empty, or holding non-tensors)" : "");
        throw new TraceException("trace " + entryPoint + ": the traced code returned " + got
                + ", but a traced function must return a Tensor, a Tensor[], a List<Tensor> or a record of Tensors");
    }

    /**
     * The components of a record of tensors, in component order (read through the accessors). Anything
     * else is {@code error} applied to a description of what was returned, naming the record type and
     * the offending component.
     */
    static List<Tensor> recordTensors(Record r, Function<String, RuntimeException> error) {
        String type = r.getClass().getName();
        java.lang.reflect.RecordComponent[] comps = r.getClass().getRecordComponents();
        if (comps.length == 0) throw error.apply("record " + type + ", which has no components");
        List<Tensor> out = new ArrayList<>(comps.length);
        for (java.lang.reflect.RecordComponent c : comps) {
            Object v;
            try {
                java.lang.reflect.Method accessor = c.getAccessor();
                accessor.setAccessible(true);
                v = accessor.invoke(r);
            } catch (java.lang.reflect.InvocationTargetException e) {
                if (e.getCause() instanceof RuntimeException re) throw re;
                throw new IllegalStateException("accessor " + type + "." + c.getName() + "() failed", e.getCause());
            } catch (ReflectiveOperationException | RuntimeException e) {
                throw error.apply("record " + type + ", whose component '" + c.getName() + "' cannot be read (" + e + ")");
            }
            if (!(v instanceof Tensor t)) {
                throw error.apply("record " + type + ", whose component '" + c.getName() + "' (declared " + c.getType().getSimpleName()
                        + ") is " + (v == null ? "null" : "a " + v.getClass().getName()) + ", not a Tensor");
            }
            out.add(t);
        }
        return out;
    }

    private static String graphName(String raw) {
        String cleaned = raw.replaceAll("[^A-Za-z0-9_.]", "_");
        if (cleaned.isEmpty() || !Character.isLetter(cleaned.charAt(0)) && cleaned.charAt(0) != '_') cleaned = "g_" + cleaned;
        return Character.toLowerCase(cleaned.charAt(0)) + cleaned.substring(1);
    }
}
