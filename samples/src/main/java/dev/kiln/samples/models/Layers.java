package dev.kiln.samples.models;

import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.BatchNorm2d;
import dev.kiln.frontend.nn.Conv2d;
import dev.kiln.frontend.nn.ReLU;
import dev.kiln.frontend.nn.Sequential;

/** Building blocks the sample CNNs share: bias-free square convolutions, conv/BN(/ReLU) stacks and channel shuffle. */
final class Layers {

    private Layers() {}

    /** A square {@code kernel}×{@code kernel} convolution without bias, as torchvision writes convolutions followed by batch norm. */
    static Conv2d conv(int in, int out, int kernel, int stride, int padding, int groups) {
        return new Conv2d(in, out, new int[] {kernel, kernel}, new int[] {stride, stride}, new int[] {padding, padding},
                new int[] {1, 1}, groups, false);
    }

    /** Convolution then batch norm; {@code relu} appends a ReLU. Padding is {@code kernel / 2} (same size at stride 1). */
    static Sequential convBn(int in, int out, int kernel, int stride, int groups, boolean relu) {
        Conv2d conv = conv(in, out, kernel, stride, kernel / 2, groups);
        return relu ? new Sequential(conv, new BatchNorm2d(out), new ReLU()) : new Sequential(conv, new BatchNorm2d(out));
    }

    /**
     * ShuffleNet's channel shuffle of an NCHW tensor: channels viewed as {@code [groups, C / groups]}, transposed and
     * flattened back, so each group of the next grouped convolution sees channels from every group of the last.
     * The batch dim stays {@code -1}, so a trace with a dynamic batch keeps it dynamic.
     */
    static Tensor channelShuffle(Tensor x, int groups) {
        long channels = x.dim(1), height = x.dim(2), width = x.dim(3);
        if (channels % groups != 0) {
            throw new IllegalArgumentException("channelShuffle: " + channels + " channels do not split into " + groups + " groups");
        }
        return x.reshape(-1, groups, channels / groups, height, width).transpose(1, 2).reshape(-1, channels, height, width);
    }
}
