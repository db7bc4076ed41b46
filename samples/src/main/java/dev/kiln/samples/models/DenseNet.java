package dev.kiln.samples.models;

import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.AdaptiveAvgPool2d;
import dev.kiln.frontend.nn.AvgPool2d;
import dev.kiln.frontend.nn.BatchNorm2d;
import dev.kiln.frontend.nn.Conv2d;
import dev.kiln.frontend.nn.Linear;
import dev.kiln.frontend.nn.MaxPool2d;
import dev.kiln.frontend.nn.Module;
import dev.kiln.frontend.nn.ReLU;
import dev.kiln.frontend.nn.Sequential;

import java.util.ArrayList;
import java.util.List;

/**
 * DenseNet as torchvision builds it: a 7×7 stride-2 stem and max pool, dense blocks whose layers (batch norm, ReLU,
 * 1×1 convolution to {@code 4 × growth}, batch norm, ReLU, 3×3 convolution to {@code growth}) each see the
 * concatenation of every earlier feature map in the block, transition layers (batch norm, ReLU, 1×1 convolution
 * halving the channels, 2×2 average pool) between blocks, then batch norm, ReLU, global pooling and a linear head.
 * {@link #DenseNet()} is DenseNet-121 (growth 32, blocks of 6, 12, 24 and 16 layers, 64 stem channels).
 */
public final class DenseNet extends Module {

    private static final int BOTTLENECK_FACTOR = 4;

    /** One dense layer: BN-ReLU-conv1×1-BN-ReLU-conv3×3 over the concatenated inputs, {@code growth} new channels. */
    public static final class DenseLayer extends Module {
        final Sequential layers;

        DenseLayer(int in, int growth) {
            layers = new Sequential(new BatchNorm2d(in), new ReLU(), Layers.conv(in, BOTTLENECK_FACTOR * growth, 1, 1, 0, 1),
                    new BatchNorm2d(BOTTLENECK_FACTOR * growth), new ReLU(), Layers.conv(BOTTLENECK_FACTOR * growth, growth, 3, 1, 1, 1));
        }

        @Override
        public Tensor forward(Tensor x) { return layers.forward(x); }
    }

    /** {@code layers} dense layers; the output concatenates the block input and every layer's new channels. */
    public static final class DenseBlock extends Module {
        final List<DenseLayer> layers = new ArrayList<>();

        DenseBlock(int in, int count, int growth) {
            for (int i = 0; i < count; i++) layers.add(new DenseLayer(in + i * growth, growth));
        }

        @Override
        public Tensor forward(Tensor x) {
            List<Tensor> features = new ArrayList<>(List.of(x));
            for (DenseLayer layer : layers) features.add(layer.forward(Tensor.cat(features, 1)));
            return Tensor.cat(features, 1);
        }
    }

    final Sequential features;
    final AdaptiveAvgPool2d avgpool = new AdaptiveAvgPool2d(1);
    final Linear classifier;

    /** DenseNet-121 with 1000 classes (about 8M parameters). */
    public DenseNet() { this(32, new int[] {6, 12, 24, 16}, 64, 1000); }

    /** {@code blocks[i]} layers in dense block i, each adding {@code growth} channels, after a stem of {@code stemChannels}. */
    public DenseNet(int growth, int[] blocks, int stemChannels, int classes) {
        if (blocks.length == 0) throw new IllegalArgumentException("DenseNet: needs at least one dense block");
        List<Module> layers = new ArrayList<>(List.of(Layers.conv(3, stemChannels, 7, 2, 3, 1), new BatchNorm2d(stemChannels),
                new ReLU(), new MaxPool2d(new int[] {3, 3}, new int[] {2, 2}, new int[] {1, 1}, new int[] {1, 1}, false)));
        int channels = stemChannels;
        for (int b = 0; b < blocks.length; b++) {
            layers.add(new DenseBlock(channels, blocks[b], growth));
            channels += blocks[b] * growth;
            if (b < blocks.length - 1) {
                layers.add(new Sequential(new BatchNorm2d(channels), new ReLU(), Layers.conv(channels, channels / 2, 1, 1, 0, 1),
                        new AvgPool2d(2)));
                channels /= 2;
            }
        }
        layers.add(new BatchNorm2d(channels));
        layers.add(new ReLU());
        features = new Sequential(layers.toArray(Module[]::new));
        classifier = new Linear(channels, classes);
    }

    @Override
    public Tensor forward(Tensor x) {
        return classifier.forward(avgpool.forward(features.forward(x)).flatten(1, -1));
    }
}
