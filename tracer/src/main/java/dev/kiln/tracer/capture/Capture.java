package dev.kiln.tracer.capture;

import dev.kiln.tracer.SizeSymbols;

import dev.kiln.frontend.Compile;
import dev.kiln.frontend.Dispatch;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.autograd.Autograd;
import dev.kiln.frontend.nn.Module;
import dev.kiln.ir.Graph;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;
import dev.kiln.ir.Verifier;
import org.objectweb.asm.Type;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Captures a Java method into IR from its bytecode, TorchDynamo-style: the bytecode is executed
 * symbolically, tensor calls record IR, the model's own methods are inlined, branches on Java values
 * are folded, and branches and loops on tensor data ({@code x.sum().item() > 0}) become {@code if}
 * and {@code loop} ops. What it cannot capture faithfully is a {@link CaptureException} naming the
 * source line, never a silent fallback.
 *
 * <pre>{@code
 * CompiledFunction f = Capture.compile(model, TensorType.of(DType.F32, 2, 4));  // the @Compile method
 * Tensor y = f.call(x);
 * }</pre>
 */
public final class Capture {

    private Capture() {}

    /** Captures the one {@link Compile}-annotated method of {@code module}'s class for inputs of {@code inputTypes}. */
    public static CompiledFunction compile(Module module, TensorType... inputTypes) {
        List<Method> annotated = new ArrayList<>();
        for (Class<?> c = module.getClass(); c != null && c != Module.class; c = c.getSuperclass()) {
            for (Method m : c.getDeclaredMethods()) if (m.isAnnotationPresent(Compile.class) && !m.isBridge()) annotated.add(m);
        }
        if (annotated.size() != 1) {
            throw new IllegalArgumentException(module.getClass().getName() + " has " + annotated.size()
                    + " @Compile methods; name the method with compile(module, methodName, types)");
        }
        return capture(module, annotated.get(0), module.stateDict(), inputTypes);
    }

    /** Captures instance method {@code methodName} (taking {@code inputTypes.length} tensors) of {@code module}. */
    public static CompiledFunction compile(Module module, String methodName, TensorType... inputTypes) {
        return capture(module, find(module.getClass(), methodName, false, inputTypes.length), module.stateDict(), inputTypes);
    }

    /** Captures static method {@code methodName} (taking {@code inputTypes.length} tensors) of {@code owner}. */
    public static CompiledFunction compileStatic(Class<?> owner, String methodName, TensorType... inputTypes) {
        return capture(null, find(owner, methodName, true, inputTypes.length), Map.of(), inputTypes);
    }

    private static Method find(Class<?> owner, String name, boolean isStatic, int arity) {
        for (Class<?> c = owner; c != null; c = c.getSuperclass()) {
            for (Method m : c.getDeclaredMethods()) {
                if (m.getName().equals(name) && Modifier.isStatic(m.getModifiers()) == isStatic && !m.isBridge()
                        && m.getParameterCount() == arity && Arrays.stream(m.getParameterTypes()).allMatch(p -> p == Tensor.class)) {
                    return m;
                }
            }
        }
        throw new IllegalArgumentException(owner.getName() + " has no " + (isStatic ? "static" : "instance") + " method "
                + name + " taking " + arity + " Tensor argument(s)");
    }

    /**
     * Captures with symbolic dims set to an example size. With symbolic dims it captures twice, at two
     * sizes, and requires the same graph, except that a reshape/expand size that is exactly the
     * symbolic dim ({@code x.reshape(x.dim(0), -1)}) becomes the symbol ({@link SizeSymbols}); any other
     * size frozen into an op would make a graph that is wrong at other sizes, so it is an error. With
     * more than one distinct symbol every symbol has the same example size, so no entry is rewritten.
     */
    private static CompiledFunction capture(Object receiver, Method method, Map<String, ? extends Tensor> parameters, TensorType... inputTypes) {
        CompiledFunction first = capture(receiver, method, parameters, 2, inputTypes);
        boolean symbolic = java.util.Arrays.stream(inputTypes).anyMatch(t -> !t.shape().isStatic());
        if (!symbolic) return first;
        CompiledFunction second = capture(receiver, method, parameters, 3, inputTypes);
        java.util.Set<String> names = new java.util.LinkedHashSet<>();
        for (TensorType t : inputTypes) {
            for (dev.kiln.ir.Dim d : t.shape().dims()) if (d instanceof dev.kiln.ir.Dim.Symbolic(String n)) names.add(n);
        }
        List<SizeSymbols.Sizes> sizes = names.stream().map(n -> new SizeSymbols.Sizes(n, 2, 3)).toList();
        Graph graph;
        try {
            graph = SizeSymbols.rewrite(first.graph(), second.graph(), sizes);
        } catch (SizeSymbols.Mismatch m) {
            throw new CaptureException(first.entryPoint() + ": the captured graph depends on the size of a symbolic dim: captured at sizes 2 "
                    + "and 3, " + m.getMessage() + "\nA size read with dim() or shape() was frozen into an op. " + SizeSymbols.REWRITE_RULE);
        }
        return graph == first.graph() ? first : new CompiledFunction(graph, first.weights(), first.guards(), first.entryPoint());
    }

    private static CompiledFunction capture(Object receiver, Method method, Map<String, ? extends Tensor> parameters, long symbolicSize,
                                            TensorType... inputTypes) {
        Class<?> owner = method.getDeclaringClass();
        String entryPoint = owner.getSimpleName() + "." + method.getName();
        Graph graph = new Graph(graphName(owner.getSimpleName(), method.getName()));
        CaptureContext ctx = new CaptureContext(graph, parameters);
        ctx.symbolicSize = symbolicSize;
        MethodCode code = MethodCode.load(owner, method.getName(), Type.getMethodDescriptor(method), ctx.classes);
        List<Object> args = new ArrayList<>();
        int slot = code.isStatic() ? 0 : 1;
        for (int i = 0; i < inputTypes.length; i++) {
            TensorType t = inputTypes[i];
            long[] exampleShape = new long[t.rank()];
            for (int d = 0; d < exampleShape.length; d++) {
                dev.kiln.ir.Dim dim = t.shape().dims().get(d);
                if (dim instanceof dev.kiln.ir.Dim.Unknown) {
                    throw new IllegalArgumentException("capture " + entryPoint + ": input " + i + " has an unknown dim in " + t);
                }
                exampleShape[d] = dim.isStatic() ? dim.size() : symbolicSize;
            }
            Tensor example = Tensor.zeros(t.dtype(), exampleShape);
            String name = code.localName(slot++, 0);
            Value in = graph.addInput(name.startsWith("slot ") ? (inputTypes.length == 1 ? "x" : "x" + i) : name, t);
            ctx.recorder.bind(example, in);
            args.add(example);
        }
        Object result;
        try (Dispatch.RecordingScope _ = Dispatch.record(ctx.recorder); Autograd.GradMode _ = Autograd.noGrad()) {
            result = ctx.inline(code, receiver, args);
        }
        List<Value> outputs = new ArrayList<>();
        for (Tensor t : outputs(result, entryPoint)) outputs.add(ctx.recorder.valueOf(t));
        ctx.recorder.builder().ret(outputs.toArray(Value[]::new));
        Verifier.verify(graph);
        return new CompiledFunction(graph, ctx.recorder.usedWeights(), List.copyOf(ctx.guards.values()), entryPoint);
    }

    private static List<Tensor> outputs(Object result, String entryPoint) {
        if (result instanceof Tensor t) return List.of(t);
        if (result instanceof Tensor[] arr && arr.length > 0 && Arrays.stream(arr).allMatch(x -> x != null)) return List.of(arr);
        if (result instanceof List<?> list && !list.isEmpty() && list.stream().allMatch(Tensor.class::isInstance)) {
            return list.stream().map(Tensor.class::cast).toList();
        }
        if (result instanceof SymRecord r) {
            if (r.size() == 0) throw new CaptureException(entryPoint + ": returned " + r + " (made at " + r.made + "), which has no components");
            List<Tensor> out = new ArrayList<>();
            for (int i = 0; i < r.size(); i++) {
                Object v = r.value(i);
                if (!(v instanceof Tensor t)) {
                    throw new CaptureException(entryPoint + ": returned " + r + " (made at " + r.made + ") whose component '"
                            + r.componentName(i) + "' (declared " + r.componentType(i).getSimpleName() + ") is " + describe(v) + ", not a Tensor; a record returned from a @Compile method"
                            + " must hold only tensors");
                }
                out.add(t);
            }
            return out;
        }
        String got = result instanceof SymScalar ? "a tensor's Java value (from item())" : result == null ? "null" : result.getClass().getName();
        throw new CaptureException(entryPoint + ": returned " + got + ", but a @Compile method must return a Tensor, a Tensor[], a List<Tensor> or a record of Tensors");
    }

    private static String describe(Object v) {
        if (v == null) return "null";
        if (v instanceof SymScalar) return "a tensor's Java value (from item())";
        if (v instanceof HostScalar || v instanceof HostCompare || v instanceof SymCompare) return "a Java value computed from tensor data";
        if (v instanceof SymRecord r) return "a " + r;
        if (v instanceof Number || v instanceof String) return v instanceof String ? "\"" + v + "\"" : v.toString();
        return "a " + v.getClass().getName();
    }

    private static String graphName(String cls, String method) {
        String raw = method.equals("forward") ? cls : cls + "_" + method;
        String cleaned = raw.replaceAll("[^A-Za-z0-9_]", "_");
        if (cleaned.isEmpty() || !Character.isLetter(cleaned.charAt(0))) cleaned = "g_" + cleaned;
        return Character.toLowerCase(cleaned.charAt(0)) + cleaned.substring(1);
    }
}
