package dev.kiln.codegen;

import dev.kiln.ir.KilnException;
import dev.kiln.ir.Graph;
import dev.kiln.runtime.NDArray;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.LambdaMetafactory;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One graph lowered by the CPU backend for one binding of its symbolic dims: an instance of its generated hidden
 * class, the arena its tensors live in, and what was generated (a listing and one line per kernel). Runs are
 * serialised: the arena is this program's.
 */
public final class Program implements LoweredGraph {
    private final Graph graph;
    private final Map<String, Long> bindings;
    private final GeneratedCode code;
    private final byte[] classBytes;
    private final String className;
    private final List<String> listing;
    private final List<String> kernels;
    private final MemorySegment arena;
    private final List<TensorRef> outputs;

    Program(Graph graph, Map<String, Long> bindings, MethodHandles.Lookup lookup, byte[] classBytes, List<String> listing,
            List<String> kernels, MemorySegment arena, List<TensorRef> outputs, RowLoop[] rowLoops, List<String> loopObjects) {
        this.graph = graph;
        this.bindings = Map.copyOf(bindings);
        this.classBytes = classBytes;
        this.className = lookup.lookupClass().getName();
        this.listing = List.copyOf(listing);
        this.kernels = List.copyOf(kernels);
        this.arena = arena;
        this.outputs = List.copyOf(outputs);
        try {
            this.code = (GeneratedCode) lookup.lookupClass().getConstructor().newInstance();
            for (int i = 0; i < loopObjects.size(); i++) rowLoops[i] = rowLoop(lookup, loopObjects.get(i));
        } catch (Throwable e) {
            throw new IllegalStateException("codegen: the generated class for " + graph.name() + " could not be instantiated: " + e, e);
        }
    }

    private static RowLoop rowLoop(MethodHandles.Lookup lookup, String method) throws Throwable {
        MethodType rows = MethodType.methodType(void.class, long.class, long.class);
        MethodHandle target = lookup.findStatic(lookup.lookupClass(), method, rows);
        return (RowLoop) LambdaMetafactory.metafactory(lookup, "rows", MethodType.methodType(RowLoop.class), rows, target, rows)
                .getTarget().invoke();
    }

    /** Runs the generated code: results written into {@code outputs} (the graph's output dtypes and shapes). */
    @Override
    public synchronized void runInto(List<NDArray> inputs, List<NDArray> outputs) {
        if (inputs.size() != graph.inputs().size()) {
            throw new KilnException("graph " + graph.name() + " takes " + graph.inputs().size() + " inputs, got " + inputs.size());
        }
        if (outputs.size() != this.outputs.size()) {
            throw new KilnException("graph " + graph.name() + " has " + this.outputs.size() + " outputs, got " + outputs.size() + " output buffers");
        }
        code.run(inputs, outputs);
        CodegenStats.recordRun();
    }

    /** Runs the generated code into new output tensors (the only allocations of the run). */
    @Override
    public List<NDArray> run(List<NDArray> inputs) {
        List<NDArray> out = new ArrayList<>(outputs.size());
        for (TensorRef r : outputs) out.add(NDArray.zeros(r.dtype(), r.shape()));
        runInto(inputs, out);
        return out;
    }

    /** Whether {@code inputs} have exactly the shapes this program was generated for (no allocation). */
    boolean accepts(List<NDArray> inputs, long[][] inputShapes) {
        if (inputs.size() != inputShapes.length) return false;
        for (int i = 0; i < inputShapes.length; i++) {
            NDArray a = inputs.get(i);
            long[] s = inputShapes[i];
            if (a == null || a.rank() != s.length) return false;
            for (int d = 0; d < s.length; d++) if (a.dim(d) != s[d]) return false;
        }
        return true;
    }

    @Override
    public Map<String, Long> bindings() { return bindings; }

    /** One line per lowered op: what it became (a direct kernel, a generated loop, a reference kernel). */
    @Override
    public List<String> kernels() { return kernels; }

    /** The readable listing: every input, op and output with where its memory lives and what runs. */
    public List<String> listing() { return listing; }

    public byte[] classBytes() { return classBytes.clone(); }

    public String className() { return className; }

    public long arenaBytes() { return arena.byteSize(); }
}
