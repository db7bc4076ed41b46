package dev.kiln.passes;

import dev.kiln.ir.Block;
import dev.kiln.ir.Graph;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.Op;
import dev.kiln.ir.VerificationException;
import dev.kiln.ir.Verifier;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Consumer;

/**
 * Runs passes in order over a graph. Pipelines are assembled explicitly: {@link #pipeline(String)}
 * gives the named optimisation levels, {@link #add(Pass)} builds custom ones. Optionally verifies the
 * graph before the first and after every pass (so a broken pass is named at once) and dumps the IR
 * after every pass. Each run returns a {@link PassSummary} per pass.
 */
public final class PassManager {

    /** The named pipelines, in order of increasing optimisation. */
    public static final List<String> PIPELINES = List.of("O0", "O1", "O2");

    private final String name;
    private final List<Pass> passes = new ArrayList<>();
    private boolean verifyEach;
    private Consumer<String> dump;
    private int maxRounds = 1;

    /** An empty pipeline; {@code name} appears in error messages. */
    public PassManager(String name) { this.name = name; }

    /** How many rounds {@code O1} may take before it stops even if a pass still reports changes. */
    public static final int O1_MAX_ROUNDS = 10;

    /**
     * A fresh named pipeline: {@code O0} runs nothing; {@code O1} runs {@link #o1Passes()}
     * (canonicalize, constant-fold, dedupe-constants, cse, dce) repeatedly until a whole round changes
     * nothing (at most {@link #O1_MAX_ROUNDS} rounds); {@code O2} adds BatchNorm folding, the transformer
     * patterns (BiasGelu, SkipLayerNorm), linear/conv + activation fusion and elementwise fusion ({@link Optimize#o2} runs it with the weights' data and
     * plans memory). Throws {@link IllegalArgumentException} listing the known names otherwise.
     */
    public static PassManager pipeline(String level) {
        return switch (level) {
            case "O0" -> new PassManager("O0");
            case "O1" -> addAll(new PassManager("O1"), o1Passes()).untilFixedPoint(O1_MAX_ROUNDS);
            // Without weight data BatchNorm folds only into constants; Optimize.o2 passes the weights.
            case "O2" -> addAll(new PassManager("O2"), Optimize.o2Passes(new FoldConvBatchNorm(java.util.Map.of()),
                    new FuseTransformerPatterns(), new FuseLinearActivation(), new FuseElementwise())).untilFixedPoint(Optimize.MAX_ROUNDS);
            default -> throw new IllegalArgumentException("unknown pipeline '" + level + "'; known: " + PIPELINES);
        };
    }

    /**
     * Fresh instances of the O1 passes, in order. A higher level can start from these (for example
     * O1's passes followed by fusion and memory planning) without repeating the list.
     */
    public static List<Pass> o1Passes() {
        return List.of(new Canonicalize(), new ConstantFolding(), new ConstantDeduplication(),
                new CommonSubexpressionElimination(), new DeadCodeElimination());
    }

    private static PassManager addAll(PassManager pm, List<Pass> passes) {
        for (Pass p : passes) pm.add(p);
        return pm;
    }

    /**
     * Runs the whole pass list again while any pass of the previous round reported a change, at most
     * {@code maxRounds} rounds in all (1, the default, runs each pass once). Summaries and dumps cover
     * every pass run of every round.
     */
    public PassManager untilFixedPoint(int maxRounds) {
        if (maxRounds < 1) throw new IllegalArgumentException("maxRounds must be >= 1, got " + maxRounds);
        this.maxRounds = maxRounds;
        return this;
    }

    public int maxRounds() { return maxRounds; }

    /** Appends a pass; returns this manager for chaining. */
    public PassManager add(Pass pass) {
        passes.add(java.util.Objects.requireNonNull(pass, "pass"));
        return this;
    }

    /** Whether to run the {@link Verifier} on the input and after every pass (off by default). */
    public PassManager verifyEach(boolean on) {
        this.verifyEach = on;
        return this;
    }

    /**
     * Sends the IR text after every pass to {@code sink} (null turns dumping off). Each dump starts with
     * a {@code // after <pass>} comment line, which the parser skips, so dumps can be read back.
     */
    public PassManager dumpEach(Consumer<String> sink) {
        this.dump = sink;
        return this;
    }

    public String name() { return name; }

    public List<Pass> passes() { return Collections.unmodifiableList(passes); }

    /**
     * Runs every pass on {@code graph} in place and returns one summary per pass. With
     * {@link #verifyEach(boolean)}, an invalid input or a pass that breaks the graph fails with a
     * {@link VerificationException} naming the pipeline and the pass.
     */
    public List<PassSummary> run(Graph graph) {
        if (verifyEach) verify(graph, "the input to pipeline " + name);
        List<PassSummary> summary = new ArrayList<>();
        for (int round = 0; round < maxRounds; round++) {
            if (!runOnce(graph, summary)) break;
        }
        return summary;
    }

    /** One run of every pass, appending to {@code summary}; true when any pass changed the graph. */
    private boolean runOnce(Graph graph, List<PassSummary> summary) {
        boolean any = false;
        for (Pass pass : passes) {
            int before = countOps(graph.body());
            long start = System.nanoTime();
            boolean changed = pass.run(graph);
            any |= changed;
            Duration time = Duration.ofNanos(System.nanoTime() - start);
            summary.add(new PassSummary(pass.name(), changed, before, countOps(graph.body()), time));
            if (dump != null) {
                dump.accept("// after " + pass.name() + (changed ? "" : " (unchanged)") + "\n" + IrPrinter.print(graph));
            }
            if (verifyEach) verify(graph, "the graph after pass '" + pass.name() + "' in pipeline " + name);
        }
        return any;
    }

    private static void verify(Graph graph, String what) {
        try {
            Verifier.verify(graph);
        } catch (VerificationException e) {
            throw new VerificationException(what + " is invalid: " + e.getMessage(), e.op());
        }
    }

    /** Ops in the block and, recursively, in their regions (terminators included). */
    static int countOps(Block block) {
        int n = 0;
        for (Op op : block.ops()) {
            n++;
            for (Block region : op.regions()) n += countOps(region);
        }
        return n;
    }
}
