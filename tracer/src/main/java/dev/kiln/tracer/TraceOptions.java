package dev.kiln.tracer;

import java.util.ArrayList;
import java.util.List;

/**
 * How to trace: the graph name; which input dims are dynamic (kept symbolic, so the traced function
 * accepts any size there); whether parameters are frozen into constants; and whether reading tensor
 * data into Java is allowed (its value is then baked into the graph, with a logged warning).
 */
public record TraceOptions(String graphName, List<DynamicDim> dynamicDims, boolean freeze, boolean bakeDataReads) {

    /** Input {@code input}'s dim {@code axis} is the symbolic size {@code name}. */
    public record DynamicDim(int input, int axis, String name) {}

    public TraceOptions {
        dynamicDims = List.copyOf(dynamicDims);
    }

    public static TraceOptions defaults() { return new TraceOptions(null, List.of(), false, false); }

    public TraceOptions named(String name) { return new TraceOptions(name, dynamicDims, freeze, bakeDataReads); }

    /** Marks a dim dynamic, e.g. {@code dynamic(0, 0, "N")} for the batch dim of the first input. */
    public TraceOptions dynamic(int input, int axis, String name) {
        List<DynamicDim> dims = new ArrayList<>(dynamicDims);
        dims.add(new DynamicDim(input, axis, name));
        return new TraceOptions(graphName, dims, freeze, bakeDataReads);
    }

    /** Parameters become constants holding their current values instead of named weights. */
    public TraceOptions freeze(boolean value) { return new TraceOptions(graphName, dynamicDims, value, bakeDataReads); }

    /**
     * Allows {@code item()}, {@code toFloatArray()} and the like in traced code: the value read during
     * tracing is baked into the graph (a branch on it always takes the same arm), and each read is
     * logged as a warning with its source line. Off by default: tracing then stops at the read.
     */
    public TraceOptions bakeDataReads(boolean value) { return new TraceOptions(graphName, dynamicDims, freeze, value); }
}
