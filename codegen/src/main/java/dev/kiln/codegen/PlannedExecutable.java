package dev.kiln.codegen;

import dev.kiln.ir.Graph;
import dev.kiln.passes.MemoryPlan;
import dev.kiln.passes.MemoryPlanChecker;
import dev.kiln.passes.MemoryPlanner;
import dev.kiln.passes.Optimize;
import dev.kiln.runtime.ArenaLayout;
import dev.kiln.runtime.Interpreter;
import dev.kiln.runtime.MemoryScope;
import dev.kiln.runtime.NDArray;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A graph with a checked {@link MemoryPlan} and one arena preallocated for it: {@link #run} executes
 * the graph in the interpreter's planned mode ({@link Interpreter#runInArena}), so every tensor result
 * of a top-level op is written into its planned slot and runs reuse the same memory. This is the
 * interpreter inside a memory plan, an explicit choice for checking plans; the default compiled path is
 * {@link CompiledModel}.
 *
 * <ul>
 *   <li>Outputs are copies out of the arena and stay valid after the next run; inputs and weights
 *       are never written.</li>
 *   <li>The first run may allocate kernel scratch (im2col buffers) that does not fit yet; the arena
 *       then grows to fit it, so later runs of the same shapes allocate nothing but the outputs.</li>
 *   <li>Inputs must bind symbolic dims to the sizes the plan was made for ({@link MemoryPlan#bindings}).</li>
 *   <li>The arena comes from the {@link MemoryScope} open when the executable is made (GC-managed
 *       outside any scope); it cannot run after that scope closes. Runs on one executable are
 *       serialised.</li>
 * </ul>
 */
public final class PlannedExecutable {

    private final Graph graph;
    private final MemoryPlan plan;
    private final ArenaLayout layout;
    private final Arena memory;
    private MemorySegment arena;
    private Interpreter.ArenaRun lastRun;

    private PlannedExecutable(Graph graph, MemoryPlan plan) {
        this.graph = graph;
        this.plan = plan;
        this.layout = plan.arenaLayout();
        layout.check(graph);
        this.memory = MemoryScope.currentArena();
        this.arena = layout.allocate(memory, 0);
    }

    /** Plans {@code graph} for {@code bindings} (in-place reuse on) and prepares its arena. */
    public static PlannedExecutable plan(Graph graph, Map<String, Long> bindings) {
        return of(graph, MemoryPlanner.plan(graph, bindings));
    }

    /**
     * The O2 result's graph ready to run inside its memory plan, with a new arena (run it with the result's
     * weights); an error saying why when the graph could not be planned.
     */
    public static PlannedExecutable of(Optimize.Result optimized) {
        if (optimized.plan() == null) {
            throw new IllegalStateException("O2 result for @" + optimized.graph().name() + " has no memory plan: " + optimized.planProblem());
        }
        return of(optimized.graph(), optimized.plan());
    }

    /** Prepares {@code graph} to run inside {@code plan}, after checking the plan with {@link MemoryPlanChecker}. */
    public static PlannedExecutable of(Graph graph, MemoryPlan plan) {
        MemoryPlanChecker.check(graph, plan.bindings(), plan);
        return new PlannedExecutable(graph, plan);
    }

    /** Runs the graph on {@code inputs} with {@code weights} bound by name, inside the arena; returns the outputs. */
    public synchronized List<Object> run(List<?> inputs, Map<String, NDArray> weights) {
        if (!arena.scope().isAlive()) {
            throw new IllegalStateException("planned graph " + graph.name() + ": its arena belonged to a MemoryScope that has"
                    + " closed; make the executable outside that scope or in one that outlives its runs");
        }
        Interpreter.ArenaRun run = Interpreter.runInArena(graph, layout, arena, inputs, weights);
        lastRun = run;
        if (layout.bytes() + run.scratchBytes() > arena.byteSize()) arena = layout.allocate(memory, run.scratchBytes());
        return run.outputs();
    }

    /** {@link #run} for graphs whose outputs are all tensors. */
    public List<NDArray> runTensors(List<NDArray> inputs, Map<String, NDArray> weights) {
        List<NDArray> out = new ArrayList<>();
        for (Object o : run(inputs, weights)) {
            if (!(o instanceof NDArray a)) throw new IllegalStateException("graph " + graph.name() + " returns a scalar " + o);
            out.add(a);
        }
        return out;
    }

    /** How the last run placed its results (null before the first run). */
    public synchronized Interpreter.ArenaRun lastRun() { return lastRun; }

    public Graph graph() { return graph; }

    public MemoryPlan plan() { return plan; }

    /** Bytes of the arena now held: the plan's peak plus the scratch space seen so far. */
    public synchronized long arenaBytes() { return arena.byteSize(); }
}
