package dev.kiln.frontend.nn;

import dev.kiln.frontend.F;
import dev.kiln.frontend.Tensor;

/** Transposed 2-D convolution (weight {@code [C_in, C_out/groups, kH, kW]}), initialised as in PyTorch. */
public final class ConvTranspose2d extends Module {

    private final Parameter weight;
    private final Parameter bias;
    private final int[] stride;
    private final int[] padding;
    private final int[] outputPadding;
    private final int[] dilation;
    private final int groups;

    public ConvTranspose2d(int inChannels, int outChannels, int kernelSize, int stride, int padding) {
        this(inChannels, outChannels, new int[] {kernelSize, kernelSize}, new int[] {stride, stride}, new int[] {padding, padding},
                new int[] {0, 0}, new int[] {1, 1}, 1, true);
    }

    public ConvTranspose2d(int inChannels, int outChannels, int[] kernelSize, int[] stride, int[] padding, int[] outputPadding,
                           int[] dilation, int groups, boolean withBias) {
        if (groups < 1 || inChannels % groups != 0 || outChannels % groups != 0) {
            throw new IllegalArgumentException("ConvTranspose2d: groups=" + groups + " must divide in_channels=" + inChannels
                    + " and out_channels=" + outChannels);
        }
        this.weight = Init.defaultWeight(inChannels, outChannels / groups, kernelSize[0], kernelSize[1]);
        // PyTorch derives fan_in from the weight's dim 1, which for a transposed convolution is the output channels.
        this.bias = withBias ? Init.defaultBias(Init.fans(weight)[0], outChannels) : null;
        this.stride = stride.clone();
        this.padding = padding.clone();
        this.outputPadding = outputPadding.clone();
        this.dilation = dilation.clone();
        this.groups = groups;
    }

    @Override
    public Tensor forward(Tensor input) {
        return F.convTranspose2d(input, weight, bias, stride, padding, outputPadding, dilation, groups);
    }

    public Parameter weight() { return weight; }

    @Override
    protected String extraRepr() {
        return weight.dim(0) + ", " + weight.dim(1) * groups + ", kernel_size=(" + weight.dim(2) + ", " + weight.dim(3)
                + "), stride=" + java.util.Arrays.toString(stride);
    }
}
