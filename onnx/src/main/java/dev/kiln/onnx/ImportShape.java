package dev.kiln.onnx;

import dev.kiln.ir.Attribute;
import dev.kiln.ir.Builder;
import dev.kiln.ir.DType;
import dev.kiln.ir.Dim;
import dev.kiln.ir.Shape;
import dev.kiln.ir.ShapeRules;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;
import dev.kiln.onnx.ImportConverters.Converter;
import dev.kiln.onnx.proto.OnnxProtos.TensorProto;
import dev.kiln.runtime.NDArray;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static dev.kiln.onnx.ImportConverters.one;

/**
 * Shape and layout ONNX ops. Sizes, axes, starts and pads given as inputs are read at import time
 * ({@link ImportNode#constant}); ops whose result shape would depend on run-time data are reported.
 */
final class ImportShape {

    private ImportShape() {}

    static void register(Map<String, Converter> t) {
        t.put("Reshape", one(ImportShape::reshape));
        t.put("Flatten", one(ImportShape::flatten));
        t.put("Transpose", one(n -> {
            int rank = n.type(0).rank();
            long[] perm = n.attrInts("perm");
            if (perm == null) {
                perm = new long[rank];
                for (int i = 0; i < rank; i++) perm[i] = rank - 1 - i;
            }
            return n.op("permute", Builder.attrs("perm", perm), n.in(0));
        }));
        t.put("Concat", one(n -> {
            Value[] xs = new Value[n.inputCount()];
            for (int i = 0; i < xs.length; i++) xs[i] = n.in(i);
            return n.op("cat", Builder.attrs("axis", n.attrInt("axis", 0)), xs);
        }));
        t.put("Squeeze", one(ImportShape::squeeze));
        t.put("Unsqueeze", one(n -> n.unsqueeze(n.in(0), n.opset < 13 ? n.requiredInts("axes") : n.constLongs(1))));
        t.put("Slice", one(ImportShape::slice));
        t.put("Gather", one(ImportShape::gather));
        t.put("Split", ImportShape::split);
        t.put("Pad", one(ImportShape::pad));
        t.put("Expand", one(n -> ImportSymbolicShape.expand(n, n.in(0), ImportSymbolicShape.sizes(n, 1))));
        t.put("Shape", one(ImportSymbolicShape::shape));
        t.put("Size", one(ImportSymbolicShape::size));
        t.put("Constant", one(ImportShape::constant));
        t.put("ConstantOfShape", one(n -> {
            TensorProto value = n.attrTensor("value");
            NDArray v = value == null ? NDArray.zeros(DType.F32, 1) : n.session.tensor(value);
            if (v.numel() != 1) throw n.error("attribute 'value' must hold one element, got " + v.numel());
            if (n.session.shapeValue(n.in(0)) != null) return ImportSymbolicShape.constantOfShape(n, v, ImportSymbolicShape.sizes(n, 0));
            long[] shape = n.constLongs(0);
            n.checkSize(v.dtype(), shape, "the result");
            return n.constant(NDArray.full(v.dtype(), v.getFlat(0), shape));
        }));
        reduction(t, "ReduceSum", "sum", 13);
        reduction(t, "ReduceMean", "mean", 18);
        reduction(t, "ReduceMax", "amax", 18);
        reduction(t, "ReduceMin", "amin", 18);
        reduction(t, "ReduceProd", "prod", 18);
        t.put("ArgMax", one(n -> argReduce(n, "argmax")));
        t.put("ArgMin", one(n -> argReduce(n, "argmin")));
    }

    private static Value reshape(ImportNode n) {
        List<ImportSymbolicShape.Size> target = n.opset < 5
                ? Arrays.stream(n.requiredInts("shape")).mapToObj(ImportSymbolicShape.Size::of).toList()
                : ImportSymbolicShape.sizes(n, 1);
        return ImportSymbolicShape.reshape(n, n.in(0), target, n.attrInt("allowzero", 0) != 0);
    }

    private static Value flatten(ImportNode n) {
        Value x = n.in(0);
        List<Dim> in = n.type(x).shape().dims();
        int axis = (int) n.attrInt("axis", 1);
        if (axis < 0) axis += in.size();
        if (axis < 0 || axis > in.size()) throw n.error("axis " + n.attrInt("axis", 1) + " is out of range for rank " + in.size());
        if (axis > 0 && axis < in.size()) {
            // Kiln's flatten keeps the op (and the model) free of size arithmetic: merge the tail, then the head
            Value tail = axis == in.size() - 1 ? x : n.op("flatten", Builder.attrs("start_dim", (long) axis, "end_dim", -1L), x);
            return axis == 1 ? tail : n.op("flatten", Builder.attrs("start_dim", 0L, "end_dim", (long) axis - 1), tail);
        }
        return n.reshape(x, List.of(ShapeRules.product(in.subList(0, axis)), ShapeRules.product(in.subList(axis, in.size()))));
    }

    private static Value squeeze(ImportNode n) {
        Value x = n.in(0);
        List<Dim> in = n.type(x).shape().dims();
        long[] axes = n.opset < 13 ? n.attrInts("axes") : (n.has(1) ? n.constLongs(1) : null);
        boolean[] drop = new boolean[in.size()];
        if (axes == null) {
            for (int i = 0; i < in.size(); i++) drop[i] = in.get(i).isStatic() && in.get(i).size() == 1;
        } else {
            for (long a : axes) {
                int ax = n.axis(a, in.size());
                if (in.get(ax).isStatic() && in.get(ax).size() != 1) throw n.error("cannot squeeze axis " + a + " of " + n.type(x));
                drop[ax] = true;
            }
        }
        List<Dim> out = new ArrayList<>();
        for (int i = 0; i < in.size(); i++) if (!drop[i]) out.add(in.get(i));
        return n.reshape(x, out);
    }

    private static Value slice(ImportNode n) {
        Value x = n.in(0);
        int rank = n.type(x).rank();
        Value data = x;
        SliceArgs args = SliceArgs.read(n, axes -> n.session.shapeValue(n.in(2)) != null ? runTimeEnds(n, data, axes) : n.constLongs(2));
        long[] starts = args.starts(), ends = args.ends(), axes = args.axes(), steps = args.steps();
        if (starts == null || ends == null || starts.length != ends.length) throw n.error("starts and ends must be given with equal lengths");
        if (axes != null && axes.length != starts.length) throw n.error("axes must have one entry per start, got " + Arrays.toString(axes));
        for (int k = 0; k < starts.length; k++) {
            int axis = n.axis(axes == null ? k : axes[k], rank);
            if (steps != null && steps.length != starts.length) throw n.error("steps must have one entry per start, got " + Arrays.toString(steps));
            long step = steps == null ? 1 : steps[k];
            x = sliceAxis(n, x, axis, starts[k], ends[k], step);
        }
        return x;
    }

    /**
     * Slice's starts, ends, axes (null: 0, 1, ...) and steps (null: all 1): attributes before opset 10,
     * constant inputs from 10 on, where {@code endsFromInput} reads the ends given the axes.
     */
    record SliceArgs(long[] starts, long[] ends, long[] axes, long[] steps) {
        static SliceArgs read(ImportNode n, java.util.function.Function<long[], long[]> endsFromInput) {
            if (n.opset < 10) return new SliceArgs(n.attrInts("starts"), n.attrInts("ends"), n.attrInts("axes"), null);
            long[] axes = n.has(3) ? n.constLongs(3) : null;
            return new SliceArgs(n.constLongs(1), endsFromInput.apply(axes), axes, n.has(4) ? n.constLongs(4) : null);
        }
    }

    /**
     * Slice ends read with Shape ({@code x[:, :y.shape[1]]}): Kiln's slice bounds are integers, so an
     * end must be static or exactly the sliced dim (a symbol, which then means "to the end").
     */
    private static long[] runTimeEnds(ImportNode n, Value x, long[] axes) {
        List<ImportSymbolicShape.Size> sizes = ImportSymbolicShape.sizes(n, 2);
        int rank = n.type(x).rank();
        long[] ends = new long[sizes.size()];
        for (int k = 0; k < ends.length; k++) {
            ImportSymbolicShape.Size e = sizes.get(k);
            if (axes != null && axes.length != ends.length) throw n.error("axes must have one entry per end, got " + Arrays.toString(axes));
            int axis = n.axis(axes == null ? k : axes[k], rank);
            Dim d = n.type(x).shape().dims().get(axis);
            if (e.isStatic()) {
                ends[k] = e.coeff();
            } else if (d.equals(e.toDim())) {
                ends[k] = Long.MAX_VALUE;
            } else {
                throw ImportSymbolicShape.needsConstant(n, "slices axis " + axis + " of " + n.type(x) + " to the run-time end " + e
                        + ", but Kiln's slice bounds are integers (only an end equal to the sliced dim can be followed)",
                        n.session.dependsOn(n.in(2)));
            }
        }
        return ends;
    }

    /** One axis of an ONNX Slice, with ONNX's clamping; a negative step is a flip then a forward slice. */
    static Value sliceAxis(ImportNode n, Value x, int axis, long start, long end, long step) {
        if (step == 0) throw n.error("slice step must not be 0");
        Dim d = n.type(x).shape().dims().get(axis);
        if (!d.isStatic()) {
            if (step > 0 && start >= 0 && end >= 0) {
                return n.op("slice", Builder.attrs("axis", axis, "start", start, "end", end, "step", step), x);
            }
            throw n.unsupported("slicing dynamic dim " + d + " with negative indices or steps");
        }
        long size = d.size();
        if (start < 0) start += size;
        if (end < 0) end += size;
        if (step > 0) {
            start = Math.max(0, Math.min(size, start));
            end = Math.max(0, Math.min(size, end));
            if (start == 0 && end == size && step == 1) return x;
            return n.op("slice", Builder.attrs("axis", axis, "start", start, "end", Math.max(start, end), "step", step), x);
        }
        start = Math.max(-1, Math.min(size - 1, start));
        end = Math.max(-1, Math.min(size - 1, end));
        Value flipped = n.op("flip", Builder.attrs("axes", new long[] {axis}), x);
        long fs = size - 1 - start, fe = size - 1 - end;
        return n.op("slice", Builder.attrs("axis", axis, "start", fs, "end", Math.max(fs, fe), "step", -step), flipped);
    }

    private static Value gather(ImportNode n) {
        Value x = n.in(0), idx = n.in(1);
        TensorType xt = n.type(x);
        int axis = n.axis(n.attrInt("axis", 0), xt.rank());
        Dim size = xt.shape().dims().get(axis);
        NDArray known = n.session.evaluate(idx);
        if (known != null) {
            long[] v = known.contiguous().toLongArray();
            boolean negative = Arrays.stream(v).anyMatch(e -> e < 0);
            if (negative) {
                if (!size.isStatic()) throw n.unsupported("negative Gather indices on dynamic dim " + size);
                for (int i = 0; i < v.length; i++) if (v[i] < 0) v[i] += size.size();
            }
            // NDArray.of reads an empty shape as 1-D, so 0-d indices are built with full
            idx = n.constant(known.rank() == 0 ? NDArray.full(DType.I64, v[0]) : NDArray.of(v, known.shape()));
        } else {
            idx = n.cast(idx, DType.I64);
            if (size.isStatic()) {
                Value zero = n.scalar(DType.I64, 0);
                idx = n.op("where", n.op("lt", idx, zero), n.op("add", idx, n.scalar(DType.I64, size.size())), idx);
            }
        }
        TensorType it = n.type(idx);
        if (it.rank() == 1) return n.op("index_select", Builder.attrs("axis", axis), x, idx);
        // 0-d indices drop the axis; higher ranks replace it with the indices' dims
        Value flat = n.reshape(idx, List.of(ShapeRules.product(it.shape().dims())));
        Value picked = n.op("index_select", Builder.attrs("axis", axis), x, flat);
        List<Dim> out = new ArrayList<>(xt.shape().dims().subList(0, axis));
        out.addAll(it.shape().dims());
        out.addAll(xt.shape().dims().subList(axis + 1, xt.rank()));
        return n.reshape(picked, out);
    }

    private static List<Value> split(ImportNode n, ImportScope scope) {
        Value x = n.in(0);
        TensorType xt = n.type(x);
        int axis = n.axis(n.attrInt("axis", 0), xt.rank());
        long size = n.staticShape(x, "Split")[axis];
        long[] parts = n.opset < 13 ? n.attrInts("split") : (n.has(1) ? n.constLongs(1) : null);
        int outputs = n.outputCount();
        if (parts == null) {
            long count = n.hasAttr("num_outputs") ? n.attrInt("num_outputs", outputs) : outputs;
            if (count < 1) throw n.error("needs at least one output");
            if (count != outputs) throw n.error("num_outputs is " + count + " but the node has " + outputs + " outputs");
            long chunk = n.opset >= 18 ? Math.ceilDiv(size, count) : size / count;
            if (n.opset < 18 && size % count != 0) throw n.error("axis size " + size + " does not split into " + count + " equal parts");
            parts = new long[(int) count];
            long left = size;
            for (int i = 0; i < count; i++) {
                parts[i] = Math.max(0, Math.min(chunk, left));
                left -= parts[i];
            }
        }
        if (parts.length != outputs) throw n.error("split gives " + parts.length + " sizes but the node has " + outputs + " outputs");
        if (Arrays.stream(parts).anyMatch(p -> p < 0 || p > size) || Arrays.stream(parts).sum() != size) {
            throw n.error("split sizes " + Arrays.toString(parts) + " do not add up to the axis size " + size);
        }
        List<Value> out = new ArrayList<>();
        long at = 0;
        for (long p : parts) {
            out.add(n.op("slice", Builder.attrs("axis", axis, "start", at, "end", at + p, "step", 1L), x));
            at += p;
        }
        return out;
    }

    private static Value pad(ImportNode n) {
        Value x = n.in(0);
        TensorType xt = n.type(x);
        int rank = xt.rank();
        String mode = n.attrString("mode", "constant");
        long[] pads;
        double value;
        long[] axes = null;
        if (n.opset < 11) {
            pads = n.attrInts("pads");
            value = n.attrFloat("value", 0.0);
        } else {
            pads = n.constLongs(1);
            value = n.has(2) ? n.constScalar(2) : 0.0;
            if (n.has(3)) axes = n.constLongs(3);
        }
        if (axes == null) {
            axes = new long[rank];
            for (int i = 0; i < rank; i++) axes[i] = i;
        }
        if (pads == null || pads.length != 2L * axes.length) {
            throw n.error("pads must have 2 entries per padded axis (" + axes.length + " axes), got " + Arrays.toString(pads));
        }
        long[] before = new long[rank], after = new long[rank];
        for (int k = 0; k < axes.length; k++) {
            int a = n.axis(axes[k], rank);
            before[a] = pads[k];
            after[a] = pads[k + axes.length];
        }
        if (mode.equals("constant")) {
            long[] kiln = new long[2 * rank];
            for (int a = 0; a < rank; a++) {
                kiln[2 * (rank - 1 - a)] = before[a];
                kiln[2 * (rank - 1 - a) + 1] = after[a];
            }
            return n.op("pad", Builder.attrs("pads", kiln, "value", value), x);
        }
        long[] shape = n.staticShape(x, "Pad mode " + mode);
        for (int a = 0; a < rank; a++) {
            if (before[a] == 0 && after[a] == 0) continue;
            if (before[a] < 0 || after[a] < 0) throw n.unsupported("negative pads in mode " + mode);
            long size = shape[a];
            List<Value> pieces = new ArrayList<>();
            pieces.add(border(n, x, a, size, before[a], mode, true));
            pieces.add(x);
            pieces.add(border(n, x, a, size, after[a], mode, false));
            x = n.op("cat", Builder.attrs("axis", a), pieces.stream().filter(p -> p != null).toArray(Value[]::new));
        }
        return x;
    }

    /** The {@code count} elements a reflect/edge/wrap pad adds before or after axis {@code a}. */
    private static Value border(ImportNode n, Value x, int a, long size, long count, String mode, boolean before) {
        if (count == 0) return null;
        switch (mode) {
            case "edge" -> {
                Value edge = before ? slice1(n, x, a, 0, 1) : slice1(n, x, a, size - 1, size);
                long[] sizes = n.type(edge).shape().toArray();
                sizes[a] = count;
                return n.op("expand", Builder.attrs("shape", sizes), edge);
            }
            case "reflect" -> {
                if (count >= size) throw n.unsupported("reflect padding of " + count + " on an axis of size " + size);
                Value part = before ? slice1(n, x, a, 1, count + 1) : slice1(n, x, a, size - 1 - count, size - 1);
                return n.op("flip", Builder.attrs("axes", new long[] {a}), part);
            }
            case "wrap" -> {
                if (count > size) throw n.unsupported("wrap padding of " + count + " on an axis of size " + size);
                return before ? slice1(n, x, a, size - count, size) : slice1(n, x, a, 0, count);
            }
            default -> throw n.unsupported("Pad mode '" + mode + "'");
        }
    }

    private static Value slice1(ImportNode n, Value x, int axis, long start, long end) {
        return n.op("slice", Builder.attrs("axis", axis, "start", start, "end", end, "step", 1L), x);
    }

    private static Value constant(ImportNode n) {
        if (n.node.getAttributeCount() != 1) throw n.error("needs exactly one value attribute, got " + n.node.getAttributeCount());
        String name = n.node.getAttribute(0).getName();
        return switch (name) {
            case "value" -> n.constant(n.session.tensor(n.attrTensor("value")));
            case "value_float" -> n.b.constant(Attribute.Tensor.fromDoubles(DType.F32, new long[0], new double[] {n.attrFloat(name, 0)}));
            case "value_floats" -> {
                double[] v = n.attrFloats(name);
                yield n.b.constant(Attribute.Tensor.fromDoubles(DType.F32, new long[] {v.length}, v));
            }
            case "value_int" -> n.scalar(DType.I64, n.attrInt(name, 0));
            case "value_ints" -> n.longs(n.attrInts(name));
            default -> throw n.unsupported("Constant attribute '" + name + "'");
        };
    }

    private static void reduction(Map<String, Converter> t, String onnx, String kiln, int axesInputSince) {
        t.put(onnx, one(n -> {
            Value x = n.in(0);
            TensorType xt = n.type(x);
            long[] axes = n.opset < axesInputSince ? n.attrInts("axes") : (n.has(1) ? n.constLongs(1) : null);
            boolean keep = n.attrInt("keepdims", 1) != 0;
            if ((axes == null || axes.length == 0) && n.attrInt("noop_with_empty_axes", 0) != 0) return x;
            if (axes == null) axes = new long[0];
            if (axes.length == 0 && xt.rank() == 0) return x;
            DType d = xt.dtype();
            Value in = x;
            if (kiln.equals("mean") && !d.isFloatingPoint()) in = n.cast(x, DType.F64);
            if (d == DType.BOOL) throw n.unsupported(onnx + " of bool tensors");
            if ((kiln.equals("amax") || kiln.equals("amin")) && reducesEmpty(xt, axes)) {
                // ONNX defines the max of nothing as the lowest value (and the min as the highest)
                double fill = d.isFloatingPoint() ? Double.POSITIVE_INFINITY : Long.MAX_VALUE;
                if (kiln.equals("amax")) fill = -fill;
                Shape out = ShapeRules.reduce(onnx, xt.shape(), axes, keep);
                if (!out.isStatic()) throw n.unsupported(onnx + " of an empty dynamic tensor");
                n.checkSize(d, out.toArray(), "the result");
                return n.constant(NDArray.full(d, fill, out.toArray()));
            }
            Value r = n.op(kiln, Builder.attrs("axes", axes, "keepdim", keep), in);
            return n.cast(r, d);
        }));
    }

    private static boolean reducesEmpty(TensorType x, long[] axes) {
        boolean[] reduced = ShapeRules.reducedAxes("reduce", x.rank(), axes);
        for (int i = 0; i < reduced.length; i++) {
            Dim d = x.shape().dims().get(i);
            if (reduced[i] && d.isStatic() && d.size() == 0) return true;
        }
        return false;
    }

    private static Value argReduce(ImportNode n, String kiln) {
        if (n.attrInt("select_last_index", 0) != 0) throw n.unsupported("select_last_index = 1");
        return n.op(kiln, Builder.attrs("axis", n.attrInt("axis", 0), "keepdim", n.attrInt("keepdims", 1) != 0), n.in(0));
    }
}
