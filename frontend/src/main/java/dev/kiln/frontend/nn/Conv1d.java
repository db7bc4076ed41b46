package dev.kiln.frontend.nn;

import dev.kiln.frontend.F;
import dev.kiln.frontend.Tensor;

/** 1-D convolution over {@code [N, C, L]} input, with PyTorch's parameters and initialisation. */
public final class Conv1d extends Module {

    private final Parameter weight;
    private final Parameter bias;
    private final int stride;
    private final int padding;
    private final int dilation;
    private final int groups;

    public Conv1d(int inChannels, int outChannels, int kernelSize) { this(inChannels, outChannels, kernelSize, 1, 0, 1, 1, true); }

    public Conv1d(int inChannels, int outChannels, int kernelSize, int stride, int padding, int dilation, int groups, boolean withBias) {
        if (groups < 1 || inChannels % groups != 0 || outChannels % groups != 0) {
            throw new IllegalArgumentException("Conv1d: groups=" + groups + " must divide in_channels=" + inChannels + " and out_channels=" + outChannels);
        }
        this.weight = Init.defaultWeight(outChannels, inChannels / groups, kernelSize);
        this.bias = withBias ? Init.defaultBias((long) inChannels / groups * kernelSize, outChannels) : null;
        this.stride = stride;
        this.padding = padding;
        this.dilation = dilation;
        this.groups = groups;
    }

    @Override
    public Tensor forward(Tensor input) { return F.conv1d(input, weight, bias, stride, padding, dilation, groups); }

    public Parameter weight() { return weight; }

    @Override
    protected String extraRepr() {
        return weight.dim(1) * groups + ", " + weight.dim(0) + ", kernel_size=" + weight.dim(2) + ", stride=" + stride + ", padding=" + padding;
    }
}
