package dev.kiln.samples.models;

import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.AdaptiveAvgPool2d;
import dev.kiln.frontend.nn.BatchNorm2d;
import dev.kiln.frontend.nn.Conv2d;
import dev.kiln.frontend.nn.Linear;
import dev.kiln.frontend.nn.MaxPool2d;
import dev.kiln.frontend.nn.Module;
import dev.kiln.frontend.nn.Sequential;

/**
 * ResNet-50 as torchvision builds it (v1.5: the stride sits on the 3×3 convolution): a 7×7 stem, four stages of
 * 3, 4, 6 and 3 bottleneck blocks (widths 64 to 512, expansion 4), pooling and a 2048-to-1000 head.
 */
public final class ResNet50 extends Module {

    /** 1×1 reduce, 3×3 (strided), 1×1 expand ×4, each with batch norm, and a residual (projected when the shape changes). */
    public static final class Bottleneck extends Module {
        static final int EXPANSION = 4;

        final Conv2d conv1;
        final BatchNorm2d bn1;
        final Conv2d conv2;
        final BatchNorm2d bn2;
        final Conv2d conv3;
        final BatchNorm2d bn3;
        final Sequential downsample;

        Bottleneck(int in, int width, int stride) {
            int out = width * EXPANSION;
            conv1 = Layers.conv(in, width, 1, 1, 0, 1);
            bn1 = new BatchNorm2d(width);
            conv2 = Layers.conv(width, width, 3, stride, 1, 1);
            bn2 = new BatchNorm2d(width);
            conv3 = Layers.conv(width, out, 1, 1, 0, 1);
            bn3 = new BatchNorm2d(out);
            downsample = stride != 1 || in != out ? Layers.convBn(in, out, 1, stride, 1, false) : null;
        }

        @Override
        public Tensor forward(Tensor x) {
            Tensor identity = downsample == null ? x : downsample.forward(x);
            Tensor out = bn1.forward(conv1.forward(x)).relu();
            out = bn2.forward(conv2.forward(out)).relu();
            out = bn3.forward(conv3.forward(out));
            return out.add(identity).relu();
        }
    }

    final Conv2d conv1 = Layers.conv(3, 64, 7, 2, 3, 1);
    final BatchNorm2d bn1 = new BatchNorm2d(64);
    final MaxPool2d maxpool = new MaxPool2d(new int[] {3, 3}, new int[] {2, 2}, new int[] {1, 1}, new int[] {1, 1}, false);
    final Sequential layer1 = stage(64, 64, 3, 1);
    final Sequential layer2 = stage(256, 128, 4, 2);
    final Sequential layer3 = stage(512, 256, 6, 2);
    final Sequential layer4 = stage(1024, 512, 3, 2);
    final AdaptiveAvgPool2d avgpool = new AdaptiveAvgPool2d(1);
    final Linear fc = new Linear(512 * Bottleneck.EXPANSION, 1000);

    @Override
    public Tensor forward(Tensor x) {
        Tensor h = maxpool.forward(bn1.forward(conv1.forward(x)).relu());
        h = layer4.forward(layer3.forward(layer2.forward(layer1.forward(h))));
        return fc.forward(avgpool.forward(h).flatten(1, -1));
    }

    /** {@code blocks} bottlenecks of {@code width}, the first taking {@code in} channels at {@code stride}. */
    private static Sequential stage(int in, int width, int blocks, int stride) {
        Module[] layers = new Module[blocks];
        layers[0] = new Bottleneck(in, width, stride);
        for (int i = 1; i < blocks; i++) layers[i] = new Bottleneck(width * Bottleneck.EXPANSION, width, 1);
        return new Sequential(layers);
    }
}
