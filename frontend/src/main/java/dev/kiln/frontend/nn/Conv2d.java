package dev.kiln.frontend.nn;

import dev.kiln.frontend.F;
import dev.kiln.frontend.Tensor;

import java.util.Arrays;

/** 2-D convolution over NCHW input, with PyTorch's parameters and default initialisation. */
public final class Conv2d extends Module {

    private final Parameter weight;
    private final Parameter bias;
    private final int[] stride;
    private final int[] padding;
    private final int[] dilation;
    private final int groups;

    /** Square kernel, stride 1, no padding. */
    public Conv2d(int inChannels, int outChannels, int kernelSize) {
        this(inChannels, outChannels, kernelSize, 1, 0);
    }

    /** Square kernel with the given stride and padding. */
    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride, int padding) {
        this(inChannels, outChannels, new int[] {kernelSize, kernelSize}, new int[] {stride, stride},
                new int[] {padding, padding}, new int[] {1, 1}, 1, true);
    }

    public Conv2d(int inChannels, int outChannels, int[] kernelSize, int[] stride, int[] padding, int[] dilation,
                  int groups, boolean withBias) {
        if (groups < 1 || inChannels % groups != 0 || outChannels % groups != 0) {
            throw new IllegalArgumentException("Conv2d: groups=" + groups + " must divide in_channels=" + inChannels
                    + " and out_channels=" + outChannels);
        }
        for (int[] pair : new int[][] {kernelSize, stride, padding, dilation}) {
            if (pair.length != 2) throw new IllegalArgumentException("Conv2d: kernel, stride, padding and dilation need 2 entries each");
        }
        long fanIn = (long) (inChannels / groups) * kernelSize[0] * kernelSize[1];
        this.weight = Init.defaultWeight(outChannels, inChannels / groups, kernelSize[0], kernelSize[1]);
        this.bias = withBias ? Init.defaultBias(fanIn, outChannels) : null;
        this.stride = stride.clone();
        this.padding = padding.clone();
        this.dilation = dilation.clone();
        this.groups = groups;
    }

    @Override
    public Tensor forward(Tensor input) { return F.conv2d(input, weight, bias, stride, padding, dilation, groups); }

    public Parameter weight() { return weight; }

    public Parameter bias() { return bias; }

    @Override
    protected String extraRepr() {
        return weight.dim(1) * groups + ", " + weight.dim(0) + ", kernel_size=(" + weight.dim(2) + ", " + weight.dim(3)
                + "), stride=" + Arrays.toString(stride) + ", padding=" + Arrays.toString(padding)
                + (dilation[0] != 1 || dilation[1] != 1 ? ", dilation=" + Arrays.toString(dilation) : "")
                + (groups != 1 ? ", groups=" + groups : "") + (bias == null ? ", bias=false" : "");
    }
}
