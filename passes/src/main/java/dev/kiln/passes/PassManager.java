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
    public static final List<String> PIPELINES = List.of("O0", "O1");

    private final String name;
    private final List<Pass> passes = new ArrayList<>();
    private boolean verifyEach;
    private Consumer<String> dump;

    /** An empty pipeline; {@code name} appears in error messages. */
    public PassManager(String name) { this.name = name; }

    /**
     * A fresh named pipeline: {@code O0} runs nothing, {@code O1} runs dead-code elimination.
     * Throws {@link IllegalArgumentException} listing the known names otherwise.
     */
    public static PassManager pipeline(String level) {
        return switch (level) {
            case "O0" -> new PassManager("O0");
            case "O1" -> new PassManager("O1").add(new DeadCodeElimination());
            default -> throw new IllegalArgumentException("unknown pipeline '" + level + "'; known: " + PIPELINES);
        };
    }

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
        for (Pass pass : passes) {
            int before = countOps(graph.body());
            long start = System.nanoTime();
            boolean changed = pass.run(graph);
            Duration time = Duration.ofNanos(System.nanoTime() - start);
            summary.add(new PassSummary(pass.name(), changed, before, countOps(graph.body()), time));
            if (dump != null) {
                dump.accept("// after " + pass.name() + (changed ? "" : " (unchanged)") + "\n" + IrPrinter.print(graph));
            }
            if (verifyEach) verify(graph, "the graph after pass '" + pass.name() + "' in pipeline " + name);
        }
        return summary;
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
