package dev.kiln.samples.models;

import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.AdaptiveAvgPool2d;
import dev.kiln.frontend.nn.AvgPool2d;
import dev.kiln.frontend.nn.Linear;
import dev.kiln.frontend.nn.MaxPool2d;
import dev.kiln.frontend.nn.Module;
import dev.kiln.frontend.nn.Sequential;

import java.util.List;

/**
 * ShuffleNet v1 (Zhang et al. 2017) at width 1× with 3 groups, for 224×224 images: a 3×3 stride-2 stem (24 channels)
 * and max pool, three stages of 4, 8 and 4 shuffle units (240, 480 and 960 channels), global pooling and a 1000-way
 * head. Each unit is a grouped 1×1 convolution to a quarter of the output width, a channel shuffle, a 3×3 depthwise
 * convolution and a grouped 1×1 convolution back, with batch norm; stride-1 units add the input, the stride-2 unit
 * that opens a stage concatenates a 3×3 average pool of it. As in the paper, the first 1×1 convolution of stage 2
 * is not grouped (24 input channels are too few).
 */
public final class ShuffleNetV1 extends Module {

    static final int GROUPS = 3;

    /** One shuffle unit; at stride 2 the branch produces {@code out - in} channels and the pooled input fills the rest. */
    public static final class ShuffleUnit extends Module {
        final Sequential compress;
        final Sequential depthwise;
        final Sequential expand;
        final AvgPool2d shortcutPool;
        final int shuffleGroups;

        ShuffleUnit(int in, int out, int stride, boolean groupedCompress) {
            int bottleneck = out / 4;
            int branchOut = stride == 1 ? out : out - in;
            shuffleGroups = groupedCompress ? GROUPS : 1;
            compress = Layers.convBn(in, bottleneck, 1, 1, shuffleGroups, true);
            depthwise = Layers.convBn(bottleneck, bottleneck, 3, stride, bottleneck, false);
            expand = Layers.convBn(bottleneck, branchOut, 1, 1, GROUPS, false);
            shortcutPool = stride == 1 ? null : new AvgPool2d(3, 2, 1);
        }

        @Override
        public Tensor forward(Tensor x) {
            Tensor h = compress.forward(x);
            if (shuffleGroups > 1) h = Layers.channelShuffle(h, shuffleGroups);
            h = expand.forward(depthwise.forward(h));
            Tensor joined = shortcutPool == null ? h.add(x) : Tensor.cat(List.of(shortcutPool.forward(x), h), 1);
            return joined.relu();
        }
    }

    final Sequential stem = Layers.convBn(3, 24, 3, 2, 1, true);
    final MaxPool2d maxpool = new MaxPool2d(new int[] {3, 3}, new int[] {2, 2}, new int[] {1, 1}, new int[] {1, 1}, false);
    final Sequential stage2 = stage(24, 240, 4, false);
    final Sequential stage3 = stage(240, 480, 8, true);
    final Sequential stage4 = stage(480, 960, 4, true);
    final AdaptiveAvgPool2d avgpool = new AdaptiveAvgPool2d(1);
    final Linear fc = new Linear(960, 1000);

    @Override
    public Tensor forward(Tensor x) {
        Tensor h = maxpool.forward(stem.forward(x));
        h = stage4.forward(stage3.forward(stage2.forward(h)));
        return fc.forward(avgpool.forward(h).flatten(1, -1));
    }

    /** A stride-2 unit from {@code in} to {@code out} channels, then {@code units - 1} stride-1 units. */
    private static Sequential stage(int in, int out, int units, boolean groupedFirstCompress) {
        Module[] layers = new Module[units];
        layers[0] = new ShuffleUnit(in, out, 2, groupedFirstCompress);
        for (int i = 1; i < units; i++) layers[i] = new ShuffleUnit(out, out, 1, true);
        return new Sequential(layers);
    }
}
