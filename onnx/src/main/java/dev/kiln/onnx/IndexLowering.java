package dev.kiln.onnx;

import dev.kiln.ir.Op;
import dev.kiln.ir.ShapeRules;
import dev.kiln.ir.TensorType;

import java.util.List;
import java.util.stream.LongStream;

/**
 * Indexing ops: gather (GatherElements), index_select and embedding (Gather), scatter and scatter_add
 * (ScatterElements, the latter with reduction=add from opset 16), index_add and slice_scatter
 * (ScatterElements with an index tensor spread over src's shape). Kiln never takes negative indices.
 */
final class IndexLowering {

    private IndexLowering() {}

    static void gather(Op op, Emitter e) {
        int rank = op.operand(0).tensorType().rank();
        e.node("GatherElements", List.of(e.ref(op.operand(0)), e.ref(op.operand(1))), List.of(e.define(op.result())))
                .addAttribute(Attrs.i("axis", norm(op.intAttr("axis"), rank)));
    }

    /** Gather along axis; a 0-D index selects one entry but keeps the dim (size 1), so it is reshaped to [1]. */
    static void indexSelect(Op op, Emitter e) {
        int rank = op.operand(0).tensorType().rank();
        e.node("Gather", List.of(e.ref(op.operand(0)), index1d(op, e, 1)), List.of(e.define(op.result())))
                .addAttribute(Attrs.i("axis", norm(op.intAttr("axis"), rank)));
    }

    /** Rows of the weight: Gather on axis 0 (padding_idx only matters to the gradient). */
    static void embedding(Op op, Emitter e) {
        e.node("Gather", List.of(e.ref(op.operand(0)), e.ref(op.operand(1))), List.of(e.define(op.result())))
                .addAttribute(Attrs.i("axis", 0));
    }

    /**
     * ScatterElements; src is first cut to the index's shape (torch lets src be larger, ONNX does not).
     * Kiln writes duplicate indices in row-major order (the last wins); ONNX leaves that order
     * unspecified for reduction=none, and ONNX Runtime also applies updates in order.
     */
    static Lowering scatter(boolean add) {
        return (op, e) -> {
            if (add) requireOpset16(op, e);
            TensorType src = op.operand(2).tensorType(), index = op.operand(1).tensorType();
            String updates = e.ref(op.operand(2));
            if (!src.shape().equals(index.shape())) {
                long[] axes = LongStream.range(0, src.rank()).toArray();
                updates = e.helper("Slice", "src_cut", updates, e.int64s("starts", new long[src.rank()]),
                        e.shapeOf(e.ref(op.operand(1))), e.int64s("axes", axes));
            }
            var node = e.node("ScatterElements", List.of(e.ref(op.operand(0)), e.ref(op.operand(1)), updates),
                    List.of(e.define(op.result()))).addAttribute(Attrs.i("axis", norm(op.intAttr("axis"), src.rank())));
            if (add) node.addAttribute(Attrs.s("reduction", "add"));
        };
    }

    /** x with src's slices added at entries index along axis: ScatterElements(reduction=add), duplicates accumulating. */
    static void indexAdd(Op op, Emitter e) {
        requireOpset16(op, e);
        TensorType x = op.operand(0).tensorType();
        int axis = norm(op.intAttr("axis"), x.rank());
        String src = e.ref(op.operand(2));
        String index = spread(e, index1d(op, e, 1), x.rank(), axis, src);
        e.node("ScatterElements", List.of(e.ref(op.operand(0)), index, src), List.of(e.define(op.result())))
                .addAttribute(Attrs.i("axis", axis)).addAttribute(Attrs.s("reduction", "add"));
    }

    /**
     * x with src written into the slice start..end by step along axis: ScatterElements with the slice's
     * (distinct) indices spread over src's shape. The count of the slice needs a static size along axis.
     */
    static void sliceScatter(Op op, Emitter e) {
        TensorType x = op.operand(0).tensorType();
        int axis = norm(op.intAttr("axis"), x.rank());
        if (!x.shape().dim(axis).isStatic()) {
            throw Emitter.error(op, "exporting needs a static size along axis " + axis + " of " + x
                    + " to know which positions the slice covers");
        }
        long step = op.intAttr("step");
        long[] range = ShapeRules.sliceRange(op.name(), x.shape().dim(axis).size(), op.intAttr("start"), op.intAttr("end"), step);
        if (range[1] == 0) {
            e.node("Identity", List.of(e.ref(op.operand(0))), List.of(e.define(op.result())));
            return;
        }
        long[] positions = LongStream.range(0, range[1]).map(i -> range[0] + i * step).toArray();
        String src = e.ref(op.operand(1));
        String index = spread(e, e.int64s("slice_positions", positions), x.rank(), axis, src);
        e.node("ScatterElements", List.of(e.ref(op.operand(0)), index, src), List.of(e.define(op.result())))
                .addAttribute(Attrs.i("axis", axis));
    }

    /** The op's 1-D index operand {@code i} (a 0-D index reshaped to [1]). */
    private static String index1d(Op op, Emitter e, int i) {
        String index = e.ref(op.operand(i));
        if (op.operand(i).tensorType().rank() == 0) index = e.helper("Reshape", index + "_1d", index, e.int64s("shape", 1));
        return index;
    }

    /** A 1-D index [K] placed along {@code axis} of a rank-{@code rank} tensor and expanded to src's run-time shape. */
    private static String spread(Emitter e, String index, int rank, int axis, String src) {
        long[] others = LongStream.range(0, rank).filter(a -> a != axis).toArray();
        String placed = others.length == 0 ? index : e.unsqueeze(index, "index_placed", others);
        return e.helper("Expand", "index_spread", placed, e.shapeOf(src));
    }

    private static void requireOpset16(Op op, Emitter e) {
        if (e.opset() < 16) {
            throw Emitter.error(op, "needs ScatterElements with reduction=add, which ONNX has from opset 16; "
                    + "export with opset 16 or later (opset " + e.opset() + " was chosen)");
        }
    }

    private static int norm(long axis, int rank) { return (int) (axis < 0 ? axis + rank : axis); }
}
