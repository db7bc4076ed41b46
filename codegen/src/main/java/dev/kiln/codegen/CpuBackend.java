package dev.kiln.codegen;

import dev.kiln.ir.Graph;
import dev.kiln.passes.MemoryPlan;
import dev.kiln.runtime.NDArray;

import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The CPU target: a hidden class per graph and binding whose run method calls kernels directly on arena memory
 * ({@link Lowering}). With environment variable {@code KILN_DUMP_CODE=DIR} (or system property
 * {@code kiln.dumpCode}) each generated class is written to DIR with a readable listing ({@link CodeDump}).
 */
public final class CpuBackend implements Backend {
    private static final AtomicLong COUNTER = new AtomicLong();

    @Override
    public String name() { return "cpu-jvm"; }

    @Override
    public Program lower(Graph graph, Map<String, NDArray> weights, MemoryPlan plan) {
        String name = "Kiln$" + sanitize(graph.name()) + "$" + COUNTER.incrementAndGet();
        Program p = new Lowering(graph, weights, plan, name).lower();
        CodegenStats.recordGeneration();
        CodeDump.maybeWrite(p);
        return p;
    }

    private static String sanitize(String s) {
        String t = s.replaceAll("[^A-Za-z0-9_]", "_");
        return t.isEmpty() ? "graph" : t;
    }
}
