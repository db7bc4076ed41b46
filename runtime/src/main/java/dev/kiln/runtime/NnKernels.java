package dev.kiln.runtime;

import dev.kiln.runtime.kernels.Conv;
import dev.kiln.runtime.kernels.Pool;

import java.util.Map;

import static dev.kiln.runtime.OpKernels.optional;

/** Kernels of the convolution and pooling ops. */
final class NnKernels {

    private NnKernels() {}

    static Map<String, OpKernels.Kernel> entries() {
        return Map.ofEntries(
                Map.entry("conv2d", (in, a) -> Conv.conv2d(in.get(0), in.get(1), optional(in, 2),
                        a.ints("stride"), a.ints("padding"), a.ints("dilation"), a.intValue("groups"))),
                Map.entry("max_pool2d", (in, a) -> Pool.maxPool2d(in.get(0), a.ints("kernel_size"), a.ints("stride"),
                        a.ints("padding"), a.ints("dilation"), a.bool("ceil_mode"))),
                Map.entry("avg_pool2d", (in, a) -> Pool.avgPool2d(in.get(0), a.ints("kernel_size"), a.ints("stride"),
                        a.ints("padding"), a.bool("ceil_mode"), a.bool("count_include_pad"))));
    }
}
