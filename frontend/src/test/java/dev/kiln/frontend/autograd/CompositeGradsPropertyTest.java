package dev.kiln.frontend.autograd;

import dev.kiln.frontend.F;
import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import static dev.kiln.frontend.autograd.GradCheck.check;
import static dev.kiln.frontend.autograd.GradCheck.leaf;
import static dev.kiln.frontend.autograd.GradCheck.leafIn;

/** Gradient checks of the functions composed from registry ops: losses, attention, statistics, einsum. */
class CompositeGradsPropertyTest {

    @Property(tries = 20)
    void losses(@ForAll @IntRange(min = 1, max = 4) int n, @ForAll @IntRange(min = 2, max = 5) int c, @ForAll long seed) {
        Generator g = new Generator(seed);
        Tensor target = Tensor.randint(g, 0, c, n);
        check("cross_entropy", xs -> F.crossEntropy(xs.get(0), target), leaf(g, n, c));
        check("cross_entropy smoothed", xs -> F.crossEntropy(xs.get(0), target, 0.2, F.Reduction.SUM), leaf(g, n, c));
        check("nll", xs -> F.nllLoss(xs.get(0).logSoftmax(1), target, F.Reduction.MEAN), leaf(g, n, c));
        check("mse", xs -> F.mseLoss(xs.get(0), xs.get(1), F.Reduction.MEAN), leaf(g, n, c), leaf(g, n, c));
        Tensor y = leafIn(g, 0, 1, n, c).detach();
        check("bce", xs -> F.binaryCrossEntropy(xs.get(0), y, F.Reduction.MEAN), leafIn(g, 0.1, 0.9, n, c));
        check("bce with logits", xs -> F.binaryCrossEntropyWithLogits(xs.get(0), y, F.Reduction.SUM), leafIn(g, -3, 3, n, c));
    }

    @Property(tries = 15)
    void attention(@ForAll @IntRange(min = 1, max = 4) int l, @ForAll @IntRange(min = 1, max = 3) int d, @ForAll boolean causal,
                   @ForAll long seed) {
        Generator g = new Generator(seed);
        check("scaled_dot_product_attention", xs -> F.scaledDotProductAttention(xs.get(0), xs.get(1), xs.get(2), null, causal, 0, false),
                leaf(g, 2, l, d), leaf(g, 2, l, d), leaf(g, 2, l, d));
    }

    @Property(tries = 15)
    void statisticsAndEinsum(@ForAll @IntRange(min = 2, max = 4) int m, @ForAll @IntRange(min = 2, max = 4) int n, @ForAll long seed) {
        Generator g = new Generator(seed);
        check("var", xs -> xs.get(0).var(new int[] {1}, false, 1), leaf(g, m, n));
        check("std", xs -> xs.get(0).std(new int[] {0}, true, 1), leafIn(g, 0.5, 2, m, n).add(leaf(g, m, n).detach()).detach().setRequiresGrad(true));
        check("norm 2", xs -> xs.get(0).norm(2, new int[] {1}, false), leafIn(g, 0.5, 2, m, n));
        check("norm 3", xs -> xs.get(0).norm(3, new int[] {0}, false), leafIn(g, 0.5, 2, m, n));
        check("einsum", xs -> F.einsum("ij,jk->ik", xs.get(0), xs.get(1)), leaf(g, m, n), leaf(g, n, m));
    }
}
