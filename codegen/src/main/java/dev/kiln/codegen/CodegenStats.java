package dev.kiln.codegen;

import java.util.concurrent.atomic.LongAdder;

/**
 * Process-wide counts of generated code: how many classes were generated and how many runs executed generated
 * code. Tests compare them before and after a call to show that a default path ran generated code.
 */
public final class CodegenStats {
    private static final LongAdder RUNS = new LongAdder();
    private static final LongAdder GENERATIONS = new LongAdder();

    private CodegenStats() {}

    /** Runs of generated code so far, on every thread. */
    public static long generatedRuns() { return RUNS.sum(); }

    /** Classes generated so far. */
    public static long generations() { return GENERATIONS.sum(); }

    static void recordRun() { RUNS.increment(); }

    static void recordGeneration() { GENERATIONS.increment(); }
}
