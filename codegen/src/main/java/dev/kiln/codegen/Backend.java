package dev.kiln.codegen;

import dev.kiln.ir.Graph;
import dev.kiln.passes.MemoryPlan;
import dev.kiln.runtime.NDArray;

import java.util.Map;

/**
 * A code-generation target: lowers an optimised graph with its weights and memory plan (which fixes the sizes of
 * its symbolic dims) to something that runs. Today's target is {@link CpuBackend} (generated JVM code); a CUDA
 * target implements the same interface.
 */
public interface Backend {
    String name();

    LoweredGraph lower(Graph graph, Map<String, NDArray> weights, MemoryPlan plan);
}
