package dev.kiln.frontend.autograd;

import dev.kiln.frontend.Dispatch;
import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import dev.kiln.ir.Builder;
import dev.kiln.ir.DType;
import dev.kiln.runtime.NDArray;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.util.ArrayList;
import java.util.List;

import static dev.kiln.frontend.autograd.GradCheck.check;
import static dev.kiln.frontend.autograd.GradCheck.leaf;
import static dev.kiln.frontend.autograd.GradCheck.leafIn;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * Gradient checks of the math ops in f64 against central finite differences (inputs kept away from
 * kinks and poles), and PyTorch's exact gradients at the kinks themselves.
 */
class MathGradsPropertyTest {

    /**
     * A dividend {@code [m, n]} and a divisor {@code [n]} in [0.7, 1.3] whose quotients have fractional parts in
     * [0.1, 0.9]: the finite differences stay clear of remainder's jumps (random operands landed on one and failed).
     */
    private static Tensor[] remainderOperands(Generator g, int m, int n) {
        NDArray d = NDArray.zeros(DType.F64, n), x = NDArray.zeros(DType.F64, m, n);
        for (int j = 0; j < n; j++) d.setFlat(j, 0.7 + 0.6 * g.nextUniform());
        for (int i = 0; i < m * n; i++) x.setFlat(i, d.getDouble(i % n) * awayFromInteger(g, -3, 6));
        return new Tensor[] {Tensor.wrap(x).setRequiresGrad(true), Tensor.wrap(d).setRequiresGrad(true)};
    }

    /**
     * A dividend {@code [m, 1]} of magnitude in [1, 3] and a negative divisor {@code [m, n]} made from it, every
     * quotient with its fractional part in [0.1, 0.9] (see {@link #remainderOperands}).
     */
    private static Tensor[] remainderNegativeDivisor(Generator g, int m, int n) {
        NDArray x = NDArray.zeros(DType.F64, m, 1), d = NDArray.zeros(DType.F64, m, n);
        for (int i = 0; i < m; i++) {
            double xi = (1 + 2 * g.nextUniform()) * (g.nextUniform() < 0.5 ? -1 : 1);
            x.setFlat(i, xi);
            for (int j = 0; j < n; j++) d.setFlat((long) i * n + j, xi / (-Math.signum(xi) * awayFromInteger(g, 1, 2)));
        }
        return new Tensor[] {Tensor.wrap(x).setRequiresGrad(true), Tensor.wrap(d).setRequiresGrad(true)};
    }

    /** {@code q + f}: one of the {@code count} integers from {@code low}, plus f in [0.1, 0.9]. */
    private static double awayFromInteger(Generator g, int low, int count) {
        return low + Math.floor(count * g.nextUniform()) + 0.1 + 0.8 * g.nextUniform();
    }

    /** A leaf with values of magnitude in [0.2, 1] and random signs: away from the kink at 0. */
    private static Tensor awayFromZero(Generator g, long... shape) {
        NDArray a = NDArray.zeros(DType.F64, shape);
        for (long i = 0; i < a.numel(); i++) a.setFlat(i, (0.2 + 0.8 * g.nextUniform()) * (g.nextUniform() < 0.5 ? -1 : 1));
        return Tensor.wrap(a).setRequiresGrad(true);
    }

    @Property(tries = 25)
    void unaryFunctions(@ForAll @IntRange(min = 1, max = 4) int m, @ForAll @IntRange(min = 1, max = 4) int n, @ForAll long seed) {
        Generator g = new Generator(seed);
        check("abs", xs -> xs.get(0).abs(), awayFromZero(g, m, n));
        check("sign", xs -> xs.get(0).sign(), awayFromZero(g, m, n));
        check("floor", xs -> xs.get(0).floor(), leafIn(g, -3, 3, m, n));
        check("ceil", xs -> xs.get(0).ceil(), leafIn(g, -3, 3, m, n));
        check("round", xs -> xs.get(0).round(), leafIn(g, -3, 3, m, n));
        check("exp", xs -> xs.get(0).exp(), leafIn(g, -2, 2, m, n));
        check("log", xs -> xs.get(0).log(), leafIn(g, 0.5, 2, m, n));
        check("log1p", xs -> xs.get(0).log1p(), leafIn(g, -0.5, 2, m, n));
        check("sqrt", xs -> xs.get(0).sqrt(), leafIn(g, 0.5, 2, m, n));
        check("rsqrt", xs -> xs.get(0).rsqrt(), leafIn(g, 0.5, 2, m, n));
        check("reciprocal", xs -> xs.get(0).reciprocal(), awayFromZero(g, m, n));
        check("sin", xs -> xs.get(0).sin(), leafIn(g, -3, 3, m, n));
        check("cos", xs -> xs.get(0).cos(), leafIn(g, -3, 3, m, n));
        check("erf", xs -> xs.get(0).erf(), leafIn(g, -2.5, 2.5, m, n));
        check("silu", xs -> xs.get(0).silu(), leafIn(g, -4, 4, m, n));
    }

    @Property(tries = 25)
    void activationsWithAttributes(@ForAll @IntRange(min = 1, max = 4) int m, @ForAll @IntRange(min = 1, max = 4) int n,
                                   @ForAll long seed) {
        Generator g = new Generator(seed);
        check("leaky_relu", xs -> xs.get(0).leakyRelu(0.2), awayFromZero(g, m, n));
        check("elu", xs -> xs.get(0).elu(1.3), awayFromZero(g, m, n));
        check("gelu", xs -> xs.get(0).gelu(), leafIn(g, -3, 3, m, n));
        check("gelu tanh", xs -> xs.get(0).gelu(true), leafIn(g, -3, 3, m, n));
        check("softplus", xs -> xs.get(0).softplus(2, 3), leafIn(g, -3, 3, m, n));
        check("clamp", xs -> xs.get(0).clamp(-0.5, 0.5), leaf(g, m, n));
        check("clamp one-sided", xs -> xs.get(0).clamp(Double.NEGATIVE_INFINITY, 0.3), leaf(g, m, n));
        check("pow_scalar 2.5", xs -> xs.get(0).pow(2.5), leafIn(g, 0.5, 2, m, n));
        check("pow_scalar 3", xs -> xs.get(0).pow(3), leaf(g, m, n));
        check("pow_scalar -1.5", xs -> xs.get(0).pow(-1.5), leafIn(g, 0.5, 2, m, n));
        check("pow_scalar 0", xs -> xs.get(0).pow(0), leaf(g, m, n));
    }

    @Property(tries = 25)
    void broadcastBinariesAndWhere(@ForAll @IntRange(min = 1, max = 4) int m, @ForAll @IntRange(min = 1, max = 4) int n,
                                   @ForAll long seed) {
        Generator g = new Generator(seed);
        check("pow", xs -> xs.get(0).pow(xs.get(1)), leafIn(g, 0.5, 2, m, n), leafIn(g, -2, 2, n));
        check("pow broadcast base", xs -> xs.get(0).pow(xs.get(1)), leafIn(g, 0.5, 2, m, 1), leafIn(g, -2, 2, m, n));
        check("remainder", xs -> xs.get(0).remainder(xs.get(1)), remainderOperands(g, m, n));
        check("remainder negative divisor", xs -> xs.get(0).remainder(xs.get(1)), remainderNegativeDivisor(g, m, n));
        check("maximum", xs -> xs.get(0).maximum(xs.get(1)), leaf(g, m, n), leaf(g, n));
        check("minimum", xs -> xs.get(0).minimum(xs.get(1)), leaf(g, m, 1), leaf(g, m, n));
        Tensor cond = Tensor.rand(g, m, 1).gt(0.5);
        check("where", xs -> Tensor.where(cond, xs.get(0), xs.get(1)), leaf(g, m, n), leaf(g, n));
    }

    @Property(tries = 25)
    void reductionsOverRandomAxes(@ForAll @IntRange(min = 1, max = 3) int a, @ForAll @IntRange(min = 1, max = 3) int b,
                                  @ForAll @IntRange(min = 1, max = 3) int c, @ForAll @IntRange(min = 0, max = 7) int mask,
                                  @ForAll boolean keepDim, @ForAll long seed) {
        Generator g = new Generator(seed);
        List<Integer> axesList = new ArrayList<>();
        for (int d = 0; d < 3; d++) if ((mask & (1 << d)) != 0) axesList.add(g.nextUniform() < 0.5 ? d : d - 3);
        int[] axes = axesList.stream().mapToInt(Integer::intValue).toArray();
        var attrs = Builder.attrs("axes", axes, "keepdim", keepDim);
        check("prod " + axesList, xs -> Dispatch.call("prod", attrs, xs.get(0)), awayFromZero(g, a, b, c));
        check("amax " + axesList, xs -> xs.get(0).amax(axes, keepDim), leaf(g, a, b, c));
        check("amin " + axesList, xs -> xs.get(0).amin(axes, keepDim), leaf(g, a, b, c));
        check("logsumexp " + axesList, xs -> xs.get(0).logsumexp(axes, keepDim), leafIn(g, -3, 3, a, b, c));
        check("prod dim", xs -> xs.get(0).prod(1, keepDim), awayFromZero(g, a, b, c));
    }

    private static Tensor f64(double... v) { return Tensor.of(v, v.length).setRequiresGrad(true); }

    private static double[] grad(Tensor x) { return x.grad().toDoubleArray(); }

    @Example
    void kinksFollowPyTorch() {
        Tensor x = f64(-1, 0, 2);
        x.relu().sum().backward();
        assertArrayEquals(new double[] {0, 0, 1}, grad(x), "relu'(0) = 0");
        Tensor y = f64(-1, 0, 2);
        y.abs().sum().backward();
        assertArrayEquals(new double[] {-1, 0, 1}, grad(y), "abs'(0) = 0");
        Tensor z = f64(-1, -0.5, 0.5, 1);
        z.clamp(-0.5, 0.5).sum().backward();
        assertArrayEquals(new double[] {0, 1, 1, 0}, grad(z), "clamp passes the gradient at its bounds");
        Tensor w = f64(0.5, 3);
        w.clamp(1, 0).sum().backward();
        assertArrayEquals(new double[] {0, 0}, grad(w), "min > max: constant output");
        Tensor l = f64(-1, 0, 1);
        l.leakyRelu(0.1).sum().backward();
        assertArrayEquals(new double[] {0.1, 0.1, 1}, grad(l), "leaky_relu takes the slope at 0");
        Tensor s = f64(-1, 0, 2.5);
        s.sign().add(s.round()).add(s.floor()).add(s.ceil()).sum().backward();
        assertArrayEquals(new double[] {0, 0, 0}, grad(s));
    }

    @Example
    void tiesShareTheGradientAsInPyTorch() {
        Tensor a = f64(1, 2, 3), b = f64(1, 5, 3);
        a.maximum(b).sum().backward();
        assertArrayEquals(new double[] {0.5, 0, 0.5}, grad(a));
        assertArrayEquals(new double[] {0.5, 1, 0.5}, grad(b));
        Tensor c = f64(1, 2, 3), d = f64(1, 5, 3);
        c.minimum(d).sum().backward();
        assertArrayEquals(new double[] {0.5, 1, 0.5}, grad(c));
        assertArrayEquals(new double[] {0.5, 0, 0.5}, grad(d));
        Tensor x = f64(1, 3, 3, 2);
        x.max().backward();
        assertArrayEquals(new double[] {0, 0.5, 0.5, 0}, grad(x), "amax splits among tied maxima");
        Tensor y = Tensor.of(new double[] {1, 1, 1, 4, 0, 4}, 2, 3).setRequiresGrad(true);
        y.amin(new int[] {1}, false).sum().backward();
        assertArrayEquals(new double[] {1 / 3.0, 1 / 3.0, 1 / 3.0, 0, 1, 0}, grad(y));
    }

    @Example
    void prodGradientsAtZerosAreExact() {
        Tensor one = f64(2, 0, 3);
        one.prod().backward();
        assertArrayEquals(new double[] {0, 6, 0}, grad(one), "one zero: only it gets the product of the others");
        Tensor two = f64(2, 0, 0, 3);
        two.prod().backward();
        assertArrayEquals(new double[] {0, 0, 0, 0}, grad(two));
        Tensor rows = Tensor.of(new double[] {2, 3, 0, 4}, 2, 2).setRequiresGrad(true);
        rows.prod(1, false).sum().backward();
        assertArrayEquals(new double[] {3, 2, 4, 0}, grad(rows));
    }

    @Example
    void whereSendsNoGradientToItsCondition() {
        Tensor a = f64(1, 2), b = f64(3, 4);
        Tensor cond = Tensor.ofBooleans(new boolean[] {true, false}, 2);
        Tensor.where(cond, a, b).mul(Tensor.of(new double[] {10, 20}, 2)).sum().backward();
        assertArrayEquals(new double[] {10, 0}, grad(a));
        assertArrayEquals(new double[] {0, 20}, grad(b));
        Tensor c = f64(0, 2), p = f64(1, 2), q = f64(3, 4);   // a float condition that itself requires grad
        Tensor.where(c, p, q).sum().backward();
        assertArrayEquals(new double[] {0, 1}, grad(p));
        assertArrayEquals(new double[] {1, 0}, grad(q));
        Tensor x = f64(1, -1);
        Tensor r = x.gt(0.0).logicalAnd(x.lt(5.0));
        assertNull(r.gradFn(), "comparisons and logic are not differentiable");
        assertNull(x.argmax().gradFn());
    }
}
