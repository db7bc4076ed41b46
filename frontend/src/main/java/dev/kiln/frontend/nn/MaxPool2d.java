package dev.kiln.frontend.nn;

import dev.kiln.frontend.F;
import dev.kiln.frontend.Tensor;

import java.util.Arrays;

/** 2-D max pooling; the stride defaults to the kernel size, as in PyTorch. */
public final class MaxPool2d extends Module {

    private final int[] kernelSize;
    private final int[] stride;
    private final int[] padding;
    private final int[] dilation;
    private final boolean ceilMode;

    public MaxPool2d(int kernelSize) { this(kernelSize, kernelSize); }

    public MaxPool2d(int kernelSize, int stride) {
        this(new int[] {kernelSize, kernelSize}, new int[] {stride, stride}, new int[] {0, 0}, new int[] {1, 1}, false);
    }

    public MaxPool2d(int[] kernelSize, int[] stride, int[] padding, int[] dilation, boolean ceilMode) {
        this.kernelSize = kernelSize.clone();
        this.stride = stride.clone();
        this.padding = padding.clone();
        this.dilation = dilation.clone();
        this.ceilMode = ceilMode;
    }

    @Override
    public Tensor forward(Tensor input) { return F.maxPool2d(input, kernelSize, stride, padding, dilation, ceilMode); }

    @Override
    protected String extraRepr() {
        return "kernel_size=" + Arrays.toString(kernelSize) + ", stride=" + Arrays.toString(stride)
                + ", padding=" + Arrays.toString(padding) + (ceilMode ? ", ceil_mode=true" : "");
    }
}
