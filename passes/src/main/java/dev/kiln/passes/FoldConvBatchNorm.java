package dev.kiln.passes;

import dev.kiln.ir.Attribute;
import dev.kiln.ir.Builder;
import dev.kiln.ir.DType;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Op;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;
import dev.kiln.runtime.Interpreter;
import dev.kiln.runtime.NDArray;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Folds an inference-mode {@code batch_norm} into the {@code conv2d} (or 2-D {@code linear}) that feeds it:
 * {@code batch_norm(conv2d(x, w, b?), mean, var, gamma?, beta?) {eps}} becomes {@code conv2d(x, w', b')} with
 * {@code scale[c] = gamma[c] / sqrt(var[c] + eps)}, {@code w'[c, ...] = w[c, ...] * scale[c]} and
 * {@code b'[c] = (b[c] - mean[c]) * scale[c] + beta[c]}. For {@code linear} the BN must normalise a
 * {@code [N, C]} output (rank 2), so that channel {@code c} is the weight's output row.
 *
 * <p>Folding needs numbers, and the IR holds weight declarations only. So the pass is constructed with the
 * weight data the graph will run with (the traced/compiled function's name-to-array map). Operands may be
 * graph weights with data in that map or {@code constant} ops; anything else (an input, a computed value, a
 * weight without data) leaves the pattern alone. The conv result must have no other use. A batch norm with known
 * statistics and no producer to fold into becomes a per-channel {@code mul} and {@code add} instead (see
 * {@link #toAffine}).
 *
 * <p><b>How folded weights are handed back:</b> the pass never mutates the caller's map or arrays. It keeps
 * its own copy, declares each folded weight and bias as a <em>new</em> graph weight (named after the
 * original weight with a {@code .bn_folded} suffix, made unique), records its data in that copy, and removes
 * the weights that lost their last use from both the graph and the copy. After {@link #run(Graph)},
 * {@link #weights()} is the map to run the rewritten graph with (it holds data for every weight the graph
 * declares, plus whatever unrelated entries the caller passed in). New weights rather than overwritten ones
 * keep a weight shared with another op correct. Arithmetic is in double, stored in the weight's dtype.
 */
public final class FoldConvBatchNorm implements Pass {

    private final Map<String, NDArray> weights;
    private final List<String> folds = new ArrayList<>();

    /** {@code weights}: the data bound to the graph's weights by name; copied, never modified. */
    public FoldConvBatchNorm(Map<String, NDArray> weights) {
        this.weights = new LinkedHashMap<>(weights);
    }

    @Override
    public String name() { return "fold-conv-bn"; }

    /** The weight data to run the rewritten graph with: the input map, plus folded weights, minus removed ones. */
    public Map<String, NDArray> weights() { return Collections.unmodifiableMap(weights); }

    /** One line per fold performed, e.g. {@code conv2d(@conv.weight) + batch_norm -> @conv.weight.bn_folded}. */
    public List<String> folds() { return Collections.unmodifiableList(folds); }

    @Override
    public boolean run(Graph graph) {
        return Pass.rewriteEach(graph.body(), op -> op.name().equals("batch_norm") && (tryFold(graph, op) || toAffine(graph, op)));
    }

    private boolean tryFold(Graph graph, Op bn) {
        Op producer = bn.operand(0).definingOp();
        if (producer == null || producer.parent() != bn.parent() || producer.result().uses().size() != 1) return false;
        boolean conv = producer.name().equals("conv2d");
        boolean linear = producer.name().equals("linear") && producer.result().tensorType().rank() == 2;
        if (!conv && !linear) return false;
        TensorType wType = producer.operand(1).tensorType();
        if (!wType.dtype().isFloatingPoint()) return false;

        NDArray w = data(producer.operand(1));
        NDArray b = producer.operandCount() > 2 ? data(producer.operand(2)) : null;
        NDArray mean = data(bn.operand(1)), var = data(bn.operand(2));
        NDArray gamma = bn.operandCount() > 3 ? data(bn.operand(3)) : null;
        NDArray beta = bn.operandCount() > 4 ? data(bn.operand(4)) : null;
        if (w == null || mean == null || var == null
                || (producer.operandCount() > 2 && b == null)
                || (bn.operandCount() > 3 && gamma == null)
                || (bn.operandCount() > 4 && beta == null)) {
            return false;
        }
        int channels = (int) w.dim(0);
        double eps = bn.floatAttr("eps");
        double[] m = mean.toDoubleArray(), v = var.toDoubleArray();
        double[] g = gamma == null ? null : gamma.toDoubleArray(), be = beta == null ? null : beta.toDoubleArray();
        double[] bias = b == null ? new double[channels] : b.toDoubleArray();
        if (m.length != channels || v.length != channels) return false;

        double[] scale = new double[channels];
        NDArray newBias = NDArray.zeros(wType.dtype(), channels);
        for (int c = 0; c < channels; c++) {
            scale[c] = (g == null ? 1.0 : g[c]) / Math.sqrt(v[c] + eps);
            newBias.setFlat(c, (bias[c] - m[c]) * scale[c] + (be == null ? 0.0 : be[c]));
        }
        NDArray newW = scaledPerChannel(w, scale);

        String base = producer.operand(1).kind() == Value.Kind.WEIGHT ? producer.operand(1).name() : "folded";
        String wName = fresh(graph, base + ".bn_folded");
        Value wValue = graph.addWeight(wName, wType);
        weights.put(wName, newW);
        String bName = fresh(graph, (base.endsWith(".weight") ? base.substring(0, base.length() - 7) + ".bias" : base + ".bias")
                + ".bn_folded");
        Value bValue = graph.addWeight(bName, new TensorType(wType.dtype(), dev.kiln.ir.Shape.of(channels)));
        weights.put(bName, newBias);

        Map<String, Attribute> attrs = producer.attributes();
        Op fused = Builder.before(producer).create(producer.name(), List.of(producer.operand(0), wValue, bValue), attrs);
        bn.result().replaceAllUsesWith(fused.result());
        Set<Value> released = new LinkedHashSet<>();
        released.addAll(bn.operands());
        released.addAll(producer.operands());
        folds.add(producer.name() + "(" + (producer.operand(1).kind() == Value.Kind.WEIGHT ? "@" + base : "constant")
                + ") + batch_norm -> @" + wName + ", @" + bName);
        bn.parent().erase(bn);
        producer.parent().erase(producer);
        for (Value r : released) {
            if (r.kind() == Value.Kind.WEIGHT && !r.hasUses() && graph.weights().get(r.name()) == r) {
                graph.removeWeight(r.name());
                weights.remove(r.name());
            }
        }
        return true;
    }

    /**
     * A batch norm with known statistics that no producer can absorb (after a {@code cat}, an input, a shared
     * conv: DenseNet's pre-activation blocks) becomes {@code x * scale + shift} with per-channel weights of shape
     * {@code [C, 1, ...]} ({@code scale[c] = gamma[c] / sqrt(var[c] + eps)},
     * {@code shift[c] = beta[c] - mean[c] * scale[c]}): plain elementwise ops that fuse with what follows (the
     * ReLU of pre-activation blocks) into one generated loop, where the reference kernel ran on its own.
     */
    private boolean toAffine(Graph graph, Op bn) {
        TensorType xType = bn.operand(0).tensorType();
        if (!xType.dtype().isFloatingPoint() || xType.rank() < 2) return false;
        NDArray mean = data(bn.operand(1)), var = data(bn.operand(2));
        NDArray gamma = bn.operandCount() > 3 ? data(bn.operand(3)) : null;
        NDArray beta = bn.operandCount() > 4 ? data(bn.operand(4)) : null;
        if (mean == null || var == null || (bn.operandCount() > 3 && gamma == null) || (bn.operandCount() > 4 && beta == null)) {
            return false;
        }
        double[] m = mean.toDoubleArray(), v = var.toDoubleArray();
        double[] g = gamma == null ? null : gamma.toDoubleArray(), be = beta == null ? null : beta.toDoubleArray();
        int channels = m.length;
        if (v.length != channels || (g != null && g.length != channels) || (be != null && be.length != channels)) return false;
        long[] shape = new long[xType.rank() - 1];
        java.util.Arrays.fill(shape, 1);
        shape[0] = channels;
        NDArray scale = NDArray.zeros(xType.dtype(), shape), shift = NDArray.zeros(xType.dtype(), shape);
        double eps = bn.floatAttr("eps");
        for (int c = 0; c < channels; c++) {
            double sc = (g == null ? 1.0 : g[c]) / Math.sqrt(v[c] + eps);
            scale.setFlat(c, sc);
            shift.setFlat(c, (be == null ? 0.0 : be[c]) - m[c] * sc);
        }
        String base = bn.operand(1).kind() == Value.Kind.WEIGHT ? bn.operand(1).name() : "batch_norm";
        if (base.endsWith(".running_mean")) base = base.substring(0, base.length() - ".running_mean".length());
        TensorType paramType = new TensorType(xType.dtype(), dev.kiln.ir.Shape.of(shape));
        String scaleName = fresh(graph, base + ".bn_scale"), shiftName = fresh(graph, base + ".bn_shift");
        Value scaleValue = graph.addWeight(scaleName, paramType), shiftValue = graph.addWeight(shiftName, paramType);
        weights.put(scaleName, scale);
        weights.put(shiftName, shift);
        Builder b = Builder.before(bn);
        Op mul = b.create("mul", List.of(bn.operand(0), scaleValue), Map.of());
        Op add = b.create("add", List.of(mul.result(), shiftValue), Map.of());
        bn.result().replaceAllUsesWith(add.result());
        Set<Value> released = new LinkedHashSet<>(bn.operands());
        bn.parent().erase(bn);
        folds.add("batch_norm(" + base + ") -> mul @" + scaleName + ", add @" + shiftName);
        for (Value r : released) {
            if (r.kind() == Value.Kind.WEIGHT && !r.hasUses() && graph.weights().get(r.name()) == r) {
                graph.removeWeight(r.name());
                weights.remove(r.name());
            }
        }
        return true;
    }

    /** The data of a weight (from the map) or of a tensor {@code constant}; null when unknown. */
    private NDArray data(Value v) {
        if (v.kind() == Value.Kind.WEIGHT) {
            if (!v.tensorType().shape().isStatic()) return null;
            NDArray a = weights.get(v.name());
            return a != null && java.util.Arrays.equals(a.shape(), v.tensorType().shape().toArray()) ? a : null;
        }
        Op def = v.definingOp();
        if (def != null && def.name().equals("constant") && def.attr("value") instanceof Attribute.Tensor t) {
            return Interpreter.fromBytes(t.type(), t.data());
        }
        return null;
    }

    private String fresh(Graph graph, String name) {
        String n = name;
        for (int i = 2; graph.weights().containsKey(n) || weights.containsKey(n); i++) n = name + i;
        return n;
    }

    /** {@code w} with each output channel (dim 0) multiplied by {@code scale[c]}, rounded once to w's dtype. */
    private static NDArray scaledPerChannel(NDArray w, double[] scale) {
        long perChannel = w.numel() / scale.length;
        if (w.dtype() == DType.F32) { // the common case, through plain arrays: the generic path is per-element dispatch
            float[] wf = w.toFloatArray();
            for (int i = 0; i < wf.length; i++) wf[i] = (float) (wf[i] * scale[(int) (i / perChannel)]);
            return NDArray.of(wf, w.shape());
        }
        double[] wd = w.toDoubleArray();
        NDArray out = NDArray.zeros(w.dtype(), w.shape());
        for (int i = 0; i < wd.length; i++) out.setFlat(i, wd[i] * scale[(int) (i / perChannel)]);
        return out;
    }
}
