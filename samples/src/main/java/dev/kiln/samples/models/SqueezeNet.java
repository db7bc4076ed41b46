package dev.kiln.samples.models;

import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.AdaptiveAvgPool2d;
import dev.kiln.frontend.nn.Conv2d;
import dev.kiln.frontend.nn.Dropout;
import dev.kiln.frontend.nn.MaxPool2d;
import dev.kiln.frontend.nn.Module;
import dev.kiln.frontend.nn.ReLU;
import dev.kiln.frontend.nn.Sequential;

import java.util.List;

/**
 * SqueezeNet 1.1 as torchvision builds it ({@code squeezenet1_1}): a 3×3 stride-2 convolution, eight fire modules
 * between three 3×3 stride-2 max pools with {@code ceil_mode}, and a classifier of dropout, a 1×1 convolution to
 * 1000 channels, ReLU and global average pooling. Convolutions have biases and no batch norm.
 */
public final class SqueezeNet extends Module {

    /** A 1×1 squeeze convolution, then 1×1 and 3×3 expand convolutions side by side, concatenated on channels. */
    public static final class Fire extends Module {
        final Conv2d squeeze;
        final Conv2d expand1x1;
        final Conv2d expand3x3;

        Fire(int in, int squeezeChannels, int expand1x1Channels, int expand3x3Channels) {
            squeeze = new Conv2d(in, squeezeChannels, 1);
            expand1x1 = new Conv2d(squeezeChannels, expand1x1Channels, 1);
            expand3x3 = new Conv2d(squeezeChannels, expand3x3Channels, 3, 1, 1);
        }

        @Override
        public Tensor forward(Tensor x) {
            Tensor s = squeeze.forward(x).relu();
            return Tensor.cat(List.of(expand1x1.forward(s).relu(), expand3x3.forward(s).relu()), 1);
        }
    }

    final Sequential features = new Sequential(
            new Conv2d(3, 64, 3, 2, 0), new ReLU(), ceilMaxPool(),
            new Fire(64, 16, 64, 64), new Fire(128, 16, 64, 64), ceilMaxPool(),
            new Fire(128, 32, 128, 128), new Fire(256, 32, 128, 128), ceilMaxPool(),
            new Fire(256, 48, 192, 192), new Fire(384, 48, 192, 192),
            new Fire(384, 64, 256, 256), new Fire(512, 64, 256, 256));
    final Sequential classifier = new Sequential(new Dropout(0.5), new Conv2d(512, 1000, 1), new ReLU(), new AdaptiveAvgPool2d(1));

    @Override
    public Tensor forward(Tensor x) {
        return classifier.forward(features.forward(x)).flatten(1, -1);
    }

    private static MaxPool2d ceilMaxPool() {
        return new MaxPool2d(new int[] {3, 3}, new int[] {2, 2}, new int[] {0, 0}, new int[] {1, 1}, true);
    }
}
