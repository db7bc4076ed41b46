package dev.kiln.frontend.autograd;

import dev.kiln.frontend.Tensor;
import dev.kiln.runtime.OpAttributes;

import java.util.Arrays;
import java.util.List;

import static dev.kiln.frontend.autograd.Grads.sumToShape;

/** Gradient rules of the core arithmetic, activation, linear-algebra, softmax and shape ops. */
final class BasicGrads {

    private BasicGrads() {}

    static void register() {
        // d(a+b) = g, g (summed back over broadcast dims)
        GradTable.rule("add", (c, g) -> List.of(sumToShape(g, c.inputShape(0)), sumToShape(g, c.inputShape(1))));
        // d(a-b) = g, -g
        GradTable.rule("sub", (c, g) -> List.of(sumToShape(g, c.inputShape(0)), sumToShape(g.neg(), c.inputShape(1))));
        // d(a*b) = g*b, g*a
        GradTable.rule("mul", (c, g) -> Arrays.asList(
                c.needsGrad(0) ? sumToShape(g.mul(c.input(1)), c.inputShape(0)) : null,
                c.needsGrad(1) ? sumToShape(g.mul(c.input(0)), c.inputShape(1)) : null));
        // d(a/b) = g/b, -g*a/b^2
        GradTable.rule("div", (c, g) -> Arrays.asList(
                c.needsGrad(0) ? sumToShape(g.div(c.input(1)), c.inputShape(0)) : null,
                c.needsGrad(1) ? sumToShape(g.neg().mul(c.output()).div(c.input(1)), c.inputShape(1)) : null));
        GradTable.rule("neg", (c, g) -> List.of(g.neg()));
        // relu' = 1 where the output is positive
        GradTable.rule("relu", (c, g) -> List.of(g.mul(c.output().gt(0.0).to(g.dtype()))));
        // sigmoid' = y (1 - y)
        GradTable.rule("sigmoid", (c, g) -> {
            Tensor y = c.output();
            return List.of(g.mul(y).mul(y.neg().add(1.0)));
        });
        // tanh' = 1 - y^2
        GradTable.rule("tanh", (c, g) -> {
            Tensor y = c.output();
            return List.of(g.mul(y.mul(y).neg().add(1.0)));
        });
        GradTable.rule("cast", (c, g) -> List.of(g.to(c.inputDType(0))));
        GradTable.rule("clone", (c, g) -> List.of(g));
        GradTable.rule("matmul", BasicGrads::matmul);
        GradTable.rule("linear", BasicGrads::linear);
        // softmax: dx = y * (g - sum(g * y))
        GradTable.rule("softmax", (c, g) -> {
            Tensor y = c.output();
            int axis = c.attrs().intValue("axis");
            return List.of(y.mul(g.sub(g.mul(y).sum(axis, true))));
        });
        // log_softmax: dx = g - exp(y) * sum(g)
        GradTable.rule("log_softmax", (c, g) -> {
            int axis = c.attrs().intValue("axis");
            return List.of(g.sub(c.output().exp().mul(g.sum(axis, true))));
        });
        GradTable.rule("sum", (c, g) -> List.of(expandReduced(g, c.inputShape(0), c.attrs())));
        GradTable.rule("mean", (c, g) -> {
            long[] in = c.inputShape(0);
            long count = Arrays.stream(in).reduce(1, Math::multiplyExact)
                    / Math.max(1, Arrays.stream(c.output().shape()).reduce(1, Math::multiplyExact));
            return List.of(expandReduced(g, in, c.attrs()).div((double) Math.max(count, 1)));
        });
        GradTable.rule("reshape", (c, g) -> List.of(g.reshape(c.inputShape(0))));
        GradTable.rule("flatten", (c, g) -> List.of(g.reshape(c.inputShape(0))));
        GradTable.rule("permute", (c, g) -> {
            int[] perm = c.attrs().ints("perm");
            int[] inverse = new int[perm.length];
            for (int i = 0; i < perm.length; i++) inverse[Math.floorMod(perm[i], perm.length)] = i;
            return List.of(g.permute(inverse));
        });
        GradTable.nonDifferentiable("gt", "lt", "eq");
    }

    /** Broadcasts a reduction's gradient back over the reduced axes of {@code inputShape}. */
    static Tensor expandReduced(Tensor g, long[] inputShape, OpAttributes attrs) {
        long[] kept = inputShape.clone();
        boolean[] reduced = dev.kiln.ir.ShapeRules.reducedAxes("sum", inputShape.length, attrs.longs("axes"));
        for (int i = 0; i < kept.length; i++) if (reduced[i]) kept[i] = 1;
        return Tensor.zeros(g.dtype(), inputShape).add(g.reshape(kept));
    }

    /**
     * NumPy matmul: 1-D operands are treated as [1, k] and [k, 1]; batch dims broadcast, so the
     * batch gradients are summed back to each operand's shape.
     */
    private static List<Tensor> matmul(GradContext c, Tensor g) {
        Tensor a = c.input(0), b = c.input(1);
        Tensor a2 = a.rank() == 1 ? a.unsqueeze(0) : a;
        Tensor b2 = b.rank() == 1 ? b.unsqueeze(-1) : b;
        Tensor g2 = g;
        if (a.rank() == 1) g2 = g2.unsqueeze(b.rank() == 1 ? 0 : -2);
        if (b.rank() == 1) g2 = g2.unsqueeze(-1);
        Tensor ga = c.needsGrad(0) ? sumToShape(g2.matmul(b2.transpose(-1, -2)), a2.shape()).reshape(a.shape()) : null;
        Tensor gb = c.needsGrad(1) ? sumToShape(a2.transpose(-1, -2).matmul(g2), b2.shape()).reshape(b.shape()) : null;
        return Arrays.asList(ga, gb);
    }

    /** y = x W^T + b: dx = g W, dW = g^T x (over all batch rows), db = sum of g over batch rows. */
    private static List<Tensor> linear(GradContext c, Tensor g) {
        Tensor x = c.input(0), w = c.input(1);
        long out = w.dim(0), in = w.dim(1);
        Tensor gx = c.needsGrad(0) ? g.matmul(w) : null;
        Tensor g2 = g.reshape(-1, out);
        Tensor gw = c.needsGrad(1) ? g2.t().matmul(x.reshape(-1, in)) : null;
        Tensor gb = c.inputCount() > 2 && c.needsGrad(2) ? g2.sum(0, false) : null;
        return c.inputCount() > 2 ? Arrays.asList(gx, gw, gb) : Arrays.asList(gx, gw);
    }

}
