package dev.kiln.runtime;

import java.util.Map;

/** Kernels of the shape and view ops; a view shares its input's storage (the frontend relies on that). */
final class ShapeKernels {

    private ShapeKernels() {}

    static Map<String, OpKernels.Kernel> entries() {
        return Map.ofEntries(
                Map.entry("reshape", (in, a) -> in.get(0).reshape(a.longs("shape"))),
                Map.entry("permute", (in, a) -> in.get(0).permute(a.ints("perm"))),
                Map.entry("flatten", (in, a) -> in.get(0).flatten(a.intValue("start_dim"), a.intValue("end_dim"))));
    }
}
