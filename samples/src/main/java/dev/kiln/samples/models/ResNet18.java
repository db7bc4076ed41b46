package dev.kiln.samples.models;

import dev.kiln.frontend.Compile;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.AdaptiveAvgPool2d;
import dev.kiln.frontend.nn.BatchNorm2d;
import dev.kiln.frontend.nn.Conv2d;
import dev.kiln.frontend.nn.Linear;
import dev.kiln.frontend.nn.MaxPool2d;
import dev.kiln.frontend.nn.Module;
import dev.kiln.frontend.nn.Sequential;

/** ResNet-18 as torchvision builds it: a 7×7 stem, four stages of two basic blocks, pooling and a 1000-way head. */
public final class ResNet18 extends Module {

    /** Two 3×3 convolutions with batch norm and a residual connection (projected when the shape changes). */
    public static final class BasicBlock extends Module {
        final Conv2d conv1;
        final BatchNorm2d bn1;
        final Conv2d conv2;
        final BatchNorm2d bn2;
        final Sequential downsample;

        BasicBlock(int in, int out, int stride) {
            conv1 = conv(in, out, 3, stride, 1);
            bn1 = new BatchNorm2d(out);
            conv2 = conv(out, out, 3, 1, 1);
            bn2 = new BatchNorm2d(out);
            downsample = stride != 1 || in != out ? new Sequential(conv(in, out, 1, stride, 0), new BatchNorm2d(out)) : null;
        }

        @Override
        public Tensor forward(Tensor x) {
            Tensor identity = downsample == null ? x : downsample.forward(x);
            Tensor out = bn1.forward(conv1.forward(x)).relu();
            out = bn2.forward(conv2.forward(out));
            return out.add(identity).relu();
        }
    }

    final Conv2d conv1 = conv(3, 64, 7, 2, 3);
    final BatchNorm2d bn1 = new BatchNorm2d(64);
    final MaxPool2d maxpool = new MaxPool2d(new int[] {3, 3}, new int[] {2, 2}, new int[] {1, 1}, new int[] {1, 1}, false);
    final Sequential layer1 = new Sequential(new BasicBlock(64, 64, 1), new BasicBlock(64, 64, 1));
    final Sequential layer2 = new Sequential(new BasicBlock(64, 128, 2), new BasicBlock(128, 128, 1));
    final Sequential layer3 = new Sequential(new BasicBlock(128, 256, 2), new BasicBlock(256, 256, 1));
    final Sequential layer4 = new Sequential(new BasicBlock(256, 512, 2), new BasicBlock(512, 512, 1));
    final AdaptiveAvgPool2d avgpool = new AdaptiveAvgPool2d(1);
    final Linear fc = new Linear(512, 1000);

    @Compile
    @Override
    public Tensor forward(Tensor x) {
        Tensor h = maxpool.forward(bn1.forward(conv1.forward(x)).relu());
        h = layer4.forward(layer3.forward(layer2.forward(layer1.forward(h))));
        return fc.forward(avgpool.forward(h).flatten(1, -1));
    }

    private static Conv2d conv(int in, int out, int kernel, int stride, int padding) {
        return Layers.conv(in, out, kernel, stride, padding, 1);
    }
}
