package dev.kiln.frontend.nn;

import dev.kiln.frontend.Tensor;

/** Average pooling to a fixed output size, whatever the input size. */
public final class AdaptiveAvgPool2d extends Module {

    private final int[] outputSize;

    public AdaptiveAvgPool2d(int size) { this(size, size); }

    public AdaptiveAvgPool2d(int height, int width) { this.outputSize = new int[] {height, width}; }

    @Override
    public Tensor forward(Tensor input) { return dev.kiln.frontend.F.adaptiveAvgPool2d(input, outputSize); }

    @Override
    protected String extraRepr() { return "output_size=" + java.util.Arrays.toString(outputSize); }
}
