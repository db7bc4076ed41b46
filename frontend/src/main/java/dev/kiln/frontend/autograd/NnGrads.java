package dev.kiln.frontend.autograd;

import dev.kiln.frontend.Dispatch;
import dev.kiln.frontend.Tensor;
import dev.kiln.ir.Attribute;
import dev.kiln.ir.Builder;
import dev.kiln.runtime.OpAttributes;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Gradient rules of the convolution, pooling, normalisation, embedding and dropout ops. Work that needs its own
 * kernel goes through backward registry ops ({@code conv2d_input_grad}, {@code max_pool2d_grad}, ...), which are
 * themselves non-differentiable: autograd here is first-order.
 */
final class NnGrads {

    private NnGrads() {}

    static void register() {
        GradTable.rule("conv2d", NnGrads::conv2d);
        GradTable.rule("conv_transpose2d", NnGrads::convTranspose2d);
        GradTable.rule("max_pool2d", (c, g) -> List.of(Dispatch.call("max_pool2d_grad",
                copy(c.attrs(), "kernel_size", "stride", "padding", "dilation", "ceil_mode"), g, c.input(0))));
        GradTable.rule("avg_pool2d", (c, g) -> {
            Map<String, Attribute> attrs = copy(c.attrs(), "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad");
            attrs.putAll(Builder.attrs("input_size", spatial(c.inputShape(0))));
            return List.of(Dispatch.call("avg_pool2d_grad", attrs, g));
        });
        GradTable.rule("adaptive_avg_pool2d", (c, g) -> List.of(Dispatch.call("adaptive_avg_pool2d_grad",
                Builder.attrs("input_size", spatial(c.inputShape(0))), g)));
        GradTable.rule("embedding", (c, g) -> Arrays.asList(c.needsGrad(0) ? Dispatch.call("embedding_grad",
                Builder.attrs("num_weights", c.inputShape(0)[0], "padding_idx", c.attrs().get("padding_idx")),
                g, c.input(1)) : null, null));
        GradTable.rule("batch_norm", NnGrads::batchNorm);
        GradTable.rule("layer_norm", (c, g) -> affineNorm(c, g, "normalized_dims"));
        GradTable.rule("group_norm", (c, g) -> affineNorm(c, g, "groups"));
        GradTable.nonDifferentiable("dropout_mask", "conv2d_input_grad", "conv2d_weight_grad", "conv_transpose2d_input_grad",
                "max_pool2d_grad", "avg_pool2d_grad", "adaptive_avg_pool2d_grad", "embedding_grad", "layer_norm_grad",
                "group_norm_grad");
    }

    /** dx: transposed convolution of g; dw: correlation of x with g; db: sum of g over N, H, W. */
    private static List<Tensor> conv2d(GradContext c, Tensor g) {
        Tensor w = c.input(1);
        Map<String, Attribute> geometry = copy(c.attrs(), "stride", "padding", "dilation", "groups");
        Tensor dx = null, dw = null;
        if (c.needsGrad(0)) {
            dx = Dispatch.call("conv2d_input_grad", with(geometry, "input_size", spatial(c.inputShape(0))), g, w);
        }
        if (c.needsGrad(1)) {
            dw = Dispatch.call("conv2d_weight_grad", with(geometry, "kernel_size", spatial(w.shape())), c.input(0), g);
        }
        return withBias(c, g, dx, dw);
    }

    /**
     * conv_transpose2d is conv2d's input adjoint, so dx is the conv2d of g with w and dw is the conv2d weight
     * gradient with the roles of input and output gradient swapped (g as input, x as output gradient).
     */
    private static List<Tensor> convTranspose2d(GradContext c, Tensor g) {
        Tensor w = c.input(1);
        Map<String, Attribute> geometry = copy(c.attrs(), "stride", "padding", "dilation", "groups");
        Tensor dx = null, dw = null;
        if (c.needsGrad(0)) {
            dx = Dispatch.call("conv_transpose2d_input_grad", with(geometry, "input_size", spatial(c.inputShape(0))), g, w);
        }
        if (c.needsGrad(1)) {
            dw = Dispatch.call("conv2d_weight_grad", with(geometry, "kernel_size", spatial(w.shape())), g, c.input(0));
        }
        return withBias(c, g, dx, dw);
    }

    private static List<Tensor> withBias(GradContext c, Tensor g, Tensor dx, Tensor dw) {
        if (c.inputCount() < 3) return Arrays.asList(dx, dw);
        return Arrays.asList(dx, dw, c.needsGrad(2) ? g.sum(new int[] {0, 2, 3}, false) : null);
    }

    /**
     * y = (x - mean) * invstd * w + b with invstd = 1/sqrt(var + eps) per channel. invstd is itself a batch_norm
     * (of ones, with zero mean), so the rule needs no other kernels:
     * dx = g w invstd; dmean = -sum(dx); dvar = -w sum(g xhat) invstd^2 / 2; dw = sum(g xhat); db = sum(g).
     */
    private static List<Tensor> batchNorm(GradContext c, Tensor g) {
        long[] xs = c.inputShape(0);
        long ch = xs[1];
        Map<String, Attribute> eps = copy(c.attrs(), "eps");
        Tensor var = c.input(2);
        Tensor invstd = Dispatch.call("batch_norm", eps, Tensor.ones(var.dtype(), 1, ch), Tensor.zeros(var.dtype(), ch), var)
                .reshape(ch);
        Tensor w = c.inputCount() > 3 ? c.input(3) : null;
        Tensor scale = w == null ? invstd : invstd.mul(w);
        int[] axes = allBut(xs.length, 1);
        long[] perChannel = new long[xs.length];
        Arrays.fill(perChannel, 1);
        perChannel[1] = ch;
        boolean statsNeeded = c.needsGrad(2) || (w != null && c.needsGrad(3));
        Tensor sumG = c.needsGrad(1) || (c.inputCount() > 4 && c.needsGrad(4)) ? g.sum(axes, false) : null;
        Tensor sumGxhat = statsNeeded
                ? g.mul(Dispatch.call("batch_norm", eps, c.input(0), c.input(1), var)).sum(axes, false) : null;
        Tensor dx = c.needsGrad(0) ? g.mul(scale.reshape(perChannel)) : null;
        Tensor dmean = c.needsGrad(1) ? sumG.mul(scale).neg() : null;
        Tensor dvar = c.needsGrad(2) ? sumGxhat.mul(scale).mul(invstd).mul(-0.5) : null;
        Tensor[] grads = {dx, dmean, dvar,
                c.inputCount() > 3 && c.needsGrad(3) ? sumGxhat : null,
                c.inputCount() > 4 && c.needsGrad(4) ? sumG : null};
        return Arrays.asList(Arrays.copyOf(grads, c.inputCount()));
    }

    /**
     * layer_norm and group_norm (x, weight?, bias?): dx from the op's own backward kernel; dweight = sum(g * xhat)
     * and dbias = sum(g) over the dims the affine parameters are broadcast along, xhat being the op without affine.
     */
    private static List<Tensor> affineNorm(GradContext c, Tensor g, String shapeAttr) {
        String op = c.op();
        Map<String, Attribute> attrs = copy(c.attrs(), shapeAttr, "eps");
        Tensor x = c.input(0);
        Tensor dx = null, dw = null, db = null;
        if (c.needsGrad(0)) {
            dx = c.inputCount() > 1 ? Dispatch.call(op + "_grad", attrs, g, x, c.input(1)) : Dispatch.call(op + "_grad", attrs, g, x);
        }
        int rank = x.rank();
        int[] axes = op.equals("layer_norm")
                ? range(rank - (int) c.attrs().integer("normalized_dims")) : allBut(rank, 1);
        if (c.inputCount() > 1 && c.needsGrad(1)) dw = sumOver(g.mul(Dispatch.call(op, attrs, x)), axes);
        if (c.inputCount() > 2 && c.needsGrad(2)) db = sumOver(g, axes);
        return Arrays.asList(Arrays.copyOf(new Tensor[] {dx, dw, db}, c.inputCount()));
    }

    /** Sums over {@code axes}; none means the tensor itself (an empty axes list would sum everything). */
    private static Tensor sumOver(Tensor t, int[] axes) {
        return axes.length == 0 ? t : t.sum(axes, false);
    }

    private static int[] range(int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) r[i] = i;
        return r;
    }

    private static int[] allBut(int rank, int kept) {
        return java.util.stream.IntStream.range(0, rank).filter(i -> i != kept).toArray();
    }

    /** The last two entries of a shape (the spatial size of an NCHW tensor or kernel). */
    private static long[] spatial(long[] shape) {
        return Arrays.copyOfRange(shape, shape.length - 2, shape.length);
    }

    /** The named attributes of the forward op, defaults filled in, to pass on to a backward op. */
    private static Map<String, Attribute> copy(OpAttributes attrs, String... names) {
        Map<String, Attribute> out = new LinkedHashMap<>();
        for (String n : names) out.put(n, attrs.get(n));
        return out;
    }

    private static Map<String, Attribute> with(Map<String, Attribute> attrs, String name, Object value) {
        Map<String, Attribute> out = new LinkedHashMap<>(attrs);
        out.putAll(Builder.attrs(name, value));
        return out;
    }
}
