package dev.kiln.frontend;

import dev.kiln.ir.Builder;

import java.util.Map;

/** Functional forms of the nn ops, like {@code torch.nn.functional}. */
public final class F {

    private F() {}

    public static Tensor relu(Tensor x) { return x.relu(); }

    public static Tensor sigmoid(Tensor x) { return x.sigmoid(); }

    public static Tensor tanh(Tensor x) { return x.tanh(); }

    public static Tensor softmax(Tensor x, int axis) { return x.softmax(axis); }

    public static Tensor logSoftmax(Tensor x, int axis) { return x.logSoftmax(axis); }

    /** {@code x @ weight^T + bias} with weight {@code [out, in]}; bias may be null. */
    public static Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        return bias == null ? Dispatch.call("linear", Map.of(), x, weight) : Dispatch.call("linear", Map.of(), x, weight, bias);
    }

    /** 2-D convolution (cross-correlation) over NCHW input; bias may be null. */
    public static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int[] stride, int[] padding, int[] dilation, int groups) {
        var attrs = Builder.attrs("stride", stride, "padding", padding, "dilation", dilation, "groups", groups);
        return bias == null ? Dispatch.call("conv2d", attrs, x, weight) : Dispatch.call("conv2d", attrs, x, weight, bias);
    }

    public static Tensor maxPool2d(Tensor x, int[] kernelSize, int[] stride, int[] padding, int[] dilation, boolean ceilMode) {
        return Dispatch.call("max_pool2d", Builder.attrs("kernel_size", kernelSize, "stride", stride, "padding", padding,
                "dilation", dilation, "ceil_mode", ceilMode), x);
    }

    public static Tensor avgPool2d(Tensor x, int[] kernelSize, int[] stride, int[] padding, boolean ceilMode, boolean countIncludePad) {
        return Dispatch.call("avg_pool2d", Builder.attrs("kernel_size", kernelSize, "stride", stride, "padding", padding,
                "ceil_mode", ceilMode, "count_include_pad", countIncludePad), x);
    }
}
