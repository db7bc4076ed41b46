package dev.kiln.passes;

import dev.kiln.ir.Attribute;
import dev.kiln.ir.Block;
import dev.kiln.ir.Builder;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Op;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The transformer fusions of ONNX Runtime's graph optimiser, on Kiln IR:
 * <ul>
 *   <li><b>BiasGelu.</b> {@code gelu(add(x, bias))} (either operand order) with {@code bias} 1-D over x's last dim
 *       and x of the add's result type becomes {@code bias_gelu(x, bias) {approximate}}. {@code gelu(linear(x, w, b))}
 *       becomes {@code bias_gelu(linear(x, w), b)}: the bias moves from the GEMM into the activation's one pass, as
 *       ORT does with the MatMul + Add + Gelu of an exported feed-forward block (Kiln's GEMM would otherwise write
 *       the broadcast bias into its output before accumulating). This runs before {@link FuseLinearActivation},
 *       which therefore fuses gelu only into bias-free linears.</li>
 *   <li><b>SkipLayerNorm.</b> {@code layer_norm(add(a, b), gamma, beta) {normalized_dims = 1, eps}}, with {@code a}
 *       and {@code b} of the add's result type, becomes {@code skip_layer_norm(x, skip, gamma, beta, bias?) {eps}};
 *       when one side is itself a single-use {@code add(x, bias)} with a 1-D last-dim bias, that add joins as the
 *       bias operand. When the sum has other uses (the residual stream of a pre-norm transformer, where it also
 *       feeds the next residual add), the op gets {@code with_sum = true} and its second result replaces them. A
 *       layer_norm without weight and bias, or over more than the last dim, is left alone.</li>
 *   <li><b>Attention.</b> {@code matmul(softmax(masked(scale(matmul(q, kT)))), v)} over the last dim, where the
 *       scale is an optional {@code div}/{@code mul} by a one-element constant, and the masking is, innermost first,
 *       an optional {@code where(causal, s, -inf)} with a constant lower-triangular bool mask (becomes
 *       {@code causal = true}) and an optional {@code where(mask, s, -inf)} (bool) or {@code add(s, mask)} (float),
 *       becomes {@code attention(q, k, v, mask?) {scale, causal}} with {@code k = permute(kT)} swapping the last two
 *       dims (composed with kT's own permute, so attention's {@code k^T} view disappears). q, kT and v must have the
 *       same rank and leading dims (no broadcasting), and every intermediate one use.</li>
 * </ul>
 * Every intermediate must sit in the rewritten op's block; ops inside {@code if}/{@code loop} regions are
 * rewritten too, {@code fused_elementwise} regions are not entered.
 */
public final class FuseTransformerPatterns implements Pass {

    private final List<String> fused = new ArrayList<>();

    @Override
    public String name() { return "fuse-transformer"; }

    /** One line per fusion performed, e.g. {@code add + layer_norm -> skip_layer_norm}, in order. */
    public List<String> fusions() { return List.copyOf(fused); }

    @Override
    public boolean run(Graph graph) { return runBlock(graph.body()); }

    private boolean runBlock(Block block) {
        boolean changed = false;
        for (Op op : List.copyOf(block.ops())) {
            if (op.parent() != block) continue;
            if (!op.name().equals("fused_elementwise")) {
                for (Block region : op.regions()) changed |= runBlock(region);
            }
            changed |= switch (op.name()) {
                case "gelu" -> biasGelu(op);
                case "layer_norm" -> skipLayerNorm(op);
                case "matmul" -> attention(op);
                default -> false;
            };
        }
        return changed;
    }

    private boolean biasGelu(Op gelu) {
        Op producer = singleUseProducer(gelu.operand(0), gelu);
        if (producer == null) return false;
        Map<String, Attribute> attrs = Map.of("approximate", gelu.attr("approximate"));
        Builder at = Builder.before(gelu);
        if (producer.name().equals("add")) {
            for (int i = 0; i < 2; i++) {
                Value x = producer.operand(i), bias = producer.operand(1 - i);
                if (!x.type().equals(producer.result().type()) || !isLastDimVector(bias, x)) continue;
                replace(gelu, at.create("bias_gelu", List.of(x, bias), attrs), List.of(producer));
                fused.add("add + gelu -> bias_gelu");
                return true;
            }
        } else if (producer.name().equals("linear") && producer.operandCount() == 3) {
            Value product = at.op("linear", producer.operand(0), producer.operand(1));
            replace(gelu, at.create("bias_gelu", List.of(product, producer.operand(2)), attrs), List.of(producer));
            fused.add("linear + gelu -> linear (bias moved) + bias_gelu");
            return true;
        }
        return false;
    }

    private boolean skipLayerNorm(Op ln) {
        Value sum = ln.operand(0);
        if (ln.operandCount() != 3 || ln.intAttr("normalized_dims") != 1 || ln.operand(1) == sum || ln.operand(2) == sum) return false;
        Op add = sum.definingOp();
        if (add == null || !add.name().equals("add") || add.parent() != ln.parent()) return false;
        TensorType type = sum.tensorType();
        if (!add.operand(0).type().equals(type) || !add.operand(1).type().equals(type)) return false;

        Value x = add.operand(0), skip = add.operand(1), bias = null;
        Op biasAdd = null;
        for (int i = 0; i < 2 && biasAdd == null; i++) {
            Op inner = singleUseProducer(add.operand(i), add);
            if (inner == null || !inner.name().equals("add")) continue;
            for (int k = 0; k < 2; k++) {
                if (inner.operand(k).type().equals(type) && isLastDimVector(inner.operand(1 - k), inner.operand(k))) {
                    x = inner.operand(k);
                    bias = inner.operand(1 - k);
                    skip = add.operand(1 - i);
                    biasAdd = inner;
                    break;
                }
            }
        }

        boolean withSum = sum.uses().size() > 1;
        Op insertBefore = withSum ? insertionPoint(ln, add) : ln;
        if (insertBefore == null) return false;
        List<Value> operands = new ArrayList<>(List.of(x, skip, ln.operand(1), ln.operand(2)));
        if (bias != null) operands.add(bias);
        Map<String, Attribute> attrs = new LinkedHashMap<>();
        attrs.put("eps", ln.attr("eps"));
        if (withSum) attrs.put("with_sum", Attribute.of(true));
        Op fusedOp = Builder.before(insertBefore).create("skip_layer_norm", operands, attrs);
        ln.result().replaceAllUsesWith(fusedOp.results().get(0));
        if (withSum) sum.replaceAllUsesWith(fusedOp.results().get(1));
        Block block = ln.parent();
        block.erase(ln);
        block.erase(add);
        if (biasAdd != null) block.erase(biasAdd);
        fused.add("add" + (biasAdd != null ? " + add(bias)" : "") + " + layer_norm -> skip_layer_norm" + (withSum ? " (with sum)" : ""));
        return true;
    }

    private boolean attention(Op pv) {
        Op softmax = singleUseProducer(pv.operand(0), pv);
        if (softmax == null || !softmax.name().equals("softmax")) return false;
        TensorType scoresType = softmax.result().tensorType();
        int rank = scoresType.rank();
        long axis = softmax.intAttr("axis");
        if (rank < 2 || (axis != -1 && axis != rank - 1)) return false;
        List<Op> fusedOps = new ArrayList<>(List.of(pv, softmax));
        Value scores = softmax.operand(0), mask = null;
        boolean causal = false;
        Op user = softmax;
        for (int step = 0; step < 2; step++) {   // the mask operand (outermost), then the causal where
            Op m = singleUseProducer(scores, user);
            if (m == null || !m.result().type().equals(scoresType)) break;
            Value inner = null;
            if (m.name().equals("where") && CanonicalRules.isSplat(m.operand(2), Double.NEGATIVE_INFINITY)
                    && m.operand(1).type().equals(scoresType)) {
                if (!causal && isCausalConstant(m.operand(0), scoresType)) causal = true;
                else if (mask == null && !causal) mask = m.operand(0);
                else break;
                inner = m.operand(1);
            } else if (m.name().equals("add") && mask == null && !causal) {
                for (int i = 0; i < 2 && inner == null; i++) {
                    if (m.operand(i).type().equals(scoresType) && isScores(m.operand(i), m)) {
                        inner = m.operand(i);
                        mask = m.operand(1 - i);
                    }
                }
            }
            if (inner == null) break;
            fusedOps.add(m);
            scores = inner;
            user = m;
        }
        double scale = 1;
        Op scaleOp = singleUseProducer(scores, user);
        if (scaleOp != null && (scaleOp.name().equals("div") || scaleOp.name().equals("mul"))) {
            boolean div = scaleOp.name().equals("div");
            for (int i = 0; i < (div ? 1 : 2); i++) {
                Double c = oneElementConstant(scaleOp.operand(1 - i));
                if (c != null && scaleOp.operand(i).type().equals(scoresType)) {
                    scale = div ? 1 / c : c;
                    fusedOps.add(scaleOp);
                    user = scaleOp;
                    scores = scaleOp.operand(i);
                    break;
                }
            }
        }
        Op qk = singleUseProducer(scores, user);
        if (qk == null || !qk.name().equals("matmul") || !qk.result().type().equals(scoresType)) return false;
        Value q = qk.operand(0), kT = qk.operand(1), v = pv.operand(1);
        if (!sameLeadingDims(rank, q, kT, v)) return false;
        fusedOps.add(qk);
        Builder at = Builder.before(pv);
        long[] swap = new long[rank];
        for (int i = 0; i < rank; i++) swap[i] = i;
        swap[rank - 2] = rank - 1;
        swap[rank - 1] = rank - 2;
        Op kTPermute = kT.definingOp() != null && kT.definingOp().name().equals("permute") ? kT.definingOp() : null;
        Value k;
        if (kTPermute != null) {
            long[] p = kTPermute.intsAttr("perm"), composed = new long[rank];
            for (int i = 0; i < rank; i++) composed[i] = p[(int) swap[i]] < 0 ? p[(int) swap[i]] + rank : p[(int) swap[i]];
            boolean identity = true;
            for (int i = 0; i < rank; i++) identity &= composed[i] == i;
            k = identity ? kTPermute.operand(0) : at.op("permute", Map.of("perm", new Attribute.Ints(composed)), kTPermute.operand(0));
        } else {
            k = at.op("permute", Map.of("perm", new Attribute.Ints(swap)), kT);
        }
        List<Value> operands = new ArrayList<>(List.of(q, k, v));
        if (mask != null) operands.add(mask);
        Map<String, Attribute> attrs = new LinkedHashMap<>();
        attrs.put("scale", Attribute.of(scale));
        attrs.put("causal", Attribute.of(causal));
        Op attention = at.create("attention", operands, attrs);
        pv.result().replaceAllUsesWith(attention.result());
        Block block = pv.parent();
        for (Op op : fusedOps) block.erase(op);
        if (kTPermute != null && kT.uses().isEmpty() && kTPermute.parent() == block) block.erase(kTPermute);
        fused.add("matmul + " + (fusedOps.size() > 3 ? "scale/mask + " : "") + "softmax + matmul -> attention");
        return true;
    }

    /** Whether {@code v} is a scaled or plain {@code matmul}, the scores side of an {@code add} with the mask. */
    private static boolean isScores(Value v, Op user) {
        Op def = singleUseProducer(v, user);
        if (def == null) return false;
        if (def.name().equals("matmul")) return true;
        return (def.name().equals("div") || def.name().equals("mul")) && def.operands().stream().anyMatch(o -> oneElementConstant(o) != null);
    }

    /** The value of a one-element floating-point constant, or null. */
    private static Double oneElementConstant(Value v) {
        Op c = CanonicalRules.producer(v, "constant");
        if (c == null || !(c.attr("value") instanceof Attribute.Tensor t) || t.numel() != 1 || !t.type().dtype().isFloatingPoint()) return null;
        return t.elementAsDouble(0);
    }

    /** Whether {@code cond} is a constant bool [L, S] tensor that is true exactly where key j <= query i. */
    private static boolean isCausalConstant(Value cond, TensorType scores) {
        Op c = CanonicalRules.producer(cond, "constant");
        if (c == null || !(c.attr("value") instanceof Attribute.Tensor t) || t.type().dtype() != dev.kiln.ir.DType.BOOL) return false;
        if (t.type().rank() != 2 || !t.type().shape().isStatic()) return false;
        long l = t.type().shape().dim(0).size(), s = t.type().shape().dim(1).size();
        int rank = scores.rank();
        if (!scores.shape().dim(rank - 2).isStatic() || scores.shape().dim(rank - 2).size() != l
                || !scores.shape().dim(rank - 1).isStatic() || scores.shape().dim(rank - 1).size() != s) return false;
        byte[] data = t.data();
        for (long i = 0; i < l; i++) {
            for (long j = 0; j < s; j++) if ((data[(int) (i * s + j)] != 0) != (j <= i)) return false;
        }
        return true;
    }

    /** q, kT and v have {@code rank} dims and equal leading dims (the fused op does not broadcast them). */
    private static boolean sameLeadingDims(int rank, Value... values) {
        TensorType first = values[0].tensorType();
        for (Value v : values) {
            if (!(v.type() instanceof TensorType t) || t.rank() != rank) return false;
            for (int d = 0; d < rank - 2; d++) if (!t.shape().dim(d).equals(first.shape().dim(d))) return false;
        }
        return true;
    }

    /**
     * Where a {@code with_sum} op may go so that it dominates every use of the sum: just before the layer_norm
     * when all other uses come after it, else just before the add when gamma and beta are already available
     * there; null when neither holds.
     */
    private static Op insertionPoint(Op ln, Op add) {
        Block block = ln.parent();
        int at = block.indexOf(ln);
        boolean usesAfter = ln.operand(0).uses().stream()
                .allMatch(u -> u.user() == ln || block.indexOf(ancestorIn(u.user(), block)) > at);
        if (usesAfter) return ln;
        return availableBefore(ln.operand(1), add) && availableBefore(ln.operand(2), add) ? add : null;
    }

    /** The op of {@code block} that is or encloses {@code op}. */
    private static Op ancestorIn(Op op, Block block) {
        Op cur = op;
        while (cur.parent() != block) cur = cur.parent().parentOp();
        return cur;
    }

    /** Whether {@code v} is visible just before {@code op}: a weight, an outer value, or defined earlier in op's block. */
    private static boolean availableBefore(Value v, Op op) {
        Block block = op.parent();
        if (v.kind() == Value.Kind.WEIGHT) return true;
        if (v.kind() == Value.Kind.BLOCK_ARGUMENT) return true; // arguments of this block or an enclosing one
        Op def = v.definingOp();
        return def.parent() != block || block.indexOf(def) < block.indexOf(op);
    }

    /** {@code v} is 1-D, of x's dtype, and its one dim is x's last dim. */
    private static boolean isLastDimVector(Value v, Value x) {
        if (!(v.type() instanceof TensorType t) || !(x.type() instanceof TensorType xt) || xt.rank() < 1) return false;
        return t.rank() == 1 && t.dtype() == xt.dtype() && t.shape().dim(0).equals(xt.shape().dim(xt.rank() - 1));
    }

    /** The op defining {@code v} when its only use is {@code user} in the same block; otherwise null. */
    private static Op singleUseProducer(Value v, Op user) {
        Op def = v.definingOp();
        if (def == null || def.parent() != user.parent() || def.results().size() != 1 || v.uses().size() != 1) return null;
        return def;
    }

    /** Points {@code old}'s uses at {@code replacement}, then erases {@code old} and the fused ops (consumers first). */
    private static void replace(Op old, Op replacement, List<Op> fusedOps) {
        old.result().replaceAllUsesWith(replacement.result());
        Block block = old.parent();
        block.erase(old);
        for (Op op : fusedOps) block.erase(op);
    }
}
