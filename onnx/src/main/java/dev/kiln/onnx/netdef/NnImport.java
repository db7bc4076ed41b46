package dev.kiln.onnx.netdef;

import dev.kiln.ir.Dim;
import dev.kiln.ir.ShapeRules;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;

import java.util.Arrays;
import java.util.List;

import static dev.kiln.ir.Builder.attrs;

/**
 * Caffe2's neural-network operators as Kiln ops: FC, MatMul, BatchMatMul, Conv, SpatialBN,
 * Softmax, MaxPool and AveragePool, NCHW only. Spatial arguments are read in every form Caffe2
 * accepts: {@code kernels}, {@code kernel} or {@code kernel_h}/{@code kernel_w}, and likewise for
 * strides, dilations and pads ({@code pads} is {@code [t, l, b, r]}).
 */
final class NnImport {

    private NnImport() {}

    /** Caffe2's legacy_pad values: NOTSET, VALID, SAME, CAFFE_LEGACY_POOLING. */
    private static final int NOTSET = 0, VALID = 1, CAFFE_LEGACY_POOLING = 3;

    /**
     * FC: X flattened at {@code axis} (default 1) times W^T plus b, W [N, K] flattened at
     * {@code axis_w}; the result keeps X's dims before {@code axis}. Kiln linear on X with its dims
     * from axis on flattened into one computes exactly that.
     */
    static void fc(NetReader r) {
        r.arity(3, 3, 1, 1);
        Value x = r.in(0), w = r.in(1), b = r.in(2);
        int rank = x.tensorType().rank();
        long axis = r.args().i("axis", 1), axisW = r.args().i("axis_w", 1);
        if (axis < 0) axis += rank;
        if (axis < 0 || axis >= rank) throw r.error("axis " + r.args().i("axis", 1) + " is out of range for X " + x.type());
        if (axis < rank - 1) x = r.emit("flatten", attrs("start_dim", axis, "end_dim", -1L), x);
        if (w.tensorType().rank() != 2 || axisW != 1) w = ImportTable.flatten2d(r, w, axisW);
        if (b.tensorType().rank() != 1) throw r.error("bias must be 1-D [N], got " + b.type());
        r.out(0, r.emit("linear", x, w, b));
    }

    /**
     * MatMul: A and B flattened to 2-D at {@code axis_a}/{@code axis_b} (default 1), optionally
     * transposed. A·B^T with a weight-shaped B is Kiln linear without bias.
     */
    static void matmul(NetReader r) {
        r.arity(2, 2, 1, 1);
        Value a = r.in(0), b = r.in(1);
        long axisA = r.args().i("axis_a", 1), axisB = r.args().i("axis_b", 1);
        if (a.tensorType().rank() != 2 || axisA != 1) a = ImportTable.flatten2d(r, a, axisA);
        if (b.tensorType().rank() != 2 || axisB != 1) b = ImportTable.flatten2d(r, b, axisB);
        boolean transA = r.args().i("trans_a", 0) != 0, transB = r.args().i("trans_b", 0) != 0;
        if (transB && !transA) {
            r.out(0, r.emit("linear", a, b));
            return;
        }
        if (transA) a = r.emit("permute", attrs("perm", new long[] {1, 0}), a);
        if (transB) b = r.emit("permute", attrs("perm", new long[] {1, 0}), b);
        r.out(0, r.emit("matmul", a, b));
    }

    /**
     * BatchMatMul: matmul over the last two dims, each side optionally transposed. With
     * {@code broadcast = 1} it is NumPy matmul; without, both sides must have one rank of at least 2.
     */
    static void batchMatmul(NetReader r) {
        r.arity(2, 2, 1, 1);
        Value a = r.in(0), b = r.in(1);
        int ra = a.tensorType().rank(), rb = b.tensorType().rank();
        if (r.args().i("broadcast", 0) == 0 && (ra != rb || ra < 2)) {
            throw r.error("without broadcast = 1, A " + a.type() + " and B " + b.type() + " must have one rank of at least 2");
        }
        if (r.args().i("trans_a", 0) != 0 && ra >= 2) a = r.emit("permute", attrs("perm", swapLast(ra)), a);
        if (r.args().i("trans_b", 0) != 0 && rb >= 2) b = r.emit("permute", attrs("perm", swapLast(rb)), b);
        r.out(0, r.emit("matmul", a, b));
    }

    private static long[] swapLast(int rank) {
        long[] p = new long[rank];
        for (int i = 0; i < rank; i++) p[i] = i;
        p[rank - 2] = rank - 1;
        p[rank - 1] = rank - 2;
        return p;
    }

    /**
     * Conv (2-D, NCHW): symmetric pads become conv2d padding; asymmetric ones an explicit zero pad
     * op first. The kernel size, if given, must match the filter's.
     */
    static void conv(NetReader r) {
        r.arity(2, 3, 1, 1);
        requireNchw(r);
        Value x = r.in(0), w = r.in(1);
        TensorType wt = w.tensorType();
        if (wt.rank() != 4) throw r.error("only 2-D convolution is supported; the filter is " + wt);
        long[] kernel = pair(r, "kernel", null);
        if (kernel != null && !(wt.shape().dim(2).equals(Dim.of(kernel[0])) && wt.shape().dim(3).equals(Dim.of(kernel[1])))) {
            throw r.error("kernel " + Arrays.toString(kernel) + " does not match the filter " + wt);
        }
        int legacy = (int) r.args().i("legacy_pad", NOTSET);
        if (legacy != NOTSET && legacy != VALID) throw r.error("legacy_pad " + legacy + " is not supported (only NOTSET and VALID)");
        long[] pads = pads(r, legacy);
        long[] stride = pair(r, "stride", new long[] {1, 1}), dilation = pair(r, "dilation", new long[] {1, 1});
        long group = r.args().i("group", 1);
        if (pads[0] != pads[2] || pads[1] != pads[3]) {
            x = r.emit("pad", attrs("pads", new long[] {pads[1], pads[3], pads[0], pads[2]}), x);
            pads = new long[4];
        }
        var geometry = attrs("stride", stride, "padding", new long[] {pads[0], pads[1]}, "dilation", dilation, "groups", group);
        r.out(0, r.inputCount() == 3 ? r.emit("conv2d", geometry, x, w, r.in(2)) : r.emit("conv2d", geometry, x, w));
    }

    /** SpatialBN in test mode: inputs X, scale, bias, mean, var. */
    static void spatialBn(NetReader r) {
        r.arity(5, 5, 1, 1);
        requireNchw(r);
        if (r.args().i("is_test", 0) == 0) {
            throw r.error("SpatialBN in training mode (is_test = 0) normalises with batch statistics; only is_test = 1 can be imported");
        }
        r.out(0, r.emit("batch_norm", attrs("eps", r.args().f("epsilon", 1e-5)), r.in(0), r.in(3), r.in(4), r.in(1), r.in(2)));
    }

    /**
     * Softmax normalises over all dims from {@code axis} (default 1) on: Kiln softmax on that axis
     * when it is the last (or only size-1 dims follow), else on those dims flattened into one and
     * reshaped back.
     */
    static void softmax(NetReader r) {
        r.arity(1, 1, 1, 1);
        Value x = r.in(0);
        TensorType t = x.tensorType();
        int rank = t.rank();
        long axis = r.args().i("axis", 1);
        if (axis < 0) axis += rank;
        if (axis < 0 || axis >= rank) throw r.error("axis " + r.args().i("axis", 1) + " is out of range for " + t);
        List<Dim> trailing = t.shape().dims().subList((int) axis + 1, rank);
        if (trailing.stream().allMatch(d -> d.equals(Dim.of(1)))) {
            r.out(0, r.emit("softmax", attrs("axis", axis), x));
            return;
        }
        Value flat = r.emit("flatten", attrs("start_dim", axis, "end_dim", -1L), x);
        Value y = r.emit("softmax", attrs("axis", -1L), flat);
        r.out(0, r.emit("reshape", java.util.Map.of("shape", r.sizes(t.shape().dims(), "restoring the shape after Softmax")), y));
    }

    /**
     * MaxPool/AveragePool. Caffe2 pools with floor output sizes and explicit pads; bottom/right pads
     * larger than top/left are Kiln's ceil_mode when (for static H and W) they give the same window
     * count, and CAFFE_LEGACY_POOLING is ceil_mode too. Caffe2's count_include_pad (default 0)
     * divides by the whole kernel, Kiln's by the part inside the padded input: they are the same
     * unless a window overhangs the padding, which is refused. Global pooling is
     * adaptive_avg_pool2d to [1, 1], or a max pool over the whole static image.
     */
    static void pool(NetReader r, boolean max) {
        r.arity(1, 1, 1, 1);
        requireNchw(r);
        Value x = r.in(0);
        TensorType t = x.tensorType();
        if (t.rank() != 4) throw r.error("only 2-D pooling of NCHW input is supported; the input is " + t);
        long[] dilation = pair(r, "dilation", new long[] {1, 1});
        if (dilation[0] != 1 || dilation[1] != 1) throw r.error("dilation " + Arrays.toString(dilation) + " is not supported by Caffe2 pooling");
        boolean countPad = !max && r.args().i("count_include_pad", 0) != 0;
        if (r.args().i("global_pooling", 0) != 0) {
            if (!max) {
                r.out(0, r.emit("adaptive_avg_pool2d", attrs("output_size", new long[] {1, 1}), x));
                return;
            }
            Dim h = t.shape().dim(2), w = t.shape().dim(3);
            if (!h.isStatic() || !w.isStatic()) throw r.error("global max pooling needs static H and W, got " + t);
            r.out(0, r.emit("max_pool2d", attrs("kernel_size", new long[] {h.size(), w.size()}, "stride", new long[] {1, 1}), x));
            return;
        }
        long[] kernel = pair(r, "kernel", null);
        if (kernel == null) throw r.error("the kernel size is missing (kernels, kernel or kernel_h/kernel_w)");
        long[] stride = pair(r, "stride", new long[] {1, 1});
        int legacy = (int) r.args().i("legacy_pad", NOTSET);
        if (legacy != NOTSET && legacy != VALID && legacy != CAFFE_LEGACY_POOLING) {
            throw r.error("legacy_pad " + legacy + " is not supported (only NOTSET, VALID and CAFFE_LEGACY_POOLING)");
        }
        long[] pads = pads(r, legacy == CAFFE_LEGACY_POOLING ? NOTSET : legacy);
        boolean ceil;
        if (legacy == CAFFE_LEGACY_POOLING) {
            for (int i = 0; i < 2; i++) {
                if (pads[i] == 0 && kernel[i] < stride[i]) {
                    throw r.error("CAFFE_LEGACY_POOLING without padding and with kernel " + Arrays.toString(kernel) + " smaller than stride "
                            + Arrays.toString(stride) + " may add an empty last window, which Kiln's ceil_mode drops");
                }
            }
            ceil = true;
            pads[2] = pads[0];
            pads[3] = pads[1];
        } else if (pads[2] == pads[0] && pads[3] == pads[1]) {
            ceil = false;
        } else {
            ceilPads(r, t, kernel, stride, pads);
            ceil = true;
        }
        if (ceil && countPad) requireNoOverhang(r, t, kernel, stride, pads);
        long[] padding = {pads[0], pads[1]};
        if (max) {
            r.out(0, r.emit("max_pool2d", attrs("kernel_size", kernel, "stride", stride, "padding", padding, "ceil_mode", ceil), x));
        } else {
            r.out(0, r.emit("avg_pool2d", attrs("kernel_size", kernel, "stride", stride, "padding", padding, "ceil_mode", ceil,
                    "count_include_pad", countPad), x));
        }
    }

    /** Asymmetric pads [t, l, b, r] must be Kiln's ceil_mode with padding [t, l]: same window counts, b >= t, r >= l. */
    private static void ceilPads(NetReader r, TensorType x, long[] k, long[] s, long[] pads) {
        for (int i = 0; i < 2; i++) {
            Dim in = x.shape().dim(2 + i);
            boolean same = pads[2 + i] >= pads[i] && in.isStatic()
                    && ShapeRules.windowOutput(r.type(), in, k[i], s[i], pads[i], pads[2 + i], 1, false)
                            .equals(ShapeRules.windowOutput(r.type(), in, k[i], s[i], pads[i], pads[i], 1, true));
            if (!same) {
                throw r.error("pads " + Arrays.toString(pads) + " on input " + x + " have no Kiln form: Kiln pools with equal"
                        + " pads on both sides, plus ceil_mode, which needs static H and W and the same window count");
            }
        }
    }

    /** With count_include_pad and ceil_mode, no window may reach past the (symmetric) padding. */
    private static void requireNoOverhang(NetReader r, TensorType x, long[] k, long[] s, long[] pads) {
        for (int i = 0; i < 2; i++) {
            Dim in = x.shape().dim(2 + i);
            Dim out = in.isStatic() ? ShapeRules.windowOutput(r.type(), in, k[i], s[i], pads[i], pads[i], 1, true) : Dim.UNKNOWN;
            if (!out.isStatic() || (out.size() - 1) * s[i] - pads[i] + k[i] > in.size() + pads[i]) {
                throw r.error("count_include_pad = 1 with a last window past the padding of " + x + " (or unknown H, W) divides by the"
                        + " whole kernel in Caffe2 but not in Kiln; there is no exact Kiln form");
            }
        }
    }

    private static void requireNchw(NetReader r) {
        String order = r.args().s("order", "NCHW");
        if (!order.equals("NCHW")) throw r.error("order '" + order + "' is not supported; only NCHW is");
    }

    /**
     * A 2-D spatial argument: the list {@code <name>s}, the single {@code <name>} for both dims, or
     * {@code <name>_h} and {@code <name>_w}; {@code fallback} when none is given.
     */
    private static long[] pair(NetReader r, String name, long[] fallback) {
        Args.Reader a = r.args();
        long[] list = a.ints(name + "s");
        if (list != null) {
            if (list.length != 2) throw r.error("'" + name + "s' must have 2 entries for 2-D ops, got " + Arrays.toString(list));
            return list;
        }
        if (a.has(name)) return new long[] {a.i(name, 0), a.i(name, 0)};
        if (a.has(name + "_h") || a.has(name + "_w")) {
            if (!a.has(name + "_h") || !a.has(name + "_w")) throw r.error("'" + name + "_h' and '" + name + "_w' must be given together");
            return new long[] {a.i(name + "_h", 0), a.i(name + "_w", 0)};
        }
        return fallback;
    }

    /** Pads [t, l, b, r] from {@code pads}, {@code pad} or {@code pad_t/l/b/r}; zero for VALID or when absent. */
    private static long[] pads(NetReader r, int legacy) {
        Args.Reader a = r.args();
        boolean given = a.has("pads") || a.has("pad") || a.has("pad_t") || a.has("pad_l") || a.has("pad_b") || a.has("pad_r");
        if (legacy == VALID) {
            if (given) throw r.error("legacy_pad VALID does not take explicit pads");
            return new long[4];
        }
        long[] pads;
        long[] list = a.ints("pads");
        if (list != null) {
            if (list.length != 4) throw r.error("'pads' must have 4 entries [t, l, b, r] for 2-D ops, got " + Arrays.toString(list));
            pads = list;
        } else if (a.has("pad")) {
            long p = a.i("pad", 0);
            pads = new long[] {p, p, p, p};
        } else if (given) {
            for (String side : List.of("pad_t", "pad_l", "pad_b", "pad_r")) {
                if (!a.has(side)) throw r.error("pad_t, pad_l, pad_b and pad_r must be given together");
            }
            pads = new long[] {a.i("pad_t", 0), a.i("pad_l", 0), a.i("pad_b", 0), a.i("pad_r", 0)};
        } else {
            pads = new long[4];
        }
        for (long p : pads) if (p < 0) throw r.error("pads " + Arrays.toString(pads) + " must not be negative");
        return pads;
    }
}
