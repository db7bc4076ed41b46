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
 * Fuses an activation into the linear or convolution that feeds it:
 * <ul>
 *   <li>{@code act(linear(x, w, b?))} becomes {@code linear_act(x, w, b?) {activation}};</li>
 *   <li>{@code act(add(matmul(x, w), b))} (either operand order of the add) with {@code w} 2-D
 *       {@code [in, out]} and {@code b} exactly {@code [out]} becomes
 *       {@code linear_act(x, permute(w) {perm = [1, 0]}, b) {activation}} (a view: linear's kernel reads
 *       the transposed weight through BLAS flags without copying);</li>
 *   <li>{@code act(conv2d(x, w, b?) {geometry})} becomes {@code conv2d_act(x, w, b?) {geometry, activation}};</li>
 *   <li>the residual block {@code act(add(conv2d(x, w, b?), r))} (either operand order of the add), and the bare
 *       {@code add(conv2d(...), r)} (activation {@code none}), becomes
 *       {@code conv2d_act(x, w, b?, r) {geometry, activation, residual = true}} when {@code r} has exactly the
 *       convolution result's type (no broadcasting; ONNX Runtime's Conv with a sum input).</li>
 * </ul>
 * {@code act} is {@code relu}, {@code sigmoid}, {@code tanh} or {@code gelu} (either approximation). Every
 * intermediate result must have the activation (or the add) as its only use, and sit in the same block. The fused
 * op takes the place of the last op it replaces, where every operand it reads is already defined (a residual
 * computed after the convolution, as a ResNet downsample shortcut is, needs no reordering).
 */
public final class FuseLinearActivation implements Pass {

    private final List<String> fused = new ArrayList<>();

    @Override
    public String name() { return "fuse-linear-act"; }

    /** One line per fusion performed, e.g. {@code linear + relu -> linear_act}, in order. */
    public List<String> fusions() { return List.copyOf(fused); }

    @Override
    public boolean run(Graph graph) { return Pass.rewriteEach(graph.body(), this::fuse); }

    private boolean fuse(Op op) {
        String act = activation(op);
        if (act != null) return tryFuse(op, act);
        return op.name().equals("add") && !feedsActivation(op) && fuseResidual(op, null, "none");
    }

    /** The activation name {@code op} computes, or null when it is not one linear_act supports. */
    static String activation(Op op) {
        return switch (op.name()) {
            case "relu", "sigmoid", "tanh" -> op.name();
            case "gelu" -> ((Attribute.Str) op.attr("approximate")).value().equals("tanh") ? "gelu_tanh" : "gelu";
            default -> null;
        };
    }

    private boolean tryFuse(Op actOp, String act) {
        Op producer = singleUseProducer(actOp.operand(0), actOp);
        if (producer == null) return false;
        switch (producer.name()) {
            case "linear" -> {
                Map<String, Attribute> attrs = Map.of("activation", Attribute.of(act));
                replace(actOp, List.of(producer), Builder.before(actOp).create("linear_act", producer.operands(), attrs));
                fused.add("linear + " + actOp.name() + " -> linear_act");
                return true;
            }
            case "conv2d" -> {
                Map<String, Attribute> attrs = new LinkedHashMap<>(producer.attributes());
                attrs.put("activation", Attribute.of(act));
                replace(actOp, List.of(producer), Builder.before(actOp).create("conv2d_act", producer.operands(), attrs));
                fused.add("conv2d + " + actOp.name() + " -> conv2d_act");
                return true;
            }
            case "add" -> {
                if (fuseResidual(producer, actOp, act)) return true;
                for (int i = 0; i < 2; i++) {
                    Op mm = singleUseProducer(producer.operand(i), producer);
                    if (mm == null || !mm.name().equals("matmul")) continue;
                    Value x = mm.operand(0), w = mm.operand(1), b = producer.operand(1 - i);
                    TensorType wt = w.tensorType(), bt = b.tensorType(), xt = x.tensorType();
                    if (wt.rank() != 2 || xt.rank() < 1 || bt.rank() != 1
                            || !bt.shape().dim(0).equals(wt.shape().dim(1))
                            || !producer.result().type().equals(mm.result().type())) {
                        continue;
                    }
                    Builder at = Builder.before(actOp);
                    Value wT = at.op("permute", Builder.attrs("perm", new long[] {1, 0}), w);
                    Op la = at.create("linear_act", List.of(x, wT, b), Map.of("activation", Attribute.of(act)));
                    if (!la.result().type().equals(actOp.result().type())) { // not expected; undo
                        actOp.parent().erase(la);
                        actOp.parent().erase(wT.definingOp());
                        continue;
                    }
                    replace(actOp, List.of(producer, mm), la);
                    fused.add("matmul + add + " + actOp.name() + " -> linear_act");
                    return true;
                }
                return false;
            }
            default -> {
                return false;
            }
        }
    }

    /** Whether {@code add}'s only use is an activation in its block, which then fuses the add itself. */
    private static boolean feedsActivation(Op add) {
        if (add.result().uses().size() != 1) return false;
        Op user = add.result().uses().get(0).user();
        return user.parent() == add.parent() && activation(user) != null;
    }

    /**
     * Folds {@code add(conv2d(...), r)} (either order), followed by {@code actOp} unless it is null, into one
     * {@code conv2d_act} with residual {@code r}, placed where the last replaced op was.
     */
    private boolean fuseResidual(Op add, Op actOp, String act) {
        for (int i = 0; i < 2; i++) {
            Op conv = singleUseProducer(add.operand(i), add);
            if (conv == null || !conv.name().equals("conv2d")) continue;
            Value r = add.operand(1 - i);
            if (!r.type().equals(conv.result().type()) || !add.result().type().equals(conv.result().type())) continue;
            Map<String, Attribute> attrs = new LinkedHashMap<>(conv.attributes());
            attrs.put("activation", Attribute.of(act));
            attrs.put("residual", Attribute.of(true));
            List<Value> operands = new ArrayList<>(conv.operands());
            operands.add(r);
            Op last = actOp == null ? add : actOp;
            Op fusedOp = Builder.before(last).create("conv2d_act", operands, attrs);
            replace(last, actOp == null ? List.of(conv) : List.of(add, conv), fusedOp);
            fused.add(actOp == null ? "conv2d + add -> conv2d_act (residual)" : "conv2d + add + " + actOp.name() + " -> conv2d_act (residual)");
            return true;
        }
        return false;
    }

    /** The op defining {@code v} when its only use is {@code user} in the same block; otherwise null. */
    private static Op singleUseProducer(Value v, Op user) {
        Op def = v.definingOp();
        if (def == null || def.parent() != user.parent() || def.results().size() != 1 || v.uses().size() != 1) return null;
        return def;
    }

    /** Points the activation's uses at {@code replacement}, then erases the activation and the fused ops (consumers first). */
    private static void replace(Op actOp, List<Op> fusedOps, Op replacement) {
        actOp.result().replaceAllUsesWith(replacement.result());
        Block block = actOp.parent();
        block.erase(actOp);
        for (Op op : fusedOps) block.erase(op);
    }
}
