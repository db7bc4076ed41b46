package dev.kiln.samples.models;

import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.Linear;
import dev.kiln.frontend.nn.MaxPool2d;
import dev.kiln.frontend.nn.Module;
import dev.kiln.frontend.nn.Sequential;

import java.util.List;

/**
 * ShuffleNet v2 1.0× as torchvision builds it ({@code shufflenet_v2_x1_0}): a 3×3 stride-2 stem (24 channels) and
 * max pool, three stages of 4, 8 and 4 units (116, 232 and 464 channels), a 1×1 convolution to 1024, global mean and
 * a 1000-way head. A stride-1 unit splits the channels in two halves, transforms one (1×1, 3×3 depthwise, 1×1) and
 * concatenates it with the other; a stride-2 unit transforms the whole input along two branches; both end in a
 * channel shuffle with 2 groups.
 */
public final class ShuffleNetV2 extends Module {

    /** torchvision's {@code InvertedResidual}: channel split (stride 1) or two downsampling branches (stride 2), concat, shuffle. */
    public static final class InvertedResidual extends Module {
        final Sequential branch1;
        final Sequential branch2;

        InvertedResidual(int in, int out, int stride) {
            int branchFeatures = out / 2;
            branch1 = stride == 1 ? null : new Sequential(
                    Layers.convBn(in, in, 3, stride, in, false),
                    Layers.convBn(in, branchFeatures, 1, 1, 1, true));
            branch2 = new Sequential(
                    Layers.convBn(stride == 1 ? branchFeatures : in, branchFeatures, 1, 1, 1, true),
                    Layers.convBn(branchFeatures, branchFeatures, 3, stride, branchFeatures, false),
                    Layers.convBn(branchFeatures, branchFeatures, 1, 1, 1, true));
        }

        @Override
        public Tensor forward(Tensor x) {
            Tensor out;
            if (branch1 == null) {
                List<Tensor> halves = x.chunk(2, 1);
                out = Tensor.cat(List.of(halves.get(0), branch2.forward(halves.get(1))), 1);
            } else {
                out = Tensor.cat(List.of(branch1.forward(x), branch2.forward(x)), 1);
            }
            return Layers.channelShuffle(out, 2);
        }
    }

    final Sequential conv1 = Layers.convBn(3, 24, 3, 2, 1, true);
    final MaxPool2d maxpool = new MaxPool2d(new int[] {3, 3}, new int[] {2, 2}, new int[] {1, 1}, new int[] {1, 1}, false);
    final Sequential stage2 = stage(24, 116, 4);
    final Sequential stage3 = stage(116, 232, 8);
    final Sequential stage4 = stage(232, 464, 4);
    final Sequential conv5 = Layers.convBn(464, 1024, 1, 1, 1, true);
    final Linear fc = new Linear(1024, 1000);

    @Override
    public Tensor forward(Tensor x) {
        Tensor h = maxpool.forward(conv1.forward(x));
        h = conv5.forward(stage4.forward(stage3.forward(stage2.forward(h))));
        return fc.forward(h.mean(new int[] {2, 3}, false));
    }

    /** A stride-2 unit from {@code in} to {@code out} channels, then {@code units - 1} stride-1 units. */
    private static Sequential stage(int in, int out, int units) {
        Module[] layers = new Module[units];
        layers[0] = new InvertedResidual(in, out, 2);
        for (int i = 1; i < units; i++) layers[i] = new InvertedResidual(out, out, 1);
        return new Sequential(layers);
    }
}
