package dev.kiln.passes;

import dev.kiln.ir.Attribute;
import dev.kiln.ir.Block;
import dev.kiln.ir.Builder;
import dev.kiln.ir.Dim;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Op;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Rewrites a concatenation followed by a channel shuffle (ShuffleNet v2's unit end) into one interleaving
 * concatenation: {@code reshape(permute(reshape(cat(x_0..x_{G-1}, axis 1), [N, G, C/G, H, W]), [0, 2, 1, 3, 4]),
 * [N, C, H, W])}, with each {@code x_g} of shape {@code [N, C/G, H, W]}, becomes
 * {@code reshape(cat(reshape(x_0, [-1, C/G, 1, H, W]), ..., axis 2), [N, C, H, W])}. Both put channel {@code i} of
 * input {@code g} at channel {@code i*G + g}; the new form's reshapes are views, so the data is copied once (each
 * input into every G-th plane) instead of twice (the concatenation, then the permuted copy). {@code C/G}, {@code H}
 * and {@code W} must be static; every intermediate result must have the next op as its only use.
 */
public final class InterleaveCatShuffle implements Pass {

    @Override
    public String name() { return "interleave-cat-shuffle"; }

    @Override
    public boolean run(Graph graph) { return Pass.rewriteEach(graph.body(), op -> op.name().equals("cat") && rewrite(op)); }

    private static boolean rewrite(Op cat) {
        int groups = cat.operandCount();
        if (groups < 2 || !(cat.result().type() instanceof TensorType out) || out.rank() != 4) return false;
        long axis = cat.intAttr("axis");
        if (axis != 1 && axis != -3) return false;
        Op split = onlyUser(cat.result(), "reshape"), permute = split == null ? null : onlyUser(split.result(), "permute");
        Op join = permute == null ? null : onlyUser(permute.result(), "reshape");
        if (join == null || !Arrays.equals(((Attribute.Ints) permute.attr("perm")).values(), new long[] {0, 2, 1, 3, 4})
                || !join.result().type().equals(out)) {
            return false;
        }
        List<Dim> dims = out.shape().dims();
        for (int d = 1; d < 4; d++) if (!dims.get(d).isStatic()) return false;
        long c = dims.get(1).size(), h = dims.get(2).size(), w = dims.get(3).size();
        if (c % groups != 0) return false;
        long part = c / groups;
        List<Dim> splitDims = ((TensorType) split.result().type()).shape().dims();
        if (splitDims.size() != 5 || !splitDims.get(0).equals(dims.get(0))
                || !splitDims.subList(1, 5).equals(List.of(Dim.of(groups), Dim.of(part), Dim.of(h), Dim.of(w)))) {
            return false;
        }
        for (Value x : cat.operands()) {
            if (!(x.type() instanceof TensorType t) || !t.shape().dims().equals(List.of(dims.get(0), Dim.of(part), Dim.of(h), Dim.of(w)))) return false;
        }
        Builder at = Builder.before(cat);
        List<Value> planes = new ArrayList<>();
        for (Value x : cat.operands()) planes.add(at.op("reshape", Builder.attrs("shape", new long[] {-1, part, 1, h, w}), x));
        Value interleaved = at.op("cat", Builder.attrs("axis", 2L), planes.toArray(Value[]::new));
        Value joined = at.op("reshape", join.attributes(), interleaved);
        join.result().replaceAllUsesWith(joined);
        Block block = cat.parent();
        block.erase(join);
        block.erase(permute);
        block.erase(split);
        block.erase(cat);
        return true;
    }

    /** The one op using {@code v}, when it is a {@code name} op in the same block; else null. */
    private static Op onlyUser(Value v, String name) {
        if (v.uses().size() != 1) return null;
        Op user = v.uses().get(0).user();
        return user.name().equals(name) && user.parent() == v.definingOp().parent() ? user : null;
    }
}
