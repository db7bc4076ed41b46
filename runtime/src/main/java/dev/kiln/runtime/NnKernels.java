package dev.kiln.runtime;

import dev.kiln.ir.Attribute;
import dev.kiln.runtime.kernels.AdaptivePool;
import dev.kiln.runtime.kernels.Conv;
import dev.kiln.runtime.kernels.ConvGrad;
import dev.kiln.runtime.kernels.ConvTranspose;
import dev.kiln.runtime.kernels.Dropout;
import dev.kiln.runtime.kernels.Embedding;
import dev.kiln.runtime.kernels.Norms;
import dev.kiln.runtime.kernels.Pool;
import dev.kiln.runtime.kernels.PoolGrad;

import java.util.Map;

import static dev.kiln.runtime.OpKernels.optional;

/** Kernels of the convolution, pooling, normalisation, embedding and dropout ops and their backward ops. */
final class NnKernels {

    private NnKernels() {}

    static Map<String, OpKernels.Kernel> entries() {
        return Map.ofEntries(
                Map.entry("conv2d", (in, a) -> Conv.conv2d(in.get(0), in.get(1), optional(in, 2),
                        a.ints("stride"), a.ints("padding"), a.ints("dilation"), a.intValue("groups"))),
                Map.entry("conv2d_input_grad", (in, a) -> ConvGrad.conv2dInputGrad(in.get(0), in.get(1), a.ints("input_size"),
                        a.ints("stride"), a.ints("padding"), a.ints("dilation"), a.intValue("groups"))),
                Map.entry("conv2d_weight_grad", (in, a) -> ConvGrad.conv2dWeightGrad(in.get(0), in.get(1), a.ints("kernel_size"),
                        a.ints("stride"), a.ints("padding"), a.ints("dilation"), a.intValue("groups"))),
                Map.entry("conv_transpose2d", (in, a) -> ConvTranspose.convTranspose2d(in.get(0), in.get(1), optional(in, 2),
                        a.ints("stride"), a.ints("padding"), a.ints("output_padding"), a.ints("dilation"), a.intValue("groups"))),
                Map.entry("conv_transpose2d_input_grad", (in, a) -> ConvTranspose.inputGrad(in.get(0), in.get(1),
                        a.ints("input_size"), a.ints("stride"), a.ints("padding"), a.ints("dilation"), a.intValue("groups"))),
                Map.entry("max_pool2d", (in, a) -> Pool.maxPool2d(in.get(0), a.ints("kernel_size"), a.ints("stride"),
                        a.ints("padding"), a.ints("dilation"), a.bool("ceil_mode"))),
                Map.entry("max_pool2d_grad", (in, a) -> PoolGrad.maxPool2dGrad(in.get(0), in.get(1), a.ints("kernel_size"),
                        a.ints("stride"), a.ints("padding"), a.ints("dilation"), a.bool("ceil_mode"))),
                Map.entry("avg_pool2d", (in, a) -> Pool.avgPool2d(in.get(0), a.ints("kernel_size"), a.ints("stride"),
                        a.ints("padding"), a.bool("ceil_mode"), a.bool("count_include_pad"))),
                Map.entry("avg_pool2d_grad", (in, a) -> PoolGrad.avgPool2dGrad(in.get(0), a.ints("input_size"),
                        a.ints("kernel_size"), a.ints("stride"), a.ints("padding"), a.bool("ceil_mode"), a.bool("count_include_pad"))),
                Map.entry("adaptive_avg_pool2d", (in, a) -> AdaptivePool.adaptiveAvgPool2d(in.get(0), a.ints("output_size"))),
                Map.entry("adaptive_avg_pool2d_grad", (in, a) -> AdaptivePool.adaptiveAvgPool2dGrad(in.get(0), a.ints("input_size"))),
                Map.entry("batch_norm", (in, a) -> Norms.batchNorm(in.get(0), in.get(1), in.get(2), optional(in, 3),
                        optional(in, 4), eps(a))),
                Map.entry("layer_norm", (in, a) -> Norms.layerNorm(in.get(0), optional(in, 1), optional(in, 2),
                        a.intValue("normalized_dims"), eps(a))),
                Map.entry("layer_norm_grad", (in, a) -> Norms.layerNormGrad(in.get(0), in.get(1), optional(in, 2),
                        a.intValue("normalized_dims"), eps(a))),
                Map.entry("group_norm", (in, a) -> Norms.groupNorm(in.get(0), optional(in, 1), optional(in, 2),
                        a.intValue("groups"), eps(a))),
                Map.entry("group_norm_grad", (in, a) -> Norms.groupNormGrad(in.get(0), in.get(1), optional(in, 2),
                        a.intValue("groups"), eps(a))),
                Map.entry("embedding", (in, a) -> Embedding.embedding(in.get(0), in.get(1), a.integer("padding_idx"))),
                Map.entry("embedding_grad", (in, a) -> Embedding.embeddingGrad(in.get(0), in.get(1), a.integer("num_weights"),
                        a.integer("padding_idx"))),
                Map.entry("dropout_mask", (in, a) -> Dropout.mask(in.get(0), ((Attribute.Float) a.get("p")).value())));
    }

    static double eps(OpAttributes a) {
        return ((Attribute.Float) a.get("eps")).value();
    }
}
