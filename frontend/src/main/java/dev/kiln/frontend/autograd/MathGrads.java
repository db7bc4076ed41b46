package dev.kiln.frontend.autograd;

import dev.kiln.frontend.Dispatch;
import dev.kiln.frontend.Tensor;
import dev.kiln.ir.Attribute;
import dev.kiln.ir.Builder;
import dev.kiln.runtime.OpAttributes;

import java.util.Arrays;
import java.util.List;

import static dev.kiln.frontend.autograd.Grads.sumToShape;

/**
 * Gradient rules of the elementwise math, comparison, logic and reduction ops, following PyTorch's
 * derivatives (including its conventions at kinks: abs'(0) = 0, clamp passes the gradient where
 * {@code min <= x <= max}, ties in maximum/minimum split it equally, tied amax/amin maxima share it
 * evenly; sign, floor, ceil and round have zero gradient).
 */
final class MathGrads {

    private static final double TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
    private static final double INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
    private static final double SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

    private MathGrads() {}

    static void register() {
        unary();
        parametrised();
        binary();
        reductions();
        GradTable.nonDifferentiable("ne", "le", "ge", "logical_and", "logical_or", "logical_not", "argmax", "argmin");
    }

    private static void unary() {
        GradTable.rule("abs", (c, g) -> List.of(g.mul(c.input(0).sign())));
        for (String op : List.of("sign", "floor", "ceil", "round")) {
            GradTable.rule(op, (c, g) -> List.of(Grads.zerosLike(c, 0)));
        }
        GradTable.rule("exp", (c, g) -> List.of(g.mul(c.output())));
        GradTable.rule("log", (c, g) -> List.of(g.div(c.input(0))));
        GradTable.rule("log1p", (c, g) -> List.of(g.div(c.input(0).add(1.0))));
        // sqrt' = 1 / (2 sqrt(x))
        GradTable.rule("sqrt", (c, g) -> List.of(g.div(c.output().mul(2.0))));
        // rsqrt' = -x^(-3/2) / 2 = -y^3 / 2
        GradTable.rule("rsqrt", (c, g) -> {
            Tensor y = c.output();
            return List.of(g.mul(y.mul(y).mul(y)).mul(-0.5));
        });
        GradTable.rule("reciprocal", (c, g) -> {
            Tensor y = c.output();
            return List.of(g.mul(y.mul(y)).neg());
        });
        GradTable.rule("sin", (c, g) -> List.of(g.mul(c.input(0).cos())));
        GradTable.rule("cos", (c, g) -> List.of(g.mul(c.input(0).sin()).neg()));
        // erf' = 2/sqrt(pi) exp(-x^2)
        GradTable.rule("erf", (c, g) -> {
            Tensor x = c.input(0);
            return List.of(g.mul(x.mul(x).neg().exp().mul(TWO_OVER_SQRT_PI)));
        });
        // silu' = s (1 + x (1 - s)), s = sigmoid(x)
        GradTable.rule("silu", (c, g) -> {
            Tensor x = c.input(0), s = x.sigmoid();
            return List.of(g.mul(s.mul(x.mul(s.neg().add(1.0)).add(1.0))));
        });
    }

    private static void parametrised() {
        // x > 0 ? g : slope * g (PyTorch takes the slope at 0)
        GradTable.rule("leaky_relu", (c, g) -> {
            double slope = real(c.attrs(), "negative_slope");
            return List.of(Tensor.where(c.input(0).gt(0.0), g, g.mul(slope)));
        });
        // x > 0 ? g : g * alpha * exp(x)
        GradTable.rule("elu", (c, g) -> {
            Tensor x = c.input(0);
            double alpha = real(c.attrs(), "alpha");
            return List.of(Tensor.where(x.gt(0.0), g, g.mul(x.exp().mul(alpha))));
        });
        GradTable.rule("gelu", (c, g) -> List.of(g.mul(geluDerivative(c.input(0), c.attrs()))));
        // linear region: g; else g * sigmoid(beta x)
        GradTable.rule("softplus", (c, g) -> {
            Tensor x = c.input(0);
            double beta = real(c.attrs(), "beta"), threshold = real(c.attrs(), "threshold");
            Tensor bx = x.mul(beta);
            return List.of(Tensor.where(bx.gt(threshold), g, g.mul(bx.sigmoid())));
        });
        GradTable.rule("clamp", (c, g) -> {
            Tensor x = c.input(0);
            Tensor inside = x.ge(real(c.attrs(), "min")).logicalAnd(x.le(real(c.attrs(), "max")));
            return List.of(Tensor.where(inside, g, Tensor.zerosLike(g)));
        });
        // d x^e = e x^(e-1), and exactly zero for e = 0 (as PyTorch, avoiding 0 * inf at x = 0)
        GradTable.rule("pow_scalar", (c, g) -> {
            double e = real(c.attrs(), "exponent");
            if (e == 0) return List.of(Grads.zerosLike(c, 0));
            return List.of(g.mul(c.input(0).pow(e - 1).mul(e)));
        });
    }

    private static Tensor geluDerivative(Tensor x, OpAttributes attrs) {
        if (((Attribute.Str) attrs.get("approximate")).value().equals("tanh")) {
            double kappa = 0.044715;
            Tensor x2 = x.mul(x);
            Tensor t = x.add(x2.mul(x).mul(kappa)).mul(SQRT_2_OVER_PI).tanh();
            Tensor left = t.add(1.0).mul(0.5);
            Tensor right = x.mul(0.5).mul(t.mul(t).neg().add(1.0)).mul(x2.mul(3 * kappa).add(1.0).mul(SQRT_2_OVER_PI));
            return left.add(right);
        }
        // Phi(x) + x phi(x)
        Tensor cdf = x.mul(Math.sqrt(0.5)).erf().add(1.0).mul(0.5);
        Tensor pdf = x.mul(x).mul(-0.5).exp().mul(INV_SQRT_2PI);
        return cdf.add(x.mul(pdf));
    }

    private static void binary() {
        // d/da = where(b == 0, 0, g b a^(b-1)); d/db = g * where(a == 0 & b >= 0, 0, a^b log(a)) (PyTorch's pow_backward)
        GradTable.rule("pow", (c, g) -> {
            Tensor a = c.input(0), b = c.input(1);
            Tensor ga = null, gb = null;
            if (c.needsGrad(0)) {
                Tensor d = g.mul(b.mul(a.pow(b.sub(1.0))));
                ga = sumToShape(Tensor.where(b.eq(0.0), Tensor.zerosLike(d), d), c.inputShape(0));
            }
            if (c.needsGrad(1)) {
                Tensor local = c.output().mul(a.log());
                Tensor skip = a.eq(0.0).logicalAnd(b.ge(0.0));
                gb = sumToShape(g.mul(Tensor.where(skip, Tensor.zerosLike(local), local)), c.inputShape(1));
            }
            return Arrays.asList(ga, gb);
        });
        // d(a mod b) = g, -g * floor_divide(a, b); the quotient is recovered exactly as round((a - out) / b)
        GradTable.rule("remainder", (c, g) -> Arrays.asList(
                c.needsGrad(0) ? sumToShape(g, c.inputShape(0)) : null,
                c.needsGrad(1) ? sumToShape(g.mul(c.input(0).sub(c.output()).div(c.input(1)).round()).neg(),
                        c.inputShape(1)) : null));
        GradTable.rule("maximum", (c, g) -> extremum(c, g, true));
        GradTable.rule("minimum", (c, g) -> extremum(c, g, false));
        // where: the gradient goes to the chosen branch; cond gets none (zeros if it was asked for one)
        GradTable.rule("where", (c, g) -> {
            Tensor cond = c.input(0);
            Tensor zero = Tensor.zerosLike(g);
            return Arrays.asList(
                    c.needsGrad(0) ? Grads.zerosLike(c, 0) : null,
                    c.needsGrad(1) ? sumToShape(Tensor.where(cond, g, zero), c.inputShape(1)) : null,
                    c.needsGrad(2) ? sumToShape(Tensor.where(cond, zero, g), c.inputShape(2)) : null);
        });
    }

    /**
     * PyTorch's maximum/minimum backward: where a == b each side gets g/2; otherwise the winner gets g.
     * Where either is NaN neither comparison holds, so both get g.
     */
    private static List<Tensor> extremum(GradContext c, Tensor g, boolean max) {
        Tensor a = c.input(0), b = c.input(1);
        Tensor zero = Tensor.zerosLike(g);
        Tensor shared = Tensor.where(a.eq(b), g.mul(0.5), g);
        Tensor ga = null, gb = null;
        if (c.needsGrad(0)) ga = sumToShape(Tensor.where(max ? a.lt(b) : a.gt(b), zero, shared), c.inputShape(0));
        if (c.needsGrad(1)) gb = sumToShape(Tensor.where(max ? a.gt(b) : a.lt(b), zero, shared), c.inputShape(1));
        return Arrays.asList(ga, gb);
    }

    private static void reductions() {
        GradTable.rule("prod", MathGrads::prod);
        GradTable.rule("amax", MathGrads::amaxAmin);
        GradTable.rule("amin", MathGrads::amaxAmin);
        // d logsumexp = g * exp(x - y)
        GradTable.rule("logsumexp", (c, g) -> {
            long[] shape = c.inputShape(0);
            Tensor y = keptDims(c.output(), shape, c.attrs());
            return List.of(keptDims(g, shape, c.attrs()).mul(c.input(0).sub(y).exp()));
        });
    }

    /** Tied extremes share the gradient evenly (PyTorch's amax/amin backward). */
    private static List<Tensor> amaxAmin(GradContext c, Tensor g) {
        long[] shape = c.inputShape(0);
        Tensor x = c.input(0);
        Tensor mask = x.eq(keptDims(c.output(), shape, c.attrs())).to(g.dtype());
        Tensor count = reduce("sum", mask, c.attrs());
        return List.of(keptDims(g, shape, c.attrs()).div(count).mul(mask));
    }

    /**
     * Without zeros in a slice: g * prod / x. With one zero: only the zero gets g * (product of the
     * others). With two or more: all zero. (PyTorch's prod_backward.)
     */
    private static List<Tensor> prod(GradContext c, Tensor g) {
        Tensor x = c.input(0);
        Tensor isZero = x.eq(0.0);
        Tensor nonZero = Tensor.where(isZero, Tensor.onesLike(x), x);
        Tensor othersProduct = reduce("prod", nonZero, c.attrs());
        Tensor zeros = reduce("sum", isZero.to(x.dtype()), c.attrs());
        Tensor noZero = othersProduct.div(nonZero);
        Tensor onlyZero = Tensor.where(isZero.logicalAnd(zeros.eq(1.0)), othersProduct, Tensor.zerosLike(x));
        Tensor local = Tensor.where(zeros.eq(0.0), noZero, onlyZero);
        return List.of(keptDims(g, c.inputShape(0), c.attrs()).mul(local));
    }

    /** Reduces {@code x} over the op's axes with kept dims, so the result broadcasts against the input. */
    private static Tensor reduce(String op, Tensor x, OpAttributes attrs) {
        return Dispatch.call(op, Builder.attrs("axes", attrs.longs("axes"), "keepdim", true), x);
    }

    /** Reshapes a reduction result (or its gradient) to the input's rank, reduced dims as 1. */
    private static Tensor keptDims(Tensor t, long[] inputShape, OpAttributes attrs) {
        long[] kept = inputShape.clone();
        boolean[] reduced = dev.kiln.ir.ShapeRules.reducedAxes("reduction", inputShape.length, attrs.longs("axes"));
        for (int i = 0; i < kept.length; i++) if (reduced[i]) kept[i] = 1;
        return t.reshape(kept);
    }

    private static double real(OpAttributes a, String name) { return ((Attribute.Float) a.get(name)).value(); }
}
