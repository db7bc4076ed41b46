package dev.kiln.frontend.nn;

import dev.kiln.frontend.Tensor;

/** 2-D average pooling; the stride defaults to the kernel size. */
public final class AvgPool2d extends Module {

    private final int[] kernelSize;
    private final int[] stride;
    private final int[] padding;
    private final boolean ceilMode;
    private final boolean countIncludePad;

    public AvgPool2d(int kernelSize) { this(kernelSize, kernelSize, 0); }

    public AvgPool2d(int kernelSize, int stride, int padding) {
        this(new int[] {kernelSize, kernelSize}, new int[] {stride, stride}, new int[] {padding, padding}, false, true);
    }

    public AvgPool2d(int[] kernelSize, int[] stride, int[] padding, boolean ceilMode, boolean countIncludePad) {
        this.kernelSize = kernelSize.clone();
        this.stride = stride.clone();
        this.padding = padding.clone();
        this.ceilMode = ceilMode;
        this.countIncludePad = countIncludePad;
    }

    @Override
    public Tensor forward(Tensor input) { return dev.kiln.frontend.F.avgPool2d(input, kernelSize, stride, padding, ceilMode, countIncludePad); }

    @Override
    protected String extraRepr() {
        return "kernel_size=" + java.util.Arrays.toString(kernelSize) + ", stride=" + java.util.Arrays.toString(stride)
                + ", padding=" + java.util.Arrays.toString(padding);
    }
}
