package dev.kiln.tracer;

import dev.kiln.frontend.Tensor;
import dev.kiln.ir.Dim;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;
import dev.kiln.tracer.capture.CaptureException;
import dev.kiln.tracer.capture.CompiledFunction;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A compiled method: calls run a captured graph specialised on the inputs' dtypes, ranks and static
 * dims (dynamic dims stay symbolic) and on the field values the capture read. The first call with a
 * new specialisation captures; later calls pay only the guard check. A field guard that no longer
 * holds recompiles; the cache is bounded, and reaching the bound is an error that says why each
 * recompile happened.
 */
public final class Compiled {

    /** Captures the method for input types, or runs it eagerly. */
    interface Target {
        CompiledFunction capture(TensorType[] types);

        Object runEagerly(Tensor[] inputs);
    }

    private final String name;
    private final Target target;
    private final CompileOptions options;
    private final Map<List<TensorType>, CompiledFunction> cache = new LinkedHashMap<>();
    private final List<String> compileReasons = new ArrayList<>();
    private String fallbackReason;

    Compiled(String name, Target target, CompileOptions options) {
        this.name = name;
        this.target = target;
        this.options = options;
    }

    /** Runs the method; for methods returning one tensor. */
    public Tensor call(Tensor... inputs) {
        List<Tensor> out = callAll(inputs);
        if (out.size() != 1) throw new IllegalStateException(name + " returns " + out.size() + " tensors; use callAll");
        return out.get(0);
    }

    /** Runs the method and returns every output tensor. */
    public synchronized List<Tensor> callAll(Tensor... inputs) {
        if (fallbackReason != null) return eager(inputs);
        CompiledFunction f;
        try {
            f = select(inputs);
        } catch (CaptureException e) {
            if (!options.fallbackToEager()) throw e;
            fallbackReason = e.getMessage();
            System.getLogger("dev.kiln.tracer").log(System.Logger.Level.WARNING,
                    name + " runs eagerly (CompileOptions.fallbackToEager): " + e.getMessage());
            return eager(inputs);
        }
        return f.callAll(inputs);
    }

    /** The specialisation for {@code inputs}, capturing it if needed (the guard check of every call). */
    public synchronized CompiledFunction select(Tensor... inputs) {
        List<TensorType> key = specialisation(inputs);
        CompiledFunction f = cache.get(key);
        String reason;
        if (f == null) {
            reason = cache.isEmpty() ? "first call with " + key : "new input types " + key;
        } else {
            String failed = f.failedGuard();
            if (failed == null) return f;
            reason = "guard failed: " + failed;
            cache.remove(key);
        }
        if (compileReasons.size() >= options.cacheLimit()) {
            throw new IllegalStateException(name + ": compiled " + compileReasons.size() + " times, the limit of CompileOptions.cacheLimit ("
                    + options.cacheLimit() + "); the compilations were for: " + String.join("; ", compileReasons) + "; now: " + reason
                    + ". Mark changing dims dynamic, or keep configuration fields constant.");
        }
        compileReasons.add(reason);
        f = target.capture(key.toArray(TensorType[]::new));
        cache.put(key, f);
        return f;
    }

    /** How many times the method was captured, and why. */
    public synchronized List<String> compilations() { return List.copyOf(compileReasons); }

    /** Why the method runs eagerly, or null when it is compiled. */
    public synchronized String fallbackReason() { return fallbackReason; }

    private List<Tensor> eager(Tensor[] inputs) {
        Object out = target.runEagerly(inputs);
        if (out instanceof Tensor t) return List.of(t);
        if (out instanceof Tensor[] arr) return List.of(arr);
        if (out instanceof List<?> list && list.stream().allMatch(Tensor.class::isInstance)) return list.stream().map(Tensor.class::cast).toList();
        if (out instanceof Record r) return Kiln.recordTensors(r, what -> new IllegalStateException(name + " returned " + what));
        throw new IllegalStateException(name + " returned " + out + ", not tensors");
    }

    private List<TensorType> specialisation(Tensor[] inputs) {
        List<TensorType> key = new ArrayList<>(inputs.length);
        for (int i = 0; i < inputs.length; i++) {
            long[] shape = inputs[i].shape();
            List<Dim> dims = new ArrayList<>(shape.length);
            for (long s : shape) dims.add(Dim.of(s));
            for (TraceOptions.DynamicDim d : options.dynamicDims()) {
                if (d.input() == i) dims.set(Shape.normalizeAxis(d.axis(), shape.length), Dim.sym(d.name()));
            }
            key.add(new TensorType(inputs[i].dtype(), new Shape(dims)));
        }
        return key;
    }

    @Override
    public String toString() { return "Compiled(" + name + ", " + cache.size() + " specialisations: " + Arrays.toString(cache.keySet().toArray()) + ")"; }
}
