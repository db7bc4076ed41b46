package dev.kiln.onnx;

import com.google.protobuf.ByteString;
import dev.kiln.ir.Attribute;
import dev.kiln.ir.Dim;
import dev.kiln.ir.Op;
import dev.kiln.ir.TensorType;

import java.util.Arrays;
import java.util.List;

/**
 * max_pool2d, avg_pool2d and adaptive_avg_pool2d. PyTorch and ONNX differ in two places, handled here:
 * <ul>
 * <li>ceil_mode: PyTorch drops a last window that would start in the right padding. ONNX states
 *     that rule only from opset 19 (ONNX Runtime applies it at every opset), so with static sizes a
 *     Slice trims any extra window, a no-op where the runtime already dropped it.</li>
 * <li>count_include_pad=true with ceil_mode: PyTorch's divisor counts the padding but not the part
 *     of a last window that overhangs it; see {@link #avgPoolWholeWindows}.</li>
 * </ul>
 */
final class PoolLowering {

    private PoolLowering() {}

    static void maxPool2d(Op op, Emitter e) {
        long[] k = op.intsAttr("kernel_size"), p = op.intsAttr("padding"), d = op.intsAttr("dilation");
        boolean ceil = op.boolAttr("ceil_mode");
        String x = e.ref(op.operand(0));
        long[] trim = trimTo(op, p, d);
        String pooled = trim == null ? e.define(op.result()) : e.temp("maxpool_untrimmed");
        e.node("MaxPool", List.of(x), List.of(pooled))
                .addAttribute(Attrs.ints("kernel_shape", k))
                .addAttribute(Attrs.ints("strides", op.intsAttr("stride")))
                .addAttribute(Attrs.ints("pads", p[0], p[1], p[0], p[1]))
                .addAttribute(Attrs.ints("dilations", d))
                .addAttribute(Attrs.i("ceil_mode", ceil ? 1 : 0));
        if (trim != null) slice(op, e, pooled, trim);
    }

    /**
     * AveragePool. count_include_pad=true maps to ONNX count_include_pad=1 only without ceil_mode:
     * with ceil_mode, ONNX Runtime divides a window overhanging the right padding by the full
     * kernel size where PyTorch divides by the part inside the padded input, so that case goes
     * through {@link #avgPoolWholeWindows}. Without padding, count_include_pad changes nothing in
     * PyTorch and is written as 0, which like PyTorch leaves the ceil_mode overhang out of the divisor.
     */
    static void avgPool2d(Op op, Emitter e) {
        long[] k = op.intsAttr("kernel_size"), p = op.intsAttr("padding");
        boolean ceil = op.boolAttr("ceil_mode");
        boolean countPad = op.boolAttr("count_include_pad") && (p[0] > 0 || p[1] > 0);
        if (countPad && ceil) {
            avgPoolWholeWindows(op, e);
            return;
        }
        long[] trim = trimTo(op, p, new long[] {1, 1});
        String pooled = trim == null ? e.define(op.result()) : e.temp("avgpool_untrimmed");
        e.node("AveragePool", List.of(e.ref(op.operand(0))), List.of(pooled))
                .addAttribute(Attrs.ints("kernel_shape", k))
                .addAttribute(Attrs.ints("strides", op.intsAttr("stride")))
                .addAttribute(Attrs.ints("pads", p[0], p[1], p[0], p[1]))
                .addAttribute(Attrs.i("ceil_mode", ceil ? 1 : 0))
                .addAttribute(Attrs.i("count_include_pad", countPad ? 1 : 0));
        if (trim != null) slice(op, e, pooled, trim);
    }

    /**
     * avg_pool2d with count_include_pad, padding and ceil_mode, exactly: zero-pad explicitly so
     * that every one of PyTorch's windows lies whole inside the padded tensor (the right side padded
     * further to cover the ceil_mode overhang), average with no pads and no ceil_mode (divisor
     * kH*kW, unambiguous in ONNX), then rescale the windows whose PyTorch divisor leaves out the
     * overhang. Needs static H and W, which fix the window count and the rescaling constant.
     * (PyTorch's own exporter writes an explicit Pad and count_include_pad=0 instead; ONNX Runtime
     * fuses that pair into count_include_pad=1 and then gets these windows wrong.)
     */
    private static void avgPoolWholeWindows(Op op, Emitter e) {
        long[] k = op.intsAttr("kernel_size"), s = op.intsAttr("stride"), p = op.intsAttr("padding");
        if (!spatialStatic(op)) {
            throw Emitter.error(op, "ceil_mode=true with count_include_pad=true and padding " + Arrays.toString(p)
                    + " is exported exactly only for static H and W, but the input is " + op.operand(0).type()
                    + "; give the input static spatial sizes or set count_include_pad=false");
        }
        TensorType x = op.operand(0).tensorType(), y = op.result().tensorType();
        long[] in = {x.shape().dim(2).size(), x.shape().dim(3).size()};
        long[] out = {y.shape().dim(2).size(), y.shape().dim(3).size()};
        long[] padEnd = new long[2];
        double[][] divisor = new double[2][];
        boolean rescale = false;
        for (int i = 0; i < 2; i++) {
            padEnd[i] = Math.max(p[i], (out[i] - 1) * s[i] + k[i] - in[i] - p[i]);
            divisor[i] = new double[(int) out[i]];
            for (int o = 0; o < out[i]; o++) {
                long start = o * s[i] - p[i];
                divisor[i][o] = Math.min(start + k[i], in[i] + p[i]) - start;
                if (divisor[i][o] != k[i]) rescale = true;
            }
        }
        String pads = e.int64s("avgpool_pads", 0, 0, p[0], p[1], 0, 0, padEnd[0], padEnd[1]);
        String padded = e.temp("avgpool_padded");
        e.node("Pad", List.of(e.ref(op.operand(0)), pads), List.of(padded)).addAttribute(Attrs.s("mode", "constant"));
        String avg = rescale ? e.temp("avgpool_whole") : e.define(op.result());
        e.node("AveragePool", List.of(padded), List.of(avg))
                .addAttribute(Attrs.ints("kernel_shape", k))
                .addAttribute(Attrs.ints("strides", s));
        if (!rescale) return;
        double[] scale = new double[(int) (out[0] * out[1])];
        for (int h = 0; h < out[0]; h++) {
            for (int w = 0; w < out[1]; w++) scale[(int) (h * out[1] + w)] = (double) (k[0] * k[1]) / (divisor[0][h] * divisor[1][w]);
        }
        Attribute.Tensor c = Attribute.Tensor.fromDoubles(x.dtype(), out, scale);
        String factor = e.constant(OnnxTypes.tensor(null, c.type(), ByteString.copyFrom(c.data())), "avgpool_rescale");
        e.node("Mul", List.of(avg, factor), List.of(e.define(op.result())));
    }

    /**
     * adaptive_avg_pool2d: GlobalAveragePool for a 1x1 output; with static H and W, AveragePool when
     * each output size divides its input size (equal windows), otherwise the exact window means as
     * {@code A_h @ x @ A_w^T} with averaging matrices (window i spans [floor(i*H/out), ceil((i+1)*H/out))).
     */
    static void adaptiveAvgPool2d(Op op, Emitter e) {
        long[] out = op.intsAttr("output_size");
        String x = e.ref(op.operand(0));
        if (out[0] == 1 && out[1] == 1) {
            e.node("GlobalAveragePool", List.of(x), List.of(e.define(op.result())));
            return;
        }
        if (!spatialStatic(op)) {
            throw Emitter.error(op, "output size " + Arrays.toString(out) + " other than [1, 1] is exported only for static H and W, but the input is "
                    + op.operand(0).type() + "; give the input static spatial sizes");
        }
        TensorType t = op.operand(0).tensorType();
        long[] in = {t.shape().dim(2).size(), t.shape().dim(3).size()};
        if (in[0] % out[0] == 0 && in[1] % out[1] == 0 && out[0] > 0 && out[1] > 0) {
            long[] k = {in[0] / out[0], in[1] / out[1]};
            e.node("AveragePool", List.of(x), List.of(e.define(op.result())))
                    .addAttribute(Attrs.ints("kernel_shape", k))
                    .addAttribute(Attrs.ints("strides", k));
            return;
        }
        String rows = e.constant(t.dtype(), new long[] {out[0], in[0]}, averaging(out[0], in[0]), "adaptive_rows");
        String cols = e.constant(t.dtype(), new long[] {in[1], out[1]}, transpose(averaging(out[1], in[1]), out[1], in[1]), "adaptive_cols");
        String pooledRows = e.helper("MatMul", "adaptive_pooled_rows", rows, x);
        e.node("MatMul", List.of(pooledRows, cols), List.of(e.define(op.result())));
    }

    /** The [out, in] matrix whose row i averages adaptive window i. */
    private static double[] averaging(long out, long in) {
        double[] m = new double[(int) (out * in)];
        for (long i = 0; i < out; i++) {
            long start = Math.floorDiv(i * in, out), end = Math.ceilDiv((i + 1) * in, out);
            for (long j = start; j < end; j++) m[(int) (i * in + j)] = 1.0 / (end - start);
        }
        return m;
    }

    private static double[] transpose(double[] m, long rows, long cols) {
        double[] t = new double[m.length];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) t[(int) (c * rows + r)] = m[(int) (r * cols + c)];
        return t;
    }

    private static boolean spatialStatic(Op op) {
        TensorType x = op.operand(0).tensorType();
        return x.shape().dim(2).isStatic() && x.shape().dim(3).isStatic();
    }

    /**
     * The [H, W] to slice the ONNX output down to, or null when no slice is needed: with ceil_mode
     * and static sizes, ONNX's plain ceil formula may count one window more than PyTorch (whose
     * result type Kiln computed).
     */
    private static long[] trimTo(Op op, long[] pad, long[] dilation) {
        if (!op.boolAttr("ceil_mode") || !spatialStatic(op)) return null;
        TensorType x = op.operand(0).tensorType(), out = op.result().tensorType();
        long[] k = op.intsAttr("kernel_size"), s = op.intsAttr("stride");
        long[] want = new long[2];
        boolean needed = false;
        for (int i = 0; i < 2; i++) {
            long span = x.shape().dim(2 + i).size() + 2 * pad[i] - (dilation[i] * (k[i] - 1) + 1);
            long plainCeil = Math.ceilDiv(span, s[i]) + 1;
            Dim expected = out.shape().dim(2 + i);
            want[i] = expected.size();
            if (plainCeil > want[i]) needed = true;
        }
        return needed ? want : null;
    }

    private static void slice(Op op, Emitter e, String pooled, long[] hw) {
        String starts = e.int64s("trim_starts", 0, 0), ends = e.int64s("trim_ends", hw), axes = e.int64s("trim_axes", 2, 3);
        e.node("Slice", List.of(pooled, starts, ends, axes), List.of(e.define(op.result())));
    }
}
