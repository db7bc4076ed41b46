package dev.kiln.samples.models;

import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.AdaptiveAvgPool2d;
import dev.kiln.frontend.nn.BatchNorm2d;
import dev.kiln.frontend.nn.Conv2d;
import dev.kiln.frontend.nn.Dropout;
import dev.kiln.frontend.nn.Linear;
import dev.kiln.frontend.nn.MaxPool2d;
import dev.kiln.frontend.nn.Module;
import dev.kiln.frontend.nn.ReLU;
import dev.kiln.frontend.nn.Sequential;

import java.util.ArrayList;
import java.util.List;

/**
 * VGG-11 with batch norm as torchvision builds it ({@code vgg11_bn}, configuration A): eight 3×3 convolutions
 * (64, 128, 256, 256, 512, 512, 512, 512 channels; each with bias, batch norm and ReLU) and five 2×2 max pools,
 * a 7×7 adaptive average pool and a classifier of two hidden fully connected layers with ReLU and dropout.
 */
public final class Vgg11 extends Module {

    /** Configuration A: output channels of each convolution, 0 for a max pool. */
    private static final int[] CONFIGURATION = {64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0};

    final Sequential features;
    final AdaptiveAvgPool2d avgpool = new AdaptiveAvgPool2d(7);
    final Sequential classifier;

    /** torchvision's VGG-11-BN: 4096-wide hidden layers and 1000 classes (about 133M parameters, 123M of them in the head). */
    public Vgg11() { this(4096, 1000); }

    /** The same feature extractor with a classifier of {@code hidden}-wide layers and {@code classes} outputs. */
    public Vgg11(int hidden, int classes) {
        List<Module> layers = new ArrayList<>();
        int in = 3;
        for (int out : CONFIGURATION) {
            if (out == 0) {
                layers.add(new MaxPool2d(2));
            } else {
                layers.add(new Conv2d(in, out, 3, 1, 1));
                layers.add(new BatchNorm2d(out));
                layers.add(new ReLU());
                in = out;
            }
        }
        features = new Sequential(layers.toArray(Module[]::new));
        classifier = new Sequential(new Linear(in * 7 * 7, hidden), new ReLU(), new Dropout(0.5),
                new Linear(hidden, hidden), new ReLU(), new Dropout(0.5), new Linear(hidden, classes));
    }

    @Override
    public Tensor forward(Tensor x) {
        return classifier.forward(avgpool.forward(features.forward(x)).flatten(1, -1));
    }
}
