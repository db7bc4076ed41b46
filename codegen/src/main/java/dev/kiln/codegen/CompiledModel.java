package dev.kiln.codegen;

import dev.kiln.ir.KilnException;
import dev.kiln.ir.Dim;
import dev.kiln.ir.Graph;
import dev.kiln.ir.IrParser;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;
import dev.kiln.passes.MemoryPlan;
import dev.kiln.passes.MemoryPlanner;
import dev.kiln.passes.Optimize;
import dev.kiln.runtime.InputMismatchException;
import dev.kiln.runtime.MemoryScope;
import dev.kiln.runtime.NDArray;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A graph compiled to generated code: O2 runs once on a copy of the graph (the caller's graph is unchanged); then
 * each new binding of its symbolic dims (a new batch size, say) costs one memory plan and one code generation,
 * cached; the cache holds {@link #cacheLimit()} bindings and drops the least recently used beyond that (each
 * drop is reported by {@link #explain()}). Code is specialised to sizes rather than size-polymorphic: sizes and
 * arena offsets are constants in it.
 *
 * <p>Weights are read by reference at every run, so in-place updates of a weight are seen, except for the weights
 * O2 derives from others (convolutions with BatchNorm folded in), which are computed once, at compile time.
 *
 * <p>Runs are serialised: each generated program computes in one arena of its own. To serve from several threads
 * at once, compile one model per thread.
 */
public final class CompiledModel {
    /** Bindings kept by default. */
    public static final int DEFAULT_CACHE_LIMIT = 8;

    private final Graph source;
    private final Optimize.Result optimized;
    private final Backend backend;
    private final int cacheLimit;
    private final long o2Nanos;
    private final LinkedHashMap<Map<String, Long>, Entry> cache = new LinkedHashMap<>(16, 0.75f, true);
    private final List<String> events = new ArrayList<>();
    private Entry last;

    private record Entry(LoweredGraph code, long[][] inputShapes, long nanos) {}

    private CompiledModel(Graph source, Optimize.Result optimized, Backend backend, int cacheLimit, long o2Nanos) {
        this.source = source;
        this.optimized = optimized;
        this.backend = backend;
        this.cacheLimit = cacheLimit;
        this.o2Nanos = o2Nanos;
    }

    /** Compiles {@code graph} (not changed) with weight data {@code weights} for the CPU. */
    public static CompiledModel compile(Graph graph, Map<String, NDArray> weights) {
        return compile(graph, weights, new CpuBackend(), DEFAULT_CACHE_LIMIT);
    }

    /** Compiles for {@code backend}, keeping at most {@code cacheLimit} bindings of symbolic dims. */
    public static CompiledModel compile(Graph graph, Map<String, NDArray> weights, Backend backend, int cacheLimit) {
        if (cacheLimit < 1) throw new KilnException("CompiledModel: cacheLimit must be >= 1, got " + cacheLimit);
        long t0 = System.nanoTime();
        Graph copy = IrParser.parse(IrPrinter.print(graph));
        // folded weights and constants outlive whatever MemoryScope the caller has open
        Optimize.Result o2 = MemoryScope.outsideScopes(() -> Optimize.o2(copy, weights, Map.of(), false));
        return new CompiledModel(graph, o2, backend, cacheLimit, System.nanoTime() - t0);
    }

    /** Runs generated code on {@code inputs} and returns new output tensors. */
    public synchronized List<NDArray> run(List<NDArray> inputs) {
        return select(inputs).code.run(inputs);
    }

    /** Runs generated code with results written into {@code outputs}; allocates nothing in the steady state. */
    public synchronized void runInto(List<NDArray> inputs, List<NDArray> outputs) {
        select(inputs).code.runInto(inputs, outputs);
    }

    /** The generated code for these inputs' sizes, generating it on first use. */
    public synchronized LoweredGraph lowered(List<NDArray> inputs) { return select(inputs).code; }

    private Entry select(List<NDArray> inputs) {
        Entry e = last;
        if (e != null && e.code instanceof Program p && p.accepts(inputs, e.inputShapes)) return e;
        Map<String, Long> bindings = bind(inputs);
        e = cache.get(bindings);
        if (e == null) {
            long t0 = System.nanoTime();
            Graph g = optimized.graph();
            ConcreteShapes sizes = ConcreteShapes.of(g, bindings);   // also checks every op at these sizes
            MemoryPlan plan;
            try {
                plan = MemoryPlanner.plan(g, bindings, true, sizes::shape);
            } catch (IllegalArgumentException unplannable) {
                throw new UncompilableGraphException("codegen: graph " + source.name() + " cannot be compiled for sizes " + bindings
                        + ": " + unplannable.getMessage() + ". Compiled code needs every tensor size known from the input sizes;"
                        + " run this graph on the reference interpreter (O0) instead", unplannable);
            }
            LoweredGraph code = MemoryScope.outsideScopes(() -> backend.lower(g, optimized.weights(), plan));
            long[][] shapes = new long[inputs.size()][];
            for (int i = 0; i < shapes.length; i++) shapes[i] = inputs.get(i).shape();
            e = new Entry(code, shapes, System.nanoTime() - t0);
            cache.put(bindings, e);
            events.add(String.format("generated code for %s in %.1f ms", bindings, e.nanos / 1e6));
            if (cache.size() > cacheLimit) {
                Map<String, Long> eldest = cache.keySet().iterator().next();
                cache.remove(eldest);
                events.add("dropped the code for " + eldest + " (cache limit " + cacheLimit + ")");
            }
        }
        last = e;
        return e;
    }

    /** The sizes the inputs give the graph's symbolic dims; a clear error for a dtype, rank or static size that differs. */
    private Map<String, Long> bind(List<NDArray> inputs) {
        List<Value> params = optimized.graph().inputs();
        if (inputs.size() != params.size()) {
            throw new KilnException("graph " + source.name() + " takes " + params.size() + " inputs, got " + inputs.size());
        }
        Map<String, Long> bindings = new TreeMap<>();
        for (int i = 0; i < params.size(); i++) {
            NDArray a = inputs.get(i);
            TensorType t = params.get(i).tensorType();
            boolean ok = a != null && a.dtype() == t.dtype() && a.rank() == t.rank();
            for (int d = 0; ok && d < t.rank(); d++) {
                Dim dim = t.shape().dims().get(d);
                long size = a.dim(d);
                if (dim instanceof Dim.Static s) ok = s.size() == size;
                else if (dim instanceof Dim.Symbolic s) ok = bindings.computeIfAbsent(s.name(), k -> size) == size;
            }
            if (!ok) {
                throw new InputMismatchException(source.name() + ": input " + i + " expected " + t + ", got "
                        + (a == null ? "null" : a.dtype().irName() + Arrays.toString(a.shape())) + (bindings.isEmpty() ? "" : " (bound sizes " + bindings + ")"));
            }
        }
        return bindings;
    }

    /** The optimised graph the code is generated from. */
    public Graph optimizedGraph() { return optimized.graph(); }

    public int cacheLimit() { return cacheLimit; }

    /** Bindings with generated code now. */
    public synchronized List<Map<String, Long>> cachedBindings() { return List.copyOf(cache.keySet()); }

    /**
     * The O2 report, then, per generated binding, the generated kernels by op group (direct kernel, generated
     * loop, reference kernel) and the code-generation history (generations and cache drops).
     */
    public synchronized String explain() {
        // O2 ran without sizes; the memory plan is made per size binding, so say that instead of "not planned"
        StringBuilder sb = new StringBuilder(optimized.explain().replaceAll("(?m)^memory: not planned \\(.*\\)$",
                "memory: planned per size binding (arena sizes below)"));
        sb.append(String.format("compiled for backend %s (O2 %.1f ms); code is specialised per size binding, cache limit %d%n",
                backend.name(), o2Nanos / 1e6, cacheLimit));
        for (var e : cache.entrySet()) {
            sb.append("generated code for ").append(e.getKey()).append(String.format(" (%.1f ms", e.getValue().nanos / 1e6));
            if (e.getValue().code instanceof Program p) sb.append(String.format(", arena %.1f KiB", p.arenaBytes() / 1024.0));
            sb.append("):\n");
            for (String k : e.getValue().code.kernels()) sb.append("  ").append(k).append('\n');
        }
        if (!events.isEmpty()) {
            sb.append("code generation history:\n");
            for (String ev : events) sb.append("  ").append(ev).append('\n');
        }
        return sb.toString();
    }
}
