package dev.kiln.runtime;

import dev.kiln.ir.KilnException;
import dev.kiln.ir.Attribute;
import dev.kiln.runtime.kernels.Conv;
import dev.kiln.runtime.kernels.Fused;
import dev.kiln.runtime.kernels.Gemm;

import java.util.List;
import java.util.Map;

import static dev.kiln.runtime.OpKernels.optional;

/**
 * Kernels of the ops fusion passes produce ({@code dev.kiln.ir.FusionOps}):
 * <ul>
 *   <li>{@code linear_act} and {@code conv2d_act} run the existing GEMM/convolution kernel and then the
 *       activation's own kernel on its output, so they agree with the unfused ops exactly; a {@code conv2d_act}
 *       residual is added into the convolution's output in place ({@link Fused#addResidualInPlace}) in between. (This saves no memory
 *       traffic yet: the activation is not applied inside the GEMM epilogue; codegen is where that belongs.)</li>
 *   <li>{@code bias_gelu} and {@code skip_layer_norm} are one-pass kernels ({@link Fused}) that equal the unfused
 *       composition; {@code skip_layer_norm} with {@code with_sum} has two results and runs through
 *       {@link #multiResult}.</li>
 *   <li>{@code attention}'s reference kernel is its unfused composition ({@link Fused#attention}); eager mode and
 *       compiled code run the one-pass f32 kernel ({@code kernels.Attention}) instead.</li>
 *   <li>{@code fused_elementwise} has a region and is run by the {@link Interpreter} itself (its ops, a trailing
 *       reduction included, through their own kernels); compiled code runs it as one generated loop.</li>
 * </ul>
 */
final class FusionKernels {

    private FusionKernels() {}

    static Map<String, OpKernels.Kernel> entries() {
        return Map.of(
                "linear_act", (in, a) -> activate(Gemm.linear(in.get(0), in.get(1), optional(in, 2)), a),
                "conv2d_act", FusionKernels::conv2dAct,
                "bias_gelu", (in, a) -> Fused.biasGelu(in.get(0), in.get(1), geluTanh(a)),
                "attention", (in, a) -> Fused.attention(in.get(0), in.get(1), in.get(2), optional(in, 3),
                        ((Attribute.Float) a.get("scale")).value(), a.bool("causal")),
                "skip_layer_norm", (in, a) -> {
                    if (a.bool("with_sum")) {
                        throw new KilnException("skip_layer_norm with with_sum = true has two results; run it through FusionKernels.multiResult");
                    }
                    return skipLayerNorm(in, a)[0];
                });
    }

    /**
     * Runs a fusion op with more than one result ({@code skip_layer_norm} with {@code with_sum = true}: the
     * normalised output, then the sum); any other op is an error naming it.
     */
    static List<NDArray> multiResult(String op, List<NDArray> in, OpAttributes a) {
        if (!op.equals("skip_layer_norm")) throw new UnsupportedOperationException("no CPU kernel for op '" + op + "' with several results");
        return List.of(skipLayerNorm(in, a));
    }

    /**
     * {@code act(conv2d(x, w, b) [+ residual])}: the convolution kernel, then (with {@code residual = true}, the last
     * operand) the residual added into the convolution's own output in place, then the activation.
     */
    private static NDArray conv2dAct(List<NDArray> in, OpAttributes a) {
        boolean residual = a.bool("residual");
        int convOperands = residual ? in.size() - 1 : in.size();
        NDArray y = Conv.conv2d(in.get(0), in.get(1), convOperands > 2 ? in.get(2) : null,
                a.ints("stride"), a.ints("padding"), a.ints("dilation"), a.intValue("groups"));
        if (residual) Fused.addResidualInPlace("conv2d_act", y, in.get(in.size() - 1));
        return activate(y, a);
    }

    private static NDArray[] skipLayerNorm(List<NDArray> in, OpAttributes a) {
        return Fused.skipLayerNorm(in.get(0), in.get(1), in.get(2), in.get(3), optional(in, 4),
                ((Attribute.Float) a.get("eps")).value(), a.bool("with_sum"));
    }

    private static boolean geluTanh(OpAttributes a) {
        String mode = ((Attribute.Str) a.get("approximate")).value();
        return switch (mode) {
            case "none" -> false;
            case "tanh" -> true;
            default -> throw new KilnException("bias_gelu: approximate must be 'none' or 'tanh', got '" + mode + "'");
        };
    }

    /**
     * Applies the {@code activation} attribute to {@code y}, this kernel's own fresh result, with the
     * activation op's own kernel, in place: the activation's result takes {@code y}'s whole segment
     * (an elementwise kernel reads each element before writing it, see {@link Placement}), so the
     * fusion allocates nothing more, and in a planned run the result stays in {@code y}'s slot.
     */
    static NDArray activate(NDArray y, OpAttributes a) {
        String act = ((Attribute.Str) a.get("activation")).value();
        if (act.equals("none")) return y;
        boolean ownsSegment = y.isContiguous() && y.offset() == 0 && y.segment().byteSize() == y.numel() * y.dtype().byteSize();
        if (ownsSegment) Placement.offer(y.segment(), y.dtype(), y.numel(), false);
        try {
            return switch (act) {
                case "relu", "sigmoid", "tanh" -> OpKernels.run(act, Map.of(), List.of(y));
                case "gelu" -> OpKernels.run("gelu", Map.of("approximate", Attribute.of("none")), List.of(y));
                case "gelu_tanh" -> OpKernels.run("gelu", Map.of("approximate", Attribute.of("tanh")), List.of(y));
                default -> throw new KilnException("unknown activation '" + act + "'");
            };
        } finally {
            if (ownsSegment) Placement.withdraw();
        }
    }
}
