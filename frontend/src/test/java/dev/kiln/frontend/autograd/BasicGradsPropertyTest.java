package dev.kiln.frontend.autograd;

import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import static dev.kiln.frontend.autograd.GradCheck.check;
import static dev.kiln.frontend.autograd.GradCheck.leaf;
import static dev.kiln.frontend.autograd.GradCheck.leafIn;

/** Gradient checks of the core ops on random shapes, in f64 against central finite differences. */
class BasicGradsPropertyTest {

    @Property(tries = 30)
    void broadcastArithmetic(@ForAll @IntRange(min = 1, max = 4) int m, @ForAll @IntRange(min = 1, max = 4) int n,
                             @ForAll long seed) {
        Generator g = new Generator(seed);
        Tensor a = leaf(g, m, n), b = leaf(g, n), c = leafIn(g, 1.5, 3, m, 1);
        check("add", xs -> xs.get(0).add(xs.get(1)), a, b);
        check("sub", xs -> xs.get(0).sub(xs.get(1)), leaf(g, m, n), leaf(g, n));
        check("mul", xs -> xs.get(0).mul(xs.get(1)), leaf(g, m, n), leaf(g, m, 1));
        check("div", xs -> xs.get(0).div(xs.get(1)), leaf(g, m, n), c);
        check("neg", xs -> xs.get(0).neg(), leaf(g, m, n));
    }

    @Property(tries = 30)
    void activationsAndSoftmax(@ForAll @IntRange(min = 1, max = 4) int m, @ForAll @IntRange(min = 1, max = 5) int n,
                               @ForAll long seed) {
        Generator g = new Generator(seed);
        check("relu", xs -> xs.get(0).relu(), leaf(g, m, n));
        check("sigmoid", xs -> xs.get(0).sigmoid(), leafIn(g, -3, 3, m, n));
        check("tanh", xs -> xs.get(0).tanh(), leafIn(g, -3, 3, m, n));
        check("softmax", xs -> xs.get(0).softmax(1), leafIn(g, -3, 3, m, n));
        check("log_softmax", xs -> xs.get(0).logSoftmax(0), leafIn(g, -3, 3, m, n));
    }

    @Property(tries = 30)
    void reductionsAndShapes(@ForAll @IntRange(min = 1, max = 3) int a, @ForAll @IntRange(min = 1, max = 3) int b,
                             @ForAll @IntRange(min = 1, max = 3) int c, @ForAll long seed) {
        Generator g = new Generator(seed);
        check("sum all", xs -> xs.get(0).sum(), leaf(g, a, b, c));
        check("sum axes", xs -> xs.get(0).sum(new int[] {0, 2}, false), leaf(g, a, b, c));
        check("mean keepdim", xs -> xs.get(0).mean(new int[] {1}, true), leaf(g, a, b, c));
        check("reshape", xs -> xs.get(0).reshape(c, -1), leaf(g, a, b, c));
        check("permute", xs -> xs.get(0).permute(2, 0, 1).mul(xs.get(0).permute(2, 0, 1)), leaf(g, a, b, c));
        check("flatten", xs -> xs.get(0).flatten(1, 2), leaf(g, a, b, c));
    }

    @Property(tries = 30)
    void matmulAndLinear(@ForAll @IntRange(min = 1, max = 4) int m, @ForAll @IntRange(min = 1, max = 4) int k,
                         @ForAll @IntRange(min = 1, max = 4) int n, @ForAll long seed) {
        Generator g = new Generator(seed);
        check("matmul 2-D", xs -> xs.get(0).matmul(xs.get(1)), leaf(g, m, k), leaf(g, k, n));
        check("matmul batched broadcast", xs -> xs.get(0).matmul(xs.get(1)), leaf(g, 2, m, k), leaf(g, k, n));
        check("matmul vector-matrix", xs -> xs.get(0).matmul(xs.get(1)), leaf(g, k), leaf(g, 3, k, n));
        check("matmul matrix-vector", xs -> xs.get(0).matmul(xs.get(1)), leaf(g, m, k), leaf(g, k));
        check("matmul dot", xs -> xs.get(0).matmul(xs.get(1)), leaf(g, k), leaf(g, k));
        check("linear", xs -> dev.kiln.frontend.F.linear(xs.get(0), xs.get(1), xs.get(2)), leaf(g, 2, m, k), leaf(g, n, k), leaf(g, n));
    }
}
