package dev.kiln.runtime;

import dev.kiln.ir.Attribute;
import dev.kiln.ir.Shape;
import dev.kiln.ir.ShapeRules;
import dev.kiln.runtime.kernels.Concat;
import dev.kiln.runtime.kernels.Gather;
import dev.kiln.runtime.kernels.Pad;
import dev.kiln.runtime.kernels.Scatter;
import dev.kiln.runtime.kernels.ShapeTransforms;

import java.util.Map;

/**
 * Kernels of the shape, view and indexing ops. A view (reshape and flatten when the strides allow,
 * permute, expand, slice) shares its input's storage, which the frontend relies on to share version
 * counters; every other kernel returns new storage.
 */
final class ShapeKernels {

    private ShapeKernels() {}

    static Map<String, OpKernels.Kernel> entries() {
        return Map.ofEntries(
                Map.entry("reshape", (in, a) -> reshape(in.get(0), a.longs("shape"))),
                Map.entry("permute", (in, a) -> in.get(0).permute(a.ints("perm"))),
                Map.entry("flatten", (in, a) -> reshape(in.get(0), ShapeRules.flatten("flatten",
                        Shape.of(in.get(0).shape()), a.integer("start_dim"), a.integer("end_dim")).toArray())),
                Map.entry("expand", (in, a) -> in.get(0).expand(a.longs("shape"))),
                Map.entry("slice", (in, a) -> in.get(0).slice(a.intValue("axis"), a.integer("start"), a.integer("end"),
                        a.integer("step"))),
                Map.entry("cat", (in, a) -> Concat.cat(in, a.intValue("axis"))),
                Map.entry("pad", (in, a) -> Pad.pad(in.get(0), a.longs("pads"), ((Attribute.Float) a.get("value")).value())),
                Map.entry("flip", (in, a) -> ShapeTransforms.flip(in.get(0), a.longs("axes"))),
                Map.entry("repeat", (in, a) -> ShapeTransforms.repeat(in.get(0), a.longs("repeats"))),
                Map.entry("tril", (in, a) -> ShapeTransforms.tril(in.get(0), a.integer("diagonal"))),
                Map.entry("triu", (in, a) -> ShapeTransforms.triu(in.get(0), a.integer("diagonal"))),
                Map.entry("gather", (in, a) -> Gather.gather(in.get(0), a.intValue("axis"), in.get(1))),
                Map.entry("index_select", (in, a) -> Gather.indexSelect(in.get(0), a.intValue("axis"), in.get(1))),
                Map.entry("scatter", (in, a) -> Scatter.scatter(in.get(0), a.intValue("axis"), in.get(1), in.get(2))),
                Map.entry("scatter_add", (in, a) -> Scatter.scatterAdd(in.get(0), a.intValue("axis"), in.get(1), in.get(2))),
                Map.entry("index_add", (in, a) -> Scatter.indexAdd(in.get(0), a.intValue("axis"), in.get(1), in.get(2))),
                Map.entry("slice_scatter", (in, a) -> Scatter.sliceScatter(in.get(0), in.get(1), a.intValue("axis"),
                        a.integer("start"), a.integer("end"), a.integer("step"))));
    }

    /** PyTorch's reshape: a view whenever the strides can express one, otherwise a contiguous copy. */
    static NDArray reshape(NDArray x, long[] shape) {
        NDArray view = x.viewOrNull(shape);
        return view != null ? view : x.reshape(shape);
    }
}
