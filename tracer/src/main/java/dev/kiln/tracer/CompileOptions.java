package dev.kiln.tracer;

import java.util.ArrayList;
import java.util.List;

/**
 * How {@link Kiln#compile} specialises: which input dims are dynamic (symbolic, never a reason to
 * recompile), how many specialisations the cache may hold, and whether a method that cannot be
 * captured may run eagerly instead (an explicit opt-in; each fallback is logged).
 */
public record CompileOptions(List<TraceOptions.DynamicDim> dynamicDims, int cacheLimit, boolean fallbackToEager) {

    public CompileOptions {
        dynamicDims = List.copyOf(dynamicDims);
        if (cacheLimit < 1) throw new IllegalArgumentException("cacheLimit must be >= 1, got " + cacheLimit);
    }

    public static CompileOptions defaults() { return new CompileOptions(List.of(), 8, false); }

    /** Marks input {@code input}'s dim {@code axis} dynamic under the symbolic name {@code name}. */
    public CompileOptions dynamic(int input, int axis, String name) {
        List<TraceOptions.DynamicDim> dims = new ArrayList<>(dynamicDims);
        dims.add(new TraceOptions.DynamicDim(input, axis, name));
        return new CompileOptions(dims, cacheLimit, fallbackToEager);
    }

    public CompileOptions cacheLimit(int limit) { return new CompileOptions(dynamicDims, limit, fallbackToEager); }

    /** Lets this method run eagerly, with a logged warning, when capture rejects it. */
    public CompileOptions fallbackToEager(boolean value) { return new CompileOptions(dynamicDims, cacheLimit, value); }
}
