package dev.kiln.frontend.autograd;

import dev.kiln.frontend.Dispatch;
import dev.kiln.frontend.Tensor;
import dev.kiln.ir.Builder;
import dev.kiln.ir.ShapeRules;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.kiln.frontend.autograd.Grads.sumToShape;
import static dev.kiln.frontend.autograd.Grads.zerosLike;

/**
 * Gradient rules of the view, layout and indexing ops. Index operands get no gradient. Scatter
 * follows PyTorch: src receives {@code gather(g, index)} even where a duplicate index let another
 * value win.
 */
final class ShapeGrads {

    private ShapeGrads() {}

    static void register() {
        // expand broadcasts, so the gradient sums back over the broadcast dims
        GradTable.rule("expand", (c, g) -> List.of(sumToShape(g, c.inputShape(0))));
        // slice: zeros with g written into the slice
        GradTable.rule("slice", (c, g) -> List.of(Dispatch.call("slice_scatter", c.attrs().values(), zerosLike(c, 0), g)));
        GradTable.rule("slice_scatter", (c, g) -> Arrays.asList(
                c.needsGrad(0) ? Dispatch.call("slice_scatter", c.attrs().values(), g, zerosLike(c, 1)) : null,
                c.needsGrad(1) ? Dispatch.call("slice", c.attrs().values(), g) : null));
        GradTable.rule("cat", ShapeGrads::cat);
        // gather: each picked element's gradient goes back to where it came from (summed for repeats)
        GradTable.rule("gather", (c, g) -> Arrays.asList(
                zerosLike(c, 0).scatterAdd(axis(c), c.input(1), g), null));
        GradTable.rule("index_select", (c, g) -> Arrays.asList(
                Dispatch.call("index_add", Builder.attrs("axis", axis(c)), zerosLike(c, 0), c.input(1), g), null));
        GradTable.rule("index_add", (c, g) -> Arrays.asList(
                c.needsGrad(0) ? g : null, null,
                c.needsGrad(2) ? Dispatch.call("index_select", Builder.attrs("axis", axis(c)), g, c.input(1)) : null));
        // scatter overwrites: x's gradient is g with the written positions zeroed
        GradTable.rule("scatter", (c, g) -> Arrays.asList(
                c.needsGrad(0) ? g.scatter(axis(c), c.input(1), Tensor.zeros(g.dtype(), c.inputShape(1))) : null, null,
                c.needsGrad(2) ? padTo(g.gather(axis(c), c.input(1)), c.inputShape(2)) : null));
        GradTable.rule("scatter_add", (c, g) -> Arrays.asList(
                c.needsGrad(0) ? g : null, null,
                c.needsGrad(2) ? padTo(g.gather(axis(c), c.input(1)), c.inputShape(2)) : null));
        // pad with the negated pads crops what was padded and zero-pads what was cropped
        GradTable.rule("pad", (c, g) -> {
            long[] pads = c.attrs().longs("pads");
            for (int i = 0; i < pads.length; i++) pads[i] = -pads[i];
            return List.of(g.pad(pads, 0));
        });
        GradTable.rule("flip", (c, g) -> List.of(g.flip(c.attrs().ints("axes"))));
        GradTable.rule("repeat", ShapeGrads::repeat);
        GradTable.rule("tril", (c, g) -> List.of(g.tril(c.attrs().integer("diagonal"))));
        GradTable.rule("triu", (c, g) -> List.of(g.triu(c.attrs().integer("diagonal"))));
    }

    private static int axis(GradContext c) { return c.attrs().intValue("axis"); }

    /** cat: each input's gradient is its slice of g. */
    private static List<Tensor> cat(GradContext c, Tensor g) {
        int axis = ShapeRules.normalize("cat", c.attrs().integer("axis"), g.rank());
        List<Tensor> out = new ArrayList<>(c.inputCount());
        long at = 0;
        for (int i = 0; i < c.inputCount(); i++) {
            long n = c.inputShape(i)[axis];
            out.add(c.needsGrad(i) ? g.slice(axis, at, at + n, 1) : null);
            at += n;
        }
        return out;
    }

    /** repeat: view g as [r0, s0, r1, s1, ...] and sum over the repeat counts. */
    private static List<Tensor> repeat(GradContext c, Tensor g) {
        long[] repeats = c.attrs().longs("repeats"), in = c.inputShape(0);
        if (repeats.length == 0) return List.of(g);
        int lead = repeats.length - in.length;
        long[] split = new long[2 * repeats.length];
        int[] countAxes = new int[repeats.length];
        for (int i = 0; i < repeats.length; i++) {
            split[2 * i] = repeats[i];
            split[2 * i + 1] = i < lead ? 1 : in[i - lead];
            countAxes[i] = 2 * i;
        }
        return List.of(g.reshape(split).sum(countAxes, false).reshape(in));
    }

    /** Zero-pads {@code t} at the end of each dim up to {@code shape} (src may be larger than the index). */
    private static Tensor padTo(Tensor t, long[] shape) {
        long[] have = t.shape();
        if (Arrays.equals(have, shape)) return t;
        long[] pads = new long[2 * shape.length];
        for (int d = 0; d < shape.length; d++) pads[2 * (shape.length - 1 - d) + 1] = shape[d] - have[d];
        return t.pad(pads, 0);
    }
}
