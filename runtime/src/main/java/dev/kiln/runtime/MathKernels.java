package dev.kiln.runtime;

import dev.kiln.ir.KilnException;
import dev.kiln.ir.Attribute;
import dev.kiln.ir.LowPrecision;
import dev.kiln.runtime.kernels.Cast;
import dev.kiln.runtime.kernels.Elementwise;
import dev.kiln.runtime.kernels.Gemm;
import dev.kiln.runtime.kernels.Logic;
import dev.kiln.runtime.kernels.MathReductions;
import dev.kiln.runtime.kernels.MathUnary;
import dev.kiln.runtime.kernels.Reductions;
import dev.kiln.runtime.kernels.Softmax;

import java.util.Map;

import static dev.kiln.runtime.OpKernels.optional;

/** Kernels of the elementwise, logic, reduction, matmul and softmax ops. */
final class MathKernels {

    private MathKernels() {}

    static Map<String, OpKernels.Kernel> entries() {
        return Map.ofEntries(
                Map.entry("add", (in, a) -> Elementwise.add(in.get(0), in.get(1))),
                Map.entry("sub", (in, a) -> Elementwise.sub(in.get(0), in.get(1))),
                Map.entry("mul", (in, a) -> Elementwise.mul(in.get(0), in.get(1))),
                Map.entry("div", (in, a) -> Elementwise.div(in.get(0), in.get(1))),
                Map.entry("pow", (in, a) -> Elementwise.pow(in.get(0), in.get(1))),
                Map.entry("remainder", (in, a) -> Elementwise.remainder(in.get(0), in.get(1))),
                Map.entry("maximum", (in, a) -> Elementwise.maximum(in.get(0), in.get(1))),
                Map.entry("minimum", (in, a) -> Elementwise.minimum(in.get(0), in.get(1))),
                Map.entry("neg", (in, a) -> Elementwise.neg(in.get(0))),
                Map.entry("relu", (in, a) -> Elementwise.relu(in.get(0))),
                Map.entry("sigmoid", (in, a) -> Elementwise.sigmoid(in.get(0))),
                Map.entry("tanh", (in, a) -> Elementwise.tanh(in.get(0))),
                Map.entry("abs", (in, a) -> MathUnary.abs(in.get(0))),
                Map.entry("sign", (in, a) -> MathUnary.sign(in.get(0))),
                Map.entry("exp", (in, a) -> MathUnary.exp(in.get(0))),
                Map.entry("log", (in, a) -> MathUnary.log(in.get(0))),
                Map.entry("log1p", (in, a) -> MathUnary.log1p(in.get(0))),
                Map.entry("sqrt", (in, a) -> MathUnary.sqrt(in.get(0))),
                Map.entry("rsqrt", (in, a) -> MathUnary.rsqrt(in.get(0))),
                Map.entry("reciprocal", (in, a) -> MathUnary.reciprocal(in.get(0))),
                Map.entry("sin", (in, a) -> MathUnary.sin(in.get(0))),
                Map.entry("cos", (in, a) -> MathUnary.cos(in.get(0))),
                Map.entry("erf", (in, a) -> MathUnary.erf(in.get(0))),
                Map.entry("floor", (in, a) -> MathUnary.floor(in.get(0))),
                Map.entry("ceil", (in, a) -> MathUnary.ceil(in.get(0))),
                Map.entry("round", (in, a) -> MathUnary.round(in.get(0))),
                Map.entry("silu", (in, a) -> MathUnary.silu(in.get(0))),
                Map.entry("leaky_relu", (in, a) -> MathUnary.leakyRelu(in.get(0), real(a, "negative_slope"))),
                Map.entry("elu", (in, a) -> MathUnary.elu(in.get(0), real(a, "alpha"))),
                Map.entry("gelu", (in, a) -> MathUnary.gelu(in.get(0), geluTanh(a))),
                Map.entry("softplus", (in, a) -> MathUnary.softplus(in.get(0), real(a, "beta"), real(a, "threshold"))),
                Map.entry("clamp", (in, a) -> MathUnary.clamp(in.get(0), real(a, "min"), real(a, "max"))),
                Map.entry("pow_scalar", (in, a) -> MathUnary.powScalar(in.get(0), real(a, "exponent"))),
                Map.entry("gt", (in, a) -> Elementwise.gt(in.get(0), in.get(1))),
                Map.entry("lt", (in, a) -> Elementwise.lt(in.get(0), in.get(1))),
                Map.entry("eq", (in, a) -> Elementwise.eq(in.get(0), in.get(1))),
                Map.entry("ne", (in, a) -> Elementwise.ne(in.get(0), in.get(1))),
                Map.entry("le", (in, a) -> Elementwise.le(in.get(0), in.get(1))),
                Map.entry("ge", (in, a) -> Elementwise.ge(in.get(0), in.get(1))),
                Map.entry("logical_and", (in, a) -> Logic.logicalAnd(in.get(0), in.get(1))),
                Map.entry("logical_or", (in, a) -> Logic.logicalOr(in.get(0), in.get(1))),
                Map.entry("logical_not", (in, a) -> Logic.logicalNot(in.get(0))),
                Map.entry("where", (in, a) -> Logic.where(in.get(0), in.get(1), in.get(2))),
                Map.entry("cast", (in, a) -> Cast.cast(in.get(0), a.dtype("dtype"), a.bool("saturate"),
                        LowPrecision.RoundMode.of(((Attribute.Str) a.get("round_mode")).value()))),
                Map.entry("clone", (in, a) -> in.get(0).copy()),
                Map.entry("matmul", (in, a) -> Gemm.matmul(in.get(0), in.get(1))),
                Map.entry("linear", (in, a) -> Gemm.linear(in.get(0), in.get(1), optional(in, 2))),
                Map.entry("softmax", (in, a) -> Softmax.softmax(in.get(0), a.intValue("axis"))),
                Map.entry("log_softmax", (in, a) -> Softmax.logSoftmax(in.get(0), a.intValue("axis"))),
                Map.entry("sum", (in, a) -> Reductions.sum(in.get(0), a.ints("axes"), a.bool("keepdim"))),
                Map.entry("mean", (in, a) -> Reductions.mean(in.get(0), a.ints("axes"), a.bool("keepdim"))),
                Map.entry("prod", (in, a) -> MathReductions.prod(in.get(0), a.ints("axes"), a.bool("keepdim"))),
                Map.entry("amax", (in, a) -> MathReductions.amax(in.get(0), a.ints("axes"), a.bool("keepdim"))),
                Map.entry("amin", (in, a) -> MathReductions.amin(in.get(0), a.ints("axes"), a.bool("keepdim"))),
                Map.entry("logsumexp", (in, a) -> MathReductions.logsumexp(in.get(0), a.ints("axes"), a.bool("keepdim"))),
                Map.entry("argmax", (in, a) -> MathReductions.argmax(in.get(0), a.intValue("axis"), a.bool("keepdim"))),
                Map.entry("argmin", (in, a) -> MathReductions.argmin(in.get(0), a.intValue("axis"), a.bool("keepdim"))));
    }

    private static double real(OpAttributes a, String name) { return ((Attribute.Float) a.get(name)).value(); }

    /** "none" or "tanh"; anything else is an error naming the op (the IR checks this too). */
    private static boolean geluTanh(OpAttributes a) {
        String mode = ((Attribute.Str) a.get("approximate")).value();
        return switch (mode) {
            case "none" -> false;
            case "tanh" -> true;
            default -> throw new KilnException("gelu: approximate must be 'none' or 'tanh', got '" + mode + "'");
        };
    }
}
