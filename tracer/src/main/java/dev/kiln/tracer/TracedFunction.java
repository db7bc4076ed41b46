package dev.kiln.tracer;

import dev.kiln.ir.Graph;
import dev.kiln.runtime.NDArray;

import java.util.List;
import java.util.Map;

/**
 * The result of tracing: the graph of one eager run. A call whose inputs differ in dtype or in a
 * non-dynamic dim from the traced ones is an error; trace again, or mark the dim dynamic.
 */
public final class TracedFunction extends GraphFunction {

    private final List<String> warnings;

    TracedFunction(Graph graph, Map<String, NDArray> weights, String entryPoint, List<String> warnings) {
        super(graph, weights, entryPoint);
        this.warnings = List.copyOf(warnings);
    }

    /** Warnings from tracing, such as data reads baked into the graph under TraceOptions.bakeDataReads. */
    public List<String> warnings() { return warnings; }

    @Override
    protected String mismatchAdvice() {
        return "trace again for these inputs, or mark the differing dim dynamic with TraceOptions.dynamic(input, axis, name)";
    }
}
