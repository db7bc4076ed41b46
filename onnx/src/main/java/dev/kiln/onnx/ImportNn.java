package dev.kiln.onnx;

import dev.kiln.ir.Builder;
import dev.kiln.ir.DType;
import dev.kiln.ir.Dim;
import dev.kiln.ir.ShapeRules;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;
import dev.kiln.onnx.ImportConverters.Converter;
import dev.kiln.runtime.NDArray;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static dev.kiln.onnx.ImportConverters.one;

/**
 * Neural-network ONNX ops: MatMul, Gemm, convolution and pooling (1-D through a unit height, 2-D
 * directly; asymmetric or SAME padding as an explicit pad), normalisation, softmax, dropout in
 * inference mode and Einsum (decomposed into permute, broadcast multiply and sum).
 */
final class ImportNn {

    private ImportNn() {}

    static void register(Map<String, Converter> t) {
        t.put("MatMul", one(n -> {
            Value a = n.in(0), b = n.in(1);
            DType d = n.type(a).dtype();
            if (d.isFloatingPoint()) return n.op("matmul", a, b);
            return n.cast(n.op("matmul", n.cast(a, DType.F64), n.cast(b, DType.F64)), d);
        }));
        t.put("Gemm", one(ImportNn::gemm));
        t.put("Conv", one(ImportNn::conv));
        t.put("ConvTranspose", one(ImportNn::convTranspose));
        t.put("MaxPool", (n, s) -> n.wantsOutput(1) ? List.of(pool(n, true), maxPoolIndices(n)) : List.of(pool(n, true)));
        t.put("AveragePool", one(n -> pool(n, false)));
        t.put("GlobalAveragePool", one(n -> global(n, "mean")));
        t.put("GlobalMaxPool", one(n -> global(n, "amax")));
        t.put("BatchNormalization", ImportNn::batchNorm);
        t.put("InstanceNormalization", one(n -> {
            Value x = n.in(0);
            n.type(0, 3, "[N, C, spatial...]");
            long c = n.staticDim(0, 1, "InstanceNormalization");
            return n.op("group_norm", Builder.attrs("groups", c, "eps", n.attrFloat("epsilon", 1e-5)), x, n.in(1), n.in(2));
        }));
        t.put("LayerNormalization", ImportNn::layerNorm);
        t.put("Softmax", one(n -> softmax(n, "softmax")));
        t.put("LogSoftmax", one(n -> softmax(n, "log_softmax")));
        t.put("Dropout", ImportNn::dropout);
        t.put("Einsum", one(ImportEinsum::convert));
    }

    private static Value gemm(ImportNode n) {
        Value a = n.in(0), b = n.in(1);
        if (isLinear(n)) return n.has(2) ? n.op("linear", a, b, n.in(2)) : n.op("linear", a, b);
        if (n.attrInt("transA", 0) != 0) a = n.op("permute", Builder.attrs("perm", new long[] {1, 0}), a);
        if (n.attrInt("transB", 0) != 0) b = n.op("permute", Builder.attrs("perm", new long[] {1, 0}), b);
        DType d = n.type(a).dtype();
        if (!d.isFloatingPoint()) throw n.unsupported("Gemm on " + d + " tensors");
        Value y = n.op("matmul", a, b);
        double alpha = n.attrFloat("alpha", 1.0), beta = n.attrFloat("beta", 1.0);
        if (alpha != 1.0) y = n.op("mul", y, n.scalar(d, alpha));
        if (n.has(2)) {
            Value c = n.in(2);
            if (beta != 1.0) c = n.op("mul", c, n.scalar(d, beta));
            y = n.op("add", y, c);
        }
        return y;
    }

    /** Gemm in torch.nn.Linear's form (B transposed, unit alpha and beta, C absent or one bias per output): Kiln's linear. */
    private static boolean isLinear(ImportNode n) {
        if (n.attrInt("transA", 0) != 0 || n.attrInt("transB", 0) == 0) return false;
        if (n.attrFloat("alpha", 1.0) != 1.0 || n.attrFloat("beta", 1.0) != 1.0) return false;
        TensorType a = n.type(n.in(0)), b = n.type(n.in(1));
        if (!a.dtype().isFloatingPoint() || a.dtype() != b.dtype() || a.rank() != 2 || b.rank() != 2) return false;
        if (!n.has(2)) return true;
        TensorType c = n.type(n.in(2));
        return c.dtype() == a.dtype() && c.rank() == 1 && c.shape().dim(0).equals(b.shape().dim(0));
    }

    /** Window geometry of a conv or pool over {@code r} spatial dims, with explicit begin/end pads. */
    private record Window(long[] kernel, long[] strides, long[] dilations, long[] padBegin, long[] padEnd) {
        boolean symmetric() { return Arrays.equals(padBegin, padEnd); }
    }

    private static Window window(ImportNode n, long[] kernel, long[] spatialIn, boolean transposed) {
        int r = kernel.length;
        long[] strides = orOnes(n.attrInts("strides"), r), dil = orOnes(n.attrInts("dilations"), r);
        long[] pads = n.attrInts("pads");
        long[] begin = new long[r], end = new long[r];
        String autoPad = n.attrString("auto_pad", "NOTSET");
        if (strides.length != r || dil.length != r) throw n.error("strides/dilations must have " + r + " entries");
        switch (autoPad) {
            case "NOTSET" -> {
                if (pads != null) {
                    if (pads.length != 2 * r) throw n.error("pads must have " + 2 * r + " entries, got " + Arrays.toString(pads));
                    begin = Arrays.copyOfRange(pads, 0, r);
                    end = Arrays.copyOfRange(pads, r, 2 * r);
                }
            }
            case "VALID" -> { }
            case "SAME_UPPER", "SAME_LOWER" -> {
                if (transposed) break;
                for (int i = 0; i < r; i++) {
                    if (spatialIn[i] < 0) throw n.unsupported("auto_pad " + autoPad + " on a dynamic spatial dim");
                    long out = Math.ceilDiv(spatialIn[i], strides[i]);
                    long total = Math.max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dil[i] + 1 - spatialIn[i]);
                    long small = total / 2, big = total - small;
                    begin[i] = autoPad.equals("SAME_UPPER") ? small : big;
                    end[i] = total - begin[i];
                }
            }
            default -> throw n.error("auto_pad '" + autoPad + "' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
        }
        return new Window(kernel, strides, dil, begin, end);
    }

    private static long[] orOnes(long[] v, int r) {
        if (v != null) return v;
        long[] ones = new long[r];
        Arrays.fill(ones, 1);
        return ones;
    }

    /** Spatial sizes of x (dims 2..), -1 where dynamic. */
    private static long[] spatial(ImportNode n, Value x) {
        List<Dim> dims = n.type(x).shape().dims();
        if (dims.size() < 3) throw n.error("input must be [N, C, spatial...] (rank 3 or more), got " + n.type(x));
        long[] out = new long[dims.size() - 2];
        for (int i = 0; i < out.length; i++) out[i] = dims.get(i + 2).isStatic() ? dims.get(i + 2).size() : -1;
        return out;
    }

    /** A 1-D window lifted to 2-D by a leading unit spatial dim. */
    private static Window lift(Window w) {
        return new Window(prepend(w.kernel, 1), prepend(w.strides, 1), prepend(w.dilations, 1),
                prepend(w.padBegin, 0), prepend(w.padEnd, 0));
    }

    private static long[] prepend(long[] v, long first) {
        long[] out = new long[v.length + 1];
        out[0] = first;
        System.arraycopy(v, 0, out, 1, v.length);
        return out;
    }

    private static int spatialRank(ImportNode n, Value x, String what) {
        int r = n.type(x).rank() - 2;
        if (r < 1) throw n.error(what + " input must be [N, C, spatial...], got " + n.type(x));
        if (r > 2) throw n.unsupported(r + "-D " + what + " (Kiln has 1-D and 2-D)");
        return r;
    }

    /** Pads x's spatial dims explicitly (Kiln's pad takes pairs from the last dim backwards). */
    private static Value padSpatial(ImportNode n, Value x, long[] begin, long[] end, double value) {
        int r = begin.length;
        long[] pads = new long[2 * r];
        for (int i = 0; i < r; i++) {
            pads[2 * (r - 1 - i)] = begin[i];
            pads[2 * (r - 1 - i) + 1] = end[i];
        }
        return n.op("pad", Builder.attrs("pads", pads, "value", value), x);
    }

    private static Value conv(ImportNode n) {
        Value x = n.in(0), w = n.in(1);
        long[] ws = convWeight(n, "Conv");
        long[] kernel = kernelShape(n, ws);
        Window win = window(n, kernel, spatial(n, x), false);
        if (n.type(x).rank() == 5) {
            return ImportPool.conv3d(n, x, w, n.opt(2), win.strides, win.dilations, win.padBegin, win.padEnd, n.attrInt("group", 1));
        }
        int r = spatialRank(n, x, "Conv");
        if (r == 1) {
            x = n.unsqueeze(x, 2);
            w = n.unsqueeze(w, 2);
            win = lift(win);
        }
        long[] padding = win.padBegin;
        if (!win.symmetric()) {
            x = padSpatial(n, x, win.padBegin, win.padEnd, 0.0);
            padding = new long[] {0, 0};
        }
        Value[] operands = n.has(2) ? new Value[] {x, w, n.in(2)} : new Value[] {x, w};
        Value y = n.op("conv2d", Builder.attrs("stride", win.strides, "padding", padding, "dilation", win.dilations,
                "groups", n.attrInt("group", 1)), operands);
        return r == 1 ? squeezeAxis2(n, y) : y;
    }

    /**
     * A Conv or ConvTranspose weight's static shape, checked against X: [M, C/group, k...] with one kernel dim
     * per spatial dim of X (rank 3 or more).
     */
    private static long[] convWeight(ImportNode n, String what) {
        TensorType xt = n.type(0, 3, "[N, C, spatial...]");
        long[] ws = n.staticShape(n.in(1), what + " weight");
        if (ws.length != xt.rank()) throw n.error(what + " weight must have X's rank " + xt.rank() + " ([M, C/group, kernel...]), got " + n.type(1));
        return ws;
    }

    /** kernel_shape, or the weight's kernel dims; one entry per spatial dim. */
    private static long[] kernelShape(ImportNode n, long[] weightShape) {
        long[] fromWeight = Arrays.copyOfRange(weightShape, 2, weightShape.length);
        long[] kernel = n.attrInts("kernel_shape");
        if (kernel == null) return fromWeight;
        if (kernel.length != fromWeight.length) {
            throw n.error("kernel_shape " + Arrays.toString(kernel) + " must have " + fromWeight.length + " entries (one per spatial dim)");
        }
        return kernel;
    }

    private static Value squeezeAxis2(ImportNode n, Value y) {
        List<Dim> dims = new ArrayList<>(n.type(y).shape().dims());
        dims.remove(2);
        return n.reshape(y, dims);
    }

    private static Value convTranspose(ImportNode n) {
        Value x = n.in(0), w = n.in(1);
        int r = spatialRank(n, x, "ConvTranspose");
        long[] ws = convWeight(n, "ConvTranspose");
        long[] in = spatial(n, x);
        long[] kernel = kernelShape(n, ws);
        if (n.attrInts("output_padding") != null && n.attrInts("output_padding").length != r) {
            throw n.error("output_padding must have " + r + " entries, got " + Arrays.toString(n.attrInts("output_padding")));
        }
        if (n.attrInts("output_shape") != null && n.attrInts("output_shape").length < r) {
            throw n.error("output_shape must have at least " + r + " entries, got " + Arrays.toString(n.attrInts("output_shape")));
        }
        Window win = window(n, kernel, in, true);
        long[] outPad = n.attrInts("output_padding") != null ? n.attrInts("output_padding") : new long[r];
        long[] outShape = n.attrInts("output_shape");
        String autoPad = n.attrString("auto_pad", "NOTSET");
        long[] begin = win.padBegin.clone(), end = win.padEnd.clone();
        if (outShape != null || autoPad.startsWith("SAME")) {
            for (int i = 0; i < r; i++) {
                if (in[i] < 0) throw n.unsupported("output_shape/auto_pad on a dynamic spatial dim");
                long target = outShape != null ? outShape[outShape.length - r + i] : in[i] * win.strides[i];
                long total = win.strides[i] * (in[i] - 1) + outPad[i] + (kernel[i] - 1) * win.dilations[i] + 1 - target;
                long half = Math.floorDiv(total, 2);
                begin[i] = autoPad.equals("SAME_UPPER") ? half : total - half;
                end[i] = total - begin[i];
            }
        }
        if (r == 1) {
            x = n.unsqueeze(x, 2);
            w = n.unsqueeze(w, 2);
            win = lift(win);
            begin = prepend(begin, 0);
            end = prepend(end, 0);
            outPad = prepend(outPad, 0);
        }
        Value y = n.op("conv_transpose2d", Builder.attrs("stride", win.strides, "padding", new long[] {0, 0},
                "dilation", win.dilations, "groups", n.attrInt("group", 1)), x, w);
        long[] cropBegin = new long[2], cropEnd = new long[2];
        boolean any = false;
        for (int i = 0; i < 2; i++) {
            cropBegin[i] = -begin[i];
            cropEnd[i] = outPad[i] - end[i];
            any |= cropBegin[i] != 0 || cropEnd[i] != 0;
        }
        if (any) y = padSpatial(n, y, cropBegin, cropEnd, 0.0);
        if (n.has(2)) y = n.op("add", y, n.reshape(n.in(2), List.of(n.type(2).shape().dims().get(0), Dim.of(1), Dim.of(1))));
        return r == 1 ? squeezeAxis2(n, y) : y;
    }

    private static Value pool(ImportNode n, boolean max) {
        String what = max ? "MaxPool" : "AveragePool";
        Value x = n.in(0);
        int r = n.type(0, 3, "[N, C, spatial...]").rank() - 2;
        if (r > 3) throw n.unsupported(r + "-D " + what);
        long[] kernel = n.attrInts("kernel_shape");
        if (kernel == null || kernel.length != r) throw n.error("kernel_shape must have " + r + " entries");
        long[] in = spatial(n, x);
        Window win = window(n, kernel, in, false);
        boolean ceil = n.attrInt("ceil_mode", 0) != 0;
        boolean includePad = n.attrInt("count_include_pad", 0) != 0;
        DType d = n.type(x).dtype();
        if (!d.isFloatingPoint()) {
            if (!max) throw n.unsupported("AveragePool on " + d);
            x = n.cast(x, DType.F64);
        }
        if (r == 3 || (!max && Arrays.stream(win.dilations).anyMatch(v -> v != 1))) {
            for (long v : in) if (v < 0) throw n.unsupported(what + " of this geometry on a dynamic spatial dim");
            return n.cast(ImportPool.general(n, x, win.kernel, win.strides, win.dilations, win.padBegin, win.padEnd, in, ceil, max, includePad), d);
        }
        if (r == 1) {
            x = n.unsqueeze(x, 2);
            win = lift(win);
            in = prepend(in, 1);
        }
        boolean direct = win.symmetric();
        for (int i = 0; i < 2; i++) direct &= win.padBegin[i] * 2 <= win.kernel[i];
        Value y;
        if (direct) {
            y = poolOp(n, x, win, win.padBegin, ceil, max, includePad);
        } else {
            for (long s : in) if (s < 0) throw n.unsupported(what + " with asymmetric pads on a dynamic spatial dim");
            long[] zero = {0, 0};
            Value padded = padSpatial(n, x, win.padBegin, win.padEnd, max ? Double.NEGATIVE_INFINITY : 0.0);
            y = poolOp(n, padded, win, zero, ceil, max, true);
            if (!max && !includePad) {
                long[] shape = n.type(x).shape().toArray();
                n.checkSize(n.type(x).dtype(), shape, "the pad-count divisor");
                Value ones = n.constant(NDArray.full(n.type(x).dtype(), 1.0, shape));
                y = n.op("div", y, poolOp(n, padSpatial(n, ones, win.padBegin, win.padEnd, 0.0), win, zero, ceil, false, true));
            }
            for (int i = 0; i < 2; i++) {
                long out = onnxPoolOut(in[i], win, i, ceil);
                long have = n.type(y).shape().dims().get(2 + i).size();
                if (have > out) y = n.op("slice", Builder.attrs("axis", 2 + i, "start", 0L, "end", out, "step", 1L), y);
            }
        }
        if (r == 1) y = squeezeAxis2(n, y);
        return n.cast(y, d);
    }

    /** MaxPool's second output, the flat input index of each window's maximum (see {@link ImportPool#maxIndices}). */
    private static Value maxPoolIndices(ImportNode n) {
        Value x = n.in(0);
        long[] kernel = n.requiredInts("kernel_shape");
        long[] in = spatial(n, x);
        if (kernel.length != in.length) throw n.error("kernel_shape must have " + in.length + " entries");
        Window win = window(n, kernel, in, false);
        for (long v : in) if (v < 0) throw n.unsupported("MaxPool's Indices output on a dynamic spatial dim");
        long order = n.attrInt("storage_order", 0);
        if (order != 0 && order != 1) throw n.error("storage_order must be 0 or 1, got " + order);
        if (!n.type(x).dtype().isFloatingPoint()) x = n.cast(x, DType.F64);
        return ImportPool.maxIndices(n, x, win.kernel, win.strides, win.dilations, win.padBegin, win.padEnd, in,
                n.attrInt("ceil_mode", 0) != 0, order == 1);
    }

    /** ONNX's pooled size along spatial axis i; in ceil mode a window starting past the input and begin pad is dropped. */
    private static long onnxPoolOut(long in, Window w, int i, boolean ceil) {
        long span = (w.kernel[i] - 1) * w.dilations[i] + 1;
        long num = in + w.padBegin[i] + w.padEnd[i] - span;
        long out = (ceil ? Math.ceilDiv(num, w.strides[i]) : Math.floorDiv(num, w.strides[i])) + 1;
        if (ceil && (out - 1) * w.strides[i] >= in + w.padBegin[i]) out--;
        return out;
    }

    private static Value poolOp(ImportNode n, Value x, Window w, long[] padding, boolean ceil, boolean max, boolean includePad) {
        if (max) {
            return n.op("max_pool2d", Builder.attrs("kernel_size", w.kernel, "stride", w.strides, "padding", padding,
                    "dilation", w.dilations, "ceil_mode", ceil), x);
        }
        return n.op("avg_pool2d", Builder.attrs("kernel_size", w.kernel, "stride", w.strides, "padding", padding,
                "ceil_mode", ceil, "count_include_pad", includePad), x);
    }

    private static Value global(ImportNode n, String op) {
        Value x = n.in(0);
        int rank = n.type(0, 3, "[N, C, spatial...]").rank();
        long[] axes = new long[rank - 2];
        for (int i = 0; i < axes.length; i++) axes[i] = i + 2;
        return n.op(op, Builder.attrs("axes", axes, "keepdim", true), x);
    }

    private static List<Value> batchNorm(ImportNode n, ImportScope scope) {
        if (n.attrInt("training_mode", 0) != 0) return batchNormTraining(n);
        if (n.opset < 9 && n.attrInt("spatial", 1) != 1) throw n.unsupported("BatchNormalization with spatial = 0");
        for (int i = 1; i < n.outputCount(); i++) if (n.wantsOutput(i)) throw n.unsupported("BatchNormalization's training outputs");
        return List.of(n.op("batch_norm", Builder.attrs("eps", n.attrFloat("epsilon", 1e-5)), n.in(0), n.in(3), n.in(4), n.in(1), n.in(2)));
    }

    /**
     * BatchNormalization with {@code training_mode = 1} (opset 14+): Y is normalised with the batch's
     * own mean and population variance over every axis but 1; the optional outputs are the updated
     * running statistics, {@code running * momentum + batch * (1 - momentum)}.
     */
    private static List<Value> batchNormTraining(ImportNode n) {
        Value x = n.in(0), runMean = n.in(3), runVar = n.in(4);
        TensorType xt = n.type(x);
        DType d = xt.dtype();
        if (!d.isFloatingPoint()) throw n.error("X must be floating point, got " + d);
        if (xt.rank() < 2) throw n.error("X must be [N, C, ...], got " + xt);
        for (int i = 1; i < 5; i++) {
            if (n.type(i).dtype() != d) throw n.unsupported("training mode with input " + i + " of dtype " + n.type(i).dtype() + " while X is " + d);
        }
        long[] axes = new long[xt.rank() - 1];
        for (int i = 0, k = 0; i < xt.rank(); i++) if (i != 1) axes[k++] = i;
        Value meanKeep = n.op("mean", Builder.attrs("axes", axes, "keepdim", true), x);
        Value centered = n.op("sub", x, meanKeep);
        Value var = n.op("mean", Builder.attrs("axes", axes, "keepdim", false), n.op("mul", centered, centered));
        Value mean = n.op("mean", Builder.attrs("axes", axes, "keepdim", false), x);
        List<Value> out = new ArrayList<>(List.of(n.op("batch_norm", Builder.attrs("eps", n.attrFloat("epsilon", 1e-5)),
                x, mean, var, n.in(1), n.in(2))));
        double momentum = n.attrFloat("momentum", 0.9);
        if (n.wantsOutput(1) || n.wantsOutput(2)) {
            Value m = n.scalar(d, momentum), rest = n.scalar(d, 1 - momentum);
            out.add(n.op("add", n.op("mul", runMean, m), n.op("mul", mean, rest)));
            out.add(n.op("add", n.op("mul", runVar, m), n.op("mul", var, rest)));
        }
        return out;
    }

    private static List<Value> layerNorm(ImportNode n, ImportScope scope) {
        Value x = n.in(0);
        TensorType xt = n.type(x);
        int axis = n.axis(n.attrInt("axis", -1), xt.rank());
        double eps = n.attrFloat("epsilon", 1e-5);
        int k = xt.rank() - axis;
        List<Dim> normalized = xt.shape().dims().subList(axis, xt.rank());
        Value scale = n.in(1), bias = n.opt(2);
        boolean exact = n.type(scale).shape().dims().equals(normalized)
                && (bias == null || n.type(bias).shape().dims().equals(normalized));
        Value y;
        if (exact) {
            y = bias == null ? n.op("layer_norm", Builder.attrs("normalized_dims", k, "eps", eps), x, scale)
                    : n.op("layer_norm", Builder.attrs("normalized_dims", k, "eps", eps), x, scale, bias);
        } else {
            y = n.op("mul", n.op("layer_norm", Builder.attrs("normalized_dims", k, "eps", eps), x), scale);
            if (bias != null) y = n.op("add", y, bias);
        }
        List<Value> out = new ArrayList<>(List.of(y));
        if (n.wantsOutput(1) || n.wantsOutput(2)) {
            long[] axes = new long[k];
            for (int i = 0; i < k; i++) axes[i] = axis + i;
            Value mean = n.op("mean", Builder.attrs("axes", axes, "keepdim", true), x);
            Value centered = n.op("sub", x, mean);
            Value var = n.op("mean", Builder.attrs("axes", axes, "keepdim", true), n.op("mul", centered, centered));
            out.add(mean);
            out.add(n.op("rsqrt", n.op("add", var, n.scalar(xt.dtype(), eps))));
        }
        return out;
    }

    private static Value softmax(ImportNode n, String op) {
        Value x = n.in(0);
        TensorType xt = n.type(x);
        if (n.opset >= 13) return n.op(op, Builder.attrs("axis", n.attrInt("axis", -1)), x);
        int axis = n.axis(n.attrInt("axis", 1), xt.rank());
        List<Dim> dims = xt.shape().dims();
        if (axis == xt.rank() - 1) return n.op(op, Builder.attrs("axis", -1L), x);
        Value flat = n.reshape(x, List.of(ShapeRules.product(dims.subList(0, axis)), ShapeRules.product(dims.subList(axis, dims.size()))));
        return n.reshape(n.op(op, Builder.attrs("axis", -1L), flat), dims);
    }

    private static List<Value> dropout(ImportNode n, ImportScope scope) {
        Value x = n.in(0);
        boolean training = n.opset >= 12 && n.has(2) && n.constScalar(2) != 0;
        if (training) {
            double ratio = n.has(1) ? n.constScalar(1) : 0.5;
            if (ratio != 0) throw n.unsupported("Dropout in training mode with ratio " + ratio + " (random)");
        }
        List<Value> out = new ArrayList<>(List.of(x));
        if (n.wantsOutput(1)) {
            if (n.opset < 10) throw n.unsupported("Dropout's mask output before opset 10");
            long[] shape = n.staticShape(x, "Dropout mask");
            n.checkSize(DType.BOOL, shape, "the mask");
            out.add(n.constant(NDArray.full(DType.BOOL, 1.0, shape)));
        }
        return out;
    }
}
