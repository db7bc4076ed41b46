package dev.kiln.onnx;

import dev.kiln.ir.DType;
import dev.kiln.ir.Dim;
import dev.kiln.ir.Attribute;
import dev.kiln.ir.Op;
import dev.kiln.ir.TensorType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/** reshape, permute, flatten, sum and mean. */
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

    /** ReduceSum-13/ReduceMean-13 have no 8- or 16-bit integer types. */
    private static final Set<DType> NO_REDUCE = Set.of(DType.I8, DType.I16, DType.U8);

    /**
     * ReduceSum/ReduceMean with keepdims; empty axes reduce everything in both. ReduceSum takes its
     * axes as an input from opset 13, ReduceMean only from opset 18 (an attribute before).
     */
    static Lowering reduce(String onnxOp) {
        return (op, e) -> {
            TensorType x = op.operand(0).tensorType();
            if (NO_REDUCE.contains(x.dtype())) {
                throw Emitter.error(op, "ONNX " + onnxOp + " has no " + x.dtype() + " version; cast to i32 or i64 before reducing");
            }
            long[] axes = Arrays.stream(op.intsAttr("axes")).map(a -> norm(a, x.rank())).toArray();
            boolean axesAsInput = onnxOp.equals("ReduceSum") || e.opset() >= 18;
            List<String> inputs = new ArrayList<>(List.of(e.ref(op.operand(0))));
            if (axes.length > 0 && axesAsInput) inputs.add(e.int64s("axes", axes));
            var node = e.node(onnxOp, inputs, List.of(e.define(op.result())))
                    .addAttribute(Attrs.i("keepdims", op.boolAttr("keepdim") ? 1 : 0));
            if (axes.length > 0 && !axesAsInput) node.addAttribute(Attrs.ints("axes", axes));
        };
    }

    private static long norm(long axis, int rank) { return axis < 0 ? axis + rank : axis; }

}
