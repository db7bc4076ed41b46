package dev.kiln.runtime;

import dev.kiln.ir.Attribute;
import dev.kiln.runtime.kernels.Conv;
import dev.kiln.runtime.kernels.Gemm;

import java.util.List;
import java.util.Map;

import static dev.kiln.runtime.OpKernels.optional;

/**
 * Kernels of the ops fusion passes produce ({@code dev.kiln.ir.FusionOps}): {@code linear_act} and
 * {@code conv2d_act} run the existing GEMM/convolution kernel and then the activation's own kernel on
 * its output, so they agree with the unfused ops exactly. (This saves no memory traffic yet: the
 * activation is not applied inside the GEMM epilogue; codegen is where that belongs.)
 * {@code fused_elementwise} has a region and is run by the {@link Interpreter} itself.
 */
final class FusionKernels {

    private FusionKernels() {}

    static Map<String, OpKernels.Kernel> entries() {
        return Map.of(
                "linear_act", (in, a) -> activate(Gemm.linear(in.get(0), in.get(1), optional(in, 2)), a),
                "conv2d_act", (in, a) -> activate(Conv.conv2d(in.get(0), in.get(1), optional(in, 2),
                        a.ints("stride"), a.ints("padding"), a.ints("dilation"), a.intValue("groups")), a));
    }

    /** Applies the {@code activation} attribute to {@code y} with the activation op's own kernel. */
    static NDArray activate(NDArray y, OpAttributes a) {
        String act = ((Attribute.Str) a.get("activation")).value();
        return switch (act) {
            case "none" -> y;
            case "relu", "sigmoid", "tanh" -> OpKernels.run(act, Map.of(), List.of(y));
            case "gelu" -> OpKernels.run("gelu", Map.of("approximate", Attribute.of("none")), List.of(y));
            case "gelu_tanh" -> OpKernels.run("gelu", Map.of("approximate", Attribute.of("tanh")), List.of(y));
            default -> throw new IllegalArgumentException("unknown activation '" + act + "'");
        };
    }
}
