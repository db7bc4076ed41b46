package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.runtime.NDArray;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The O2 pipeline with the graph's weight data (so BatchNorm can be folded into convolutions and
 * linear layers), followed by memory planning, and a readable account of what happened: ops before
 * and after each pass, the folds and fusions formed (transformer patterns, then linear/conv +
 * activation), the elementwise groups, and planned versus lower-bound versus naive bytes.
 */
public final class Optimize {

    /** What O2 produced: the optimised graph (the input graph, changed in place) and the weights to run it with. */
    public record Result(Graph graph, Map<String, NDArray> weights, List<PassSummary> passes, List<String> folds,
                         List<String> fusions, List<FuseElementwise.Group> groups, MemoryPlan plan, String planProblem,
                         int opsBefore, int opsAfter, Duration time) {

        /** The explain report. */
        public String explain() {
            StringBuilder sb = new StringBuilder();
            sb.append(String.format("O2 on @%s: %d nodes -> %d nodes in %.1f ms%n", graph.name(), opsBefore, opsAfter, time.toNanos() / 1e6));
            sb.append("passes that changed the graph (ops before -> after, nested ops included; time):\n");
            for (PassSummary p : passes) {
                if (p.changed()) sb.append(String.format("  %-18s %5d -> %-5d %7.2f ms%n", p.pass(), p.opsBefore(), p.opsAfter(), p.time().toNanos() / 1e6));
            }
            if (!folds.isEmpty()) sb.append("folds:\n").append(lines(folds));
            if (!fusions.isEmpty()) sb.append("fusions:\n").append(lines(fusions));
            if (!groups.isEmpty()) sb.append("elementwise fusion groups:\n").append(lines(groups.stream().map(Object::toString).toList()));
            if (plan != null) {
                sb.append(String.format("memory: planned peak %s vs lower bound %s vs naive %s (peak/lower %.2f, peak/naive %.2f; %d tensors, %d in place, %d views)%n",
                        kib(plan.peakBytes()), kib(plan.lowerBound()), kib(plan.naiveBytes()),
                        (double) plan.peakBytes() / Math.max(1, plan.lowerBound()), (double) plan.peakBytes() / Math.max(1, plan.naiveBytes()),
                        plan.buffers().size(), plan.inPlaceCount(), plan.views().size()));
            } else {
                sb.append("memory: not planned (").append(planProblem).append(")\n");
            }
            return sb.toString();
        }

        private static String lines(List<String> items) {
            StringBuilder sb = new StringBuilder();
            for (String s : items) sb.append("  ").append(s).append('\n');
            return sb.toString();
        }

        private static String kib(long bytes) { return String.format("%.1f KiB", bytes / 1024.0); }
    }

    /** How many rounds O2 may take before stopping even if a pass still reports changes. */
    public static final int MAX_ROUNDS = 10;

    private Optimize() {}

    /** The O2 passes in order, with a fresh {@link FuseTransformerPatterns}. */
    /**
     * The O2 passes in order; BatchNorm folding uses {@code weights}' data (an empty map folds constants only). The
     * transformer patterns come before linear + activation fusion (BiasGelu takes a linear's bias and gelu) and
     * both before elementwise fusion, which then groups what is left.
     */
    static List<Pass> o2Passes(FoldConvBatchNorm fold, FuseTransformerPatterns fuseTransformer, FuseLinearActivation fuseLinear,
                               FuseElementwise fuseElementwise) {
        List<Pass> passes = new ArrayList<>(PassManager.o1Passes());
        passes.add(fold);
        passes.add(fuseTransformer);
        passes.add(fuseLinear);
        passes.add(fuseElementwise);
        passes.add(new InterleaveCatShuffle());
        passes.add(new DeadCodeElimination());
        return passes;
    }

    /**
     * Runs O2 on {@code graph} (in place) with {@code weights}, then plans memory with {@code bindings}
     * for its symbolic dims (a graph with unbound or unknown dims is optimised but not planned).
     */
    public static Result o2(Graph graph, Map<String, NDArray> weights, Map<String, Long> bindings, boolean verifyEach) {
        FoldConvBatchNorm fold = new FoldConvBatchNorm(weights);
        FuseTransformerPatterns fuseTransformer = new FuseTransformerPatterns();
        FuseLinearActivation fuseLinear = new FuseLinearActivation();
        FuseElementwise fuseElementwise = new FuseElementwise();
        PassManager pm = new PassManager("O2").untilFixedPoint(MAX_ROUNDS).verifyEach(verifyEach);
        for (Pass p : o2Passes(fold, fuseTransformer, fuseLinear, fuseElementwise)) pm.add(p);
        int before = countOps(graph);
        long t0 = System.nanoTime();
        List<PassSummary> summaries = pm.run(graph);
        Duration time = Duration.ofNanos(System.nanoTime() - t0);
        MemoryPlan plan = null;
        String problem = null;
        try {
            plan = MemoryPlanner.plan(graph, bindings);
            MemoryPlanChecker.check(graph, bindings, plan);
        } catch (IllegalArgumentException e) {
            problem = e.getMessage();
        }
        List<String> fusions = new ArrayList<>(fuseTransformer.fusions());
        fusions.addAll(fuseLinear.fusions());
        return new Result(graph, fold.weights(), summaries, fold.folds(), List.copyOf(fusions), fuseElementwise.groups(), plan, problem,
                before, countOps(graph), time);
    }

    /** Top-level nodes of the graph, as ONNX Runtime counts them: a fused op is one node; the return is not one. */
    static int countOps(Graph graph) {
        return (int) graph.body().ops().stream().filter(op -> !op.has(dev.kiln.ir.Trait.TERMINATOR)).count();
    }
}
