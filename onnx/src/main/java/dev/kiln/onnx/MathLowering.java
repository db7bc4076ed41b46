package dev.kiln.onnx;

import dev.kiln.ir.DType;
import dev.kiln.ir.Op;

import java.util.ArrayList;
import java.util.List;

/**
 * Unary math, activations and the binary math ops beyond + - * /. Where ONNX has no op with Kiln's
 * (PyTorch's) semantics the lowering is an exact formula: {@code log1p} and {@code softplus} keep
 * their accuracy near 0, {@code remainder} of floats moves {@code fmod} onto the divisor's side,
 * {@code gelu} is the erf or tanh formula below opset 20.
 */
final class MathLowering {

    private MathLowering() {}

    /** Floor/Ceil/Round on floats (ONNX Round is half-to-even, as Kiln's); the identity on integers, as in Kiln. */
    static Lowering rounding(String onnxOp) {
        return (op, e) -> {
            String x = e.ref(op.operand(0));
            boolean integer = !op.operand(0).tensorType().dtype().isFloatingPoint();
            e.node(integer ? "Identity" : onnxOp, List.of(x), List.of(e.define(op.result())));
        };
    }

    /** 1 / sqrt(x). */
    static void rsqrt(Op op, Emitter e) {
        String root = e.helper("Sqrt", "sqrt", e.ref(op.operand(0)));
        e.node("Reciprocal", List.of(root), List.of(e.define(op.result())));
    }

    /** x * sigmoid(x). */
    static void silu(Op op, Emitter e) {
        String x = e.ref(op.operand(0));
        e.node("Mul", List.of(x, e.helper("Sigmoid", "sigmoid", x)), List.of(e.define(op.result())));
    }

    static void leakyRelu(Op op, Emitter e) {
        e.node("LeakyRelu", List.of(e.ref(op.operand(0))), List.of(e.define(op.result())))
                .addAttribute(Attrs.f("alpha", op.floatAttr("negative_slope")));
    }

    static void elu(Op op, Emitter e) {
        e.node("Elu", List.of(e.ref(op.operand(0))), List.of(e.define(op.result())))
                .addAttribute(Attrs.f("alpha", op.floatAttr("alpha")));
    }

    static void log1p(Op op, Emitter e) {
        log1p(e, e.ref(op.operand(0)), op.operand(0).tensorType().dtype(), e.define(op.result()));
    }

    /**
     * log(1 + x) accurate near 0 (ONNX has no Log1p): with u = 1 + x rounded, {@code log(u) * x / (u - 1)}
     * cancels the rounding of u; where u == 1 the result is x, where u is infinite it is u.
     */
    private static void log1p(Emitter e, String x, DType dtype, String out) {
        String one = e.scalar(dtype, 1, "one");
        String u = e.helper("Add", "u", x, one);
        String d = e.helper("Sub", "u_minus_1", u, one);
        String corrected = e.helper("Mul", "log1p_corrected", e.helper("Log", "log_u", u), e.helper("Div", "x_over_d", x, d));
        String atOne = e.helper("Equal", "u_is_1", d, e.scalar(dtype, 0, "zero"));
        String inner = e.helper("Where", "log1p_finite", atOne, x, corrected);
        e.node("Where", List.of(e.helper("IsInf", "u_is_inf", u), u, inner), List.of(out));
    }

    /** log1p(exp(beta x)) / beta, or x where beta x > threshold (PyTorch's softplus). */
    static void softplus(Op op, Emitter e) {
        DType dtype = op.operand(0).tensorType().dtype();
        String x = e.ref(op.operand(0));
        double beta = op.floatAttr("beta");
        String bx = beta == 1 ? x : e.helper("Mul", "beta_x", x, e.scalar(dtype, beta, "beta"));
        String soft = e.temp("softplus_log1p");
        log1p(e, e.helper("Exp", "exp_beta_x", bx), dtype, soft);
        if (beta != 1) soft = e.helper("Div", "softplus_scaled", soft, e.scalar(dtype, beta, "beta"));
        String linear = e.helper("Greater", "above_threshold", bx, e.scalar(dtype, op.floatAttr("threshold"), "threshold"));
        e.node("Where", List.of(linear, x, soft), List.of(e.define(op.result())));
    }

    /**
     * gelu: ONNX Gelu (with its approximate attribute) from opset 20; before, the formulas
     * {@code 0.5 x (1 + erf(x / sqrt 2))} and {@code 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))}.
     */
    static void gelu(Op op, Emitter e) {
        String mode = ((dev.kiln.ir.Attribute.Str) op.attr("approximate")).value();
        String x = e.ref(op.operand(0));
        if (e.opset() >= 20) {
            e.node("Gelu", List.of(x), List.of(e.define(op.result()))).addAttribute(Attrs.s("approximate", mode));
            return;
        }
        DType dtype = op.operand(0).tensorType().dtype();
        String phi2; // 1 + erf(...) or 1 + tanh(...)
        if (mode.equals("tanh")) {
            String cube = e.helper("Mul", "x_cubed", x, e.helper("Mul", "x_squared", x, x));
            String inner = e.helper("Add", "gelu_inner", x, e.helper("Mul", "gelu_cubic", cube, e.scalar(dtype, 0.044715, "c")));
            String scaled = e.helper("Mul", "gelu_scaled", inner, e.scalar(dtype, Math.sqrt(2 / Math.PI), "sqrt_2_over_pi"));
            phi2 = e.helper("Add", "gelu_phi2", e.helper("Tanh", "gelu_tanh", scaled), e.scalar(dtype, 1, "one"));
        } else {
            String scaled = e.helper("Mul", "gelu_scaled", x, e.scalar(dtype, Math.sqrt(0.5), "sqrt_half"));
            phi2 = e.helper("Add", "gelu_phi2", e.helper("Erf", "gelu_erf", scaled), e.scalar(dtype, 1, "one"));
        }
        String half = e.helper("Mul", "gelu_half_x", x, e.scalar(dtype, 0.5, "half"));
        e.node("Mul", List.of(half, phi2), List.of(e.define(op.result())));
    }

    /** min(max(x, min), max) as Clip with bound inputs (an infinite bound is left out); min > max gives max in both. */
    static void clamp(Op op, Emitter e) {
        DType dtype = op.operand(0).tensorType().dtype();
        double lo = op.floatAttr("min"), hi = op.floatAttr("max");
        List<String> in = new ArrayList<>(List.of(e.ref(op.operand(0))));
        in.add(Double.isInfinite(lo) ? "" : e.scalar(dtype, lo, "clamp_min"));
        if (!Double.isInfinite(hi)) in.add(e.scalar(dtype, hi, "clamp_max"));
        if (in.get(in.size() - 1).isEmpty()) in.remove(in.size() - 1);
        e.node("Clip", in, List.of(e.define(op.result())));
    }

    /**
     * x ** exponent. Kiln evaluates a few exponents by their closed forms (sqrt for 0.5, 1/x for -1,
     * x*x for 2, ...), which differ from C pow on signed zeros and infinities; the same forms are written here.
     */
    static void powScalar(Op op, Emitter e) {
        DType dtype = op.operand(0).tensorType().dtype();
        String x = e.ref(op.operand(0));
        double k = op.floatAttr("exponent");
        String out = e.define(op.result());
        if (k == 0.5) {
            e.node("Sqrt", List.of(x), List.of(out));
        } else if (k == -0.5) {
            e.node("Reciprocal", List.of(e.helper("Sqrt", "sqrt", x)), List.of(out));
        } else if (k == -1) {
            e.node("Reciprocal", List.of(x), List.of(out));
        } else if (k == 2) {
            e.node("Mul", List.of(x, x), List.of(out));
        } else if (k == 3) {
            e.node("Mul", List.of(e.helper("Mul", "x_squared", x, x), x), List.of(out));
        } else if (k == -2) {
            e.node("Reciprocal", List.of(e.helper("Mul", "x_squared", x, x)), List.of(out));
        } else {
            e.node("Pow", List.of(x, e.scalar(dtype, k, "exponent")), List.of(out));
        }
    }

    /**
     * Python's remainder (the divisor's sign). Integers: ONNX Mod with fmod=0 is exactly that. Floats
     * need fmod=1, so {@code r = fmod(a, b)} then {@code r + b} where r is nonzero and its sign differs from b's.
     */
    static void remainder(Op op, Emitter e) {
        DType dtype = op.operand(0).tensorType().dtype();
        String a = e.ref(op.operand(0)), b = e.ref(op.operand(1));
        if (!dtype.isFloatingPoint()) {
            e.node("Mod", List.of(a, b), List.of(e.define(op.result()))).addAttribute(Attrs.i("fmod", 0));
            return;
        }
        String r = e.temp("fmod");
        e.node("Mod", List.of(a, b), List.of(r)).addAttribute(Attrs.i("fmod", 1));
        String zero = e.scalar(dtype, 0, "zero");
        String nonzero = e.helper("Not", "fmod_nonzero", e.helper("Equal", "fmod_is_zero", r, zero));
        String signsDiffer = e.helper("Xor", "signs_differ", e.helper("Less", "fmod_negative", r, zero),
                e.helper("Less", "divisor_negative", b, zero));
        String fix = e.helper("And", "remainder_fix", nonzero, signsDiffer);
        e.node("Where", List.of(fix, e.helper("Add", "fmod_plus_b", r, b), r), List.of(e.define(op.result())));
    }
}
