package dev.kiln.tracer;

import java.util.ArrayList;
import java.util.List;

/**
 * How to trace: the graph name and which input dims are dynamic (kept symbolic in the graph, so the
 * traced function accepts any size there). All other dims are fixed to the example's sizes.
 */
public record TraceOptions(String graphName, List<DynamicDim> dynamicDims) {

    /** Input {@code input}'s dim {@code axis} is the symbolic size {@code name}. */
    public record DynamicDim(int input, int axis, String name) {}

    public TraceOptions {
        dynamicDims = List.copyOf(dynamicDims);
    }

    public static TraceOptions defaults() { return new TraceOptions(null, List.of()); }

    public TraceOptions named(String name) { return new TraceOptions(name, dynamicDims); }

    /** Marks a dim dynamic, e.g. {@code dynamic(0, 0, "N")} for the batch dim of the first input. */
    public TraceOptions dynamic(int input, int axis, String name) {
        List<DynamicDim> dims = new ArrayList<>(dynamicDims);
        dims.add(new DynamicDim(input, axis, name));
        return new TraceOptions(graphName, dims);
    }
}
