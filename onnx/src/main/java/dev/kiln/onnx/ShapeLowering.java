package dev.kiln.onnx;

import dev.kiln.ir.DType;
import dev.kiln.ir.Dim;
import dev.kiln.ir.Attribute;
import dev.kiln.ir.Op;
import dev.kiln.ir.TensorType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Shape and layout ops: reshape, expand, permute, flatten, slice, flip, cat, pad, repeat, tril, triu.
 * Sizes that come from symbolic dims are computed in the graph (Shape, Gather, Concat), never frozen.
 */
final class ShapeLowering {

    private ShapeLowering() {}

    /**
     * Reshape with an int64 shape: a constant, or, when entries are size symbols ({@code [N, -1]}),
     * a Concat that reads each symbol's size from the graph input carrying it. PyTorch's 0 is a
     * literal zero size while ONNX's default 0 copies the input dim, so a target with 0 needs
     * {@code allowzero=1} (opset 14 on).
     */
    static void reshape(Op op, Emitter e) {
        Attribute a = op.attr("shape");
        long[] target = Attribute.valuesOf(a);
        String[] symbols = Attribute.symbolsOf(a);
        boolean zero = false, minusOne = false;
        for (int i = 0; i < target.length; i++) {
            if (symbols[i] != null) continue;
            zero |= target[i] == 0;
            minusOne |= target[i] == -1;
        }
        if (zero && e.opset() < 14) {
            throw Emitter.error(op, "target shape " + a + " has a 0 size, which ONNX Reshape"
                    + " can express only from opset 14 (allowzero); export with opset 14 or later");
        }
        if (zero && minusOne) {
            throw Emitter.error(op, "target shape " + a + " mixes 0 and -1, which ONNX Reshape"
                    + " rejects (and which leaves -1 undetermined)");
        }
        String shape = e.sizes(op, "shape", target, symbols);
        var node = e.node("Reshape", List.of(e.ref(op.operand(0)), shape), List.of(e.define(op.result())));
        if (zero) node.addAttribute(Attrs.i("allowzero", 1));
    }

    /**
     * torch expand as ONNX Expand, whose broadcasting is two-way: a -1 (keep the dim) becomes 1, which
     * broadcasts to the input's size; symbolic entries are read from the graph inputs at run time.
     */
    static void expand(Op op, Emitter e) {
        Attribute a = op.attr("shape");
        long[] target = Attribute.valuesOf(a);
        String[] symbols = Attribute.symbolsOf(a);
        for (int i = 0; i < target.length; i++) if (symbols[i] == null && target[i] == -1) target[i] = 1;
        String shape = e.sizes(op, "expand_shape", target, symbols);
        e.node("Expand", List.of(e.ref(op.operand(0)), shape), List.of(e.define(op.result())));
    }

    static void permute(Op op, Emitter e) {
        int rank = op.operand(0).tensorType().rank();
        long[] perm = Arrays.stream(op.intsAttr("perm")).map(p -> p < 0 ? p + rank : p).toArray();
        e.node("Transpose", List.of(e.ref(op.operand(0))), List.of(e.define(op.result())))
                .addAttribute(Attrs.ints("perm", perm));
    }

    /**
     * PyTorch flatten(start, end) keeps the dims outside start..end, while ONNX Flatten always makes
     * a 2-D result; they agree only for start 1 to the last dim. Otherwise a Reshape to
     * {@code [0 x start, -1, trailing dims...]} (ONNX's 0 copies a leading dim, symbolic or not);
     * symbolic trailing dims are read at run time with Shape and Slice.
     */
    static void flatten(Op op, Emitter e) {
        TensorType x = op.operand(0).tensorType();
        int rank = x.rank();
        String in = e.ref(op.operand(0));
        if (rank == 0) {
            e.node("Reshape", List.of(in, e.int64s("shape", 1)), List.of(e.define(op.result())));
            return;
        }
        int s = (int) norm(op.intAttr("start_dim"), rank), end = (int) norm(op.intAttr("end_dim"), rank);
        if (s == end) {
            e.node("Identity", List.of(in), List.of(e.define(op.result())));
        } else if (s == 1 && end == rank - 1) {
            e.node("Flatten", List.of(in), List.of(e.define(op.result()))).addAttribute(Attrs.i("axis", 1));
        } else {
            List<Dim> trailing = x.shape().dims().subList(end + 1, rank);
            long[] head = new long[s + 1];
            head[s] = -1;
            String target;
            if (trailing.stream().allMatch(Dim::isStatic)) {
                long[] t = Arrays.copyOf(head, head.length + trailing.size());
                for (int i = 0; i < trailing.size(); i++) t[head.length + i] = trailing.get(i).size();
                target = e.int64s("shape", t);
            } else {
                String shape = e.helper("Shape", in + "_shape", in);
                String tail = e.helper("Slice", in + "_trailing_dims", shape,
                        e.int64s("starts", end + 1), e.int64s("ends", rank), e.int64s("axes", 0));
                target = e.temp("shape");
                e.node("Concat", List.of(e.int64s("shape_head", head), tail), List.of(target)).addAttribute(Attrs.i("axis", 0));
            }
            e.node("Reshape", List.of(in, target), List.of(e.define(op.result())));
        }
    }

    private static long norm(long axis, int rank) { return axis < 0 ? axis + rank : axis; }


    /** Python slicing along one axis: ONNX Slice clamps negative and out-of-range starts and ends the same way (step >= 1). */
    static void slice(Op op, Emitter e) {
        e.node("Slice", List.of(e.ref(op.operand(0)), e.int64s("starts", op.intAttr("start")), e.int64s("ends", op.intAttr("end")),
                e.int64s("axes", norm(op.intAttr("axis"), op.operand(0).tensorType().rank())), e.int64s("steps", op.intAttr("step"))),
                List.of(e.define(op.result())));
    }

    /** Slice with step -1 from the last element to before the first (an end of INT64_MIN clamps to -1). */
    static void flip(Op op, Emitter e) {
        int rank = op.operand(0).tensorType().rank();
        long[] axes = Arrays.stream(op.intsAttr("axes")).map(a -> norm(a, rank)).toArray();
        long[] starts = new long[axes.length], ends = new long[axes.length], steps = new long[axes.length];
        Arrays.fill(starts, -1);
        Arrays.fill(ends, Long.MIN_VALUE);
        Arrays.fill(steps, -1);
        if (axes.length == 0) {
            e.node("Identity", List.of(e.ref(op.operand(0))), List.of(e.define(op.result())));
            return;
        }
        e.node("Slice", List.of(e.ref(op.operand(0)), e.int64s("starts", starts), e.int64s("ends", ends),
                e.int64s("axes", axes), e.int64s("steps", steps)), List.of(e.define(op.result())));
    }

    static void cat(Op op, Emitter e) {
        int rank = op.operand(0).tensorType().rank();
        e.node("Concat", op.operands().stream().map(e::ref).toList(), List.of(e.define(op.result())))
                .addAttribute(Attrs.i("axis", norm(op.intAttr("axis"), rank)));
    }

    /**
     * Constant padding. Kiln's pads are (before, after) pairs from the last dim backwards (negative
     * pads crop); ONNX Pad takes all begins then all ends, first dim first, and also crops on negatives.
     */
    static void pad(Op op, Emitter e) {
        TensorType x = op.operand(0).tensorType();
        int rank = x.rank();
        long[] pads = op.intsAttr("pads"), onnx = new long[2 * rank];
        for (int p = 0; p < pads.length / 2; p++) {
            int axis = rank - 1 - p;
            onnx[axis] = pads[2 * p];
            onnx[rank + axis] = pads[2 * p + 1];
        }
        String value = e.scalar(x.dtype(), op.floatAttr("value"), "pad_value");
        e.node("Pad", List.of(e.ref(op.operand(0)), e.int64s("pads", onnx), value), List.of(e.define(op.result())))
                .addAttribute(Attrs.s("mode", "constant"));
    }

    /** Tile; extra leading counts first add leading size-1 dims with Unsqueeze. */
    static void repeat(Op op, Emitter e) {
        long[] repeats = op.intsAttr("repeats");
        String x = e.ref(op.operand(0));
        int lead = repeats.length - op.operand(0).tensorType().rank();
        if (repeats.length == 0) {
            e.node("Identity", List.of(x), List.of(e.define(op.result())));
            return;
        }
        if (lead > 0) x = e.unsqueeze(x, x + "_unsqueezed", java.util.stream.LongStream.range(0, lead).toArray());
        e.node("Tile", List.of(x, e.int64s("repeats", repeats)), List.of(e.define(op.result())));
    }

    /**
     * tril/triu: Trilu (opset 14 on); at opset 13 a mask {@code j - i <= k} (tril) or {@code >= k}
     * (triu) built with Range from the run-time sizes of the last two dims, then Where.
     */
    static Lowering triangular(boolean upper) {
        return (op, e) -> {
            String x = e.ref(op.operand(0));
            long k = op.intAttr("diagonal");
            if (e.opset() >= 14) {
                e.node("Trilu", List.of(x, e.scalar(DType.I64, k, "diagonal")), List.of(e.define(op.result())))
                        .addAttribute(Attrs.i("upper", upper ? 1 : 0));
                return;
            }
            TensorType t = op.operand(0).tensorType();
            int rank = t.rank();
            String shape = e.shapeOf(x);
            String zero = e.scalar(DType.I64, 0, "zero"), one = e.scalar(DType.I64, 1, "one");
            String rows = e.helper("Gather", "rows", shape, e.scalar(DType.I64, rank - 2, "row_axis"));
            String cols = e.helper("Gather", "cols", shape, e.scalar(DType.I64, rank - 1, "col_axis"));
            String i = e.unsqueeze(e.helper("Range", "row_index", zero, rows, one), "row_index_column", 1);
            String j = e.helper("Range", "col_index", zero, cols, one);
            String offset = e.helper("Sub", "diagonal_offset", j, i);
            String keep = e.helper(upper ? "GreaterOrEqual" : "LessOrEqual", "keep", offset, e.scalar(DType.I64, k, "diagonal"));
            e.node("Where", List.of(keep, x, e.scalar(t.dtype(), 0, "zero")), List.of(e.define(op.result())));
        };
    }
}
