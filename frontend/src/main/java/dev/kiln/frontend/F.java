package dev.kiln.frontend;

import dev.kiln.frontend.autograd.Autograd;
import dev.kiln.ir.Attribute;
import dev.kiln.ir.Builder;
import dev.kiln.ir.DType;

import java.util.Map;

/**
 * Functional forms of the nn ops, like {@code torch.nn.functional}. Ops with their own kernels go
 * to the registry; the rest (conv1d, dropout, attention, the losses) are compositions of registry
 * ops, so autograd, tracing and export see ordinary ops.
 */
public final class F {

    private F() {}

    /** How a loss reduces over elements. */
    public enum Reduction { MEAN, SUM, NONE }

    // ---- activations ------------------------------------------------------------------------------

    public static Tensor relu(Tensor x) { return x.relu(); }

    public static Tensor sigmoid(Tensor x) { return x.sigmoid(); }

    public static Tensor tanh(Tensor x) { return x.tanh(); }

    public static Tensor gelu(Tensor x) { return x.gelu(); }

    public static Tensor silu(Tensor x) { return x.silu(); }

    public static Tensor softmax(Tensor x, int axis) { return x.softmax(axis); }

    public static Tensor logSoftmax(Tensor x, int axis) { return x.logSoftmax(axis); }

    // ---- linear and convolution ---------------------------------------------------------------

    /** {@code x @ weight^T + bias} with weight {@code [out, in]}; bias may be null. */
    public static Tensor linear(Tensor x, Tensor weight, Tensor bias) { return call("linear", Map.of(), x, weight, bias); }

    /** 2-D convolution (cross-correlation) over NCHW input; bias may be null. */
    public static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int[] stride, int[] padding, int[] dilation, int groups) {
        return call("conv2d", Builder.attrs("stride", stride, "padding", padding, "dilation", dilation, "groups", groups), x, weight, bias);
    }

    /** 1-D convolution over NCL input, as a 2-D convolution with a unit height. */
    public static Tensor conv1d(Tensor x, Tensor weight, Tensor bias, int stride, int padding, int dilation, int groups) {
        if (x.rank() != 3) throw new IllegalArgumentException("conv1d: input must be [N, C, L], got " + java.util.Arrays.toString(x.shape()));
        if (weight.rank() != 3) throw new IllegalArgumentException("conv1d: weight must be [O, C/groups, K], got " + java.util.Arrays.toString(weight.shape()));
        Tensor y = conv2d(x.unsqueeze(2), weight.unsqueeze(2), bias, new int[] {1, stride}, new int[] {0, padding},
                new int[] {1, dilation}, groups);
        return y.squeeze(2);
    }

    /** Transposed 2-D convolution; weight {@code [C_in, C_out/groups, kH, kW]}; bias may be null. */
    public static Tensor convTranspose2d(Tensor x, Tensor weight, Tensor bias, int[] stride, int[] padding, int[] outputPadding,
                                         int[] dilation, int groups) {
        return call("conv_transpose2d", Builder.attrs("stride", stride, "padding", padding, "output_padding", outputPadding,
                "dilation", dilation, "groups", groups), x, weight, bias);
    }

    // ---- pooling --------------------------------------------------------------------------------

    public static Tensor maxPool2d(Tensor x, int[] kernelSize, int[] stride, int[] padding, int[] dilation, boolean ceilMode) {
        return Dispatch.call("max_pool2d", Builder.attrs("kernel_size", kernelSize, "stride", stride, "padding", padding,
                "dilation", dilation, "ceil_mode", ceilMode), x);
    }

    public static Tensor avgPool2d(Tensor x, int[] kernelSize, int[] stride, int[] padding, boolean ceilMode, boolean countIncludePad) {
        return Dispatch.call("avg_pool2d", Builder.attrs("kernel_size", kernelSize, "stride", stride, "padding", padding,
                "ceil_mode", ceilMode, "count_include_pad", countIncludePad), x);
    }

    public static Tensor adaptiveAvgPool2d(Tensor x, int[] outputSize) {
        return Dispatch.call("adaptive_avg_pool2d", Builder.attrs("output_size", outputSize), x);
    }

    // ---- normalisation, dropout, embedding ------------------------------------------------------

    /** Normalises channel dim 1 with the given statistics; weight and bias ({@code [C]}) may be null. */
    public static Tensor batchNorm(Tensor x, Tensor mean, Tensor var, Tensor weight, Tensor bias, double eps) {
        return call("batch_norm", Builder.attrs("eps", eps), x, mean, var, weight, bias);
    }

    /** Normalises over the trailing {@code normalizedDims} dims; weight and bias may be null. */
    public static Tensor layerNorm(Tensor x, int normalizedDims, Tensor weight, Tensor bias, double eps) {
        return call("layer_norm", Builder.attrs("normalized_dims", normalizedDims, "eps", eps), x, weight, bias);
    }

    public static Tensor groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, double eps) {
        return call("group_norm", Builder.attrs("groups", groups, "eps", eps), x, weight, bias);
    }

    /** Zeroes elements with probability {@code p} and scales the rest by 1/(1-p) when training; identity otherwise. */
    public static Tensor dropout(Tensor x, double p, boolean training) {
        if (p < 0 || p > 1) throw new IllegalArgumentException("dropout: p must be in [0, 1], got " + p);
        if (!training || p == 0) return x;
        Tensor mask;
        try (var _ = Autograd.noGrad()) {
            mask = Dispatch.call("dropout_mask", Builder.attrs("p", p), x.detach());
        }
        return x.mul(mask);
    }

    /**
     * Rows of {@code weight} picked by integer {@code indices}. {@code paddingIdx} is -1 for none, or a
     * row (negative values count from the end, as in PyTorch) that receives no gradient.
     */
    public static Tensor embedding(Tensor indices, Tensor weight, long paddingIdx) {
        long rows = weight.dim(0);
        long padding = paddingIdx < -1 ? paddingIdx + rows : paddingIdx;
        return Dispatch.call("embedding", Builder.attrs("padding_idx", padding), weight, indices.to(DType.I64));
    }

    /**
     * Attention {@code softmax(q k^T / sqrt(d) + mask) v} over the last two dims. {@code mask} may be
     * null, a bool tensor (true = may attend) or a float tensor added to the scores; {@code causal}
     * masks out later positions. Where no gradient is needed and dropout is off, it is the one {@code attention} op
     * (a single fused kernel on f32); otherwise the ops it is made of, which autograd differentiates.
     */
    public static Tensor scaledDotProductAttention(Tensor q, Tensor k, Tensor v, Tensor mask, boolean causal, double dropoutP,
                                                   boolean training) {
        if (fusedAttentionApplies(q, k, v, mask, dropoutP, training)) {
            Map<String, Attribute> attrs = Builder.attrs("scale", 1 / Math.sqrt(q.dim(-1)), "causal", causal);
            return mask == null ? Dispatch.call("attention", attrs, q, k, v) : Dispatch.call("attention", attrs, q, k, v, mask);
        }
        long l = q.dim(-2), s = k.dim(-2);
        Tensor scores = q.matmul(k.transpose(-2, -1)).div(Math.sqrt(q.dim(-1)));
        if (causal) {
            Tensor allowed = Tensor.ones(DType.BOOL, l, s).tril(0);
            scores = Tensor.where(allowed, scores, Tensor.scalar(scores.dtype(), Double.NEGATIVE_INFINITY));
        }
        if (mask != null) {
            scores = mask.dtype() == DType.BOOL
                    ? Tensor.where(mask, scores, Tensor.scalar(scores.dtype(), Double.NEGATIVE_INFINITY))
                    : scores.add(mask);
        }
        return dropout(scores.softmax(-1), dropoutP, training).matmul(v);
    }

    /** No gradient to record, no dropout, and operands the {@code attention} op takes as they are (no broadcasting). */
    private static boolean fusedAttentionApplies(Tensor q, Tensor k, Tensor v, Tensor mask, double dropoutP, boolean training) {
        if (training && dropoutP > 0) return false;
        boolean grad = q.requiresGrad() || k.requiresGrad() || v.requiresGrad() || (mask != null && mask.requiresGrad());
        if (grad && Autograd.isGradEnabled()) return false;
        int rank = q.rank();
        if (rank < 2 || k.rank() != rank || v.rank() != rank || !q.dtype().isFloatingPoint() || k.dtype() != q.dtype() || v.dtype() != q.dtype()) return false;
        for (int d = 0; d < rank - 2; d++) if (k.dim(d) != q.dim(d) || v.dim(d) != q.dim(d)) return false;
        if (k.dim(-1) != q.dim(-1) || v.dim(-2) != k.dim(-2)) return false;
        if (mask == null) return true;
        if (mask.dtype() != DType.BOOL && mask.dtype() != q.dtype()) return false;
        long[] scores = q.shape().clone();
        scores[rank - 1] = k.dim(-2);
        long[] m = mask.shape();
        if (m.length > rank) return false;
        for (int i = 0; i < m.length; i++) {
            long target = scores[rank - m.length + i];
            if (m[i] != target && m[i] != 1) return false;
        }
        return true;
    }

    // ---- losses ---------------------------------------------------------------------------------

    /**
     * Cross entropy of logits {@code [N, C, ...]} against i64 class indices {@code [N, ...]}, with
     * optional label smoothing: {@code -(1-ε) log p[y] - ε/C Σ_c log p[c]}.
     */
    public static Tensor crossEntropy(Tensor logits, Tensor target, double labelSmoothing, Reduction reduction) {
        if (labelSmoothing < 0 || labelSmoothing > 1) {
            throw new IllegalArgumentException("cross_entropy: label smoothing must be in [0, 1], got " + labelSmoothing);
        }
        Tensor logp = logits.logSoftmax(1);
        Tensor nll = nllPerElement(logp, target);
        if (labelSmoothing == 0) return reduce(nll, reduction);
        Tensor smooth = logp.mean(1, false).neg();
        return reduce(nll.mul(1 - labelSmoothing).add(smooth.mul(labelSmoothing)), reduction);
    }

    public static Tensor crossEntropy(Tensor logits, Tensor target) { return crossEntropy(logits, target, 0, Reduction.MEAN); }

    /** Negative log-likelihood of log-probabilities {@code [N, C, ...]} at i64 targets {@code [N, ...]}. */
    public static Tensor nllLoss(Tensor logProbs, Tensor target, Reduction reduction) {
        return reduce(nllPerElement(logProbs, target), reduction);
    }

    public static Tensor mseLoss(Tensor input, Tensor target, Reduction reduction) {
        Tensor d = input.sub(target);
        return reduce(d.mul(d), reduction);
    }

    public static Tensor l1Loss(Tensor input, Tensor target, Reduction reduction) {
        return reduce(input.sub(target).abs(), reduction);
    }

    /** Binary cross entropy of probabilities; the logs are clamped at -100, as PyTorch does. */
    public static Tensor binaryCrossEntropy(Tensor probs, Tensor target, Reduction reduction) {
        Tensor logP = probs.log().clamp(-100, Double.POSITIVE_INFINITY);
        Tensor log1mP = probs.neg().add(1.0).log().clamp(-100, Double.POSITIVE_INFINITY);
        return reduce(target.mul(logP).add(target.neg().add(1.0).mul(log1mP)).neg(), reduction);
    }

    /** Binary cross entropy on logits, in the stable form {@code max(x,0) - x y + log(1 + exp(-|x|))}. */
    public static Tensor binaryCrossEntropyWithLogits(Tensor logits, Tensor target, Reduction reduction) {
        Tensor loss = logits.relu().sub(logits.mul(target)).add(logits.abs().neg().exp().log1p());
        return reduce(loss, reduction);
    }

    private static Tensor nllPerElement(Tensor logp, Tensor target) {
        if (logp.rank() < 2) throw new IllegalArgumentException("nll: input must be [N, C, ...], got " + java.util.Arrays.toString(logp.shape()));
        if (target.rank() != logp.rank() - 1 || target.dim(0) != logp.dim(0)) {
            throw new IllegalArgumentException("nll: target shape " + java.util.Arrays.toString(target.shape())
                    + " does not match input " + java.util.Arrays.toString(logp.shape()) + " (expected the input shape without dim 1)");
        }
        if (target.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("nll: target must hold class indices (an integer dtype), got " + target.dtype());
        }
        return logp.gather(1, target.unsqueeze(1)).squeeze(1).neg();
    }

    private static Tensor reduce(Tensor loss, Reduction reduction) {
        return switch (reduction) {
            case MEAN -> loss.mean();
            case SUM -> loss.sum();
            case NONE -> loss;
        };
    }

    // ---- einsum ---------------------------------------------------------------------------------

    /** {@code torch.einsum} for two operands (or one), as products, sums and permutations. */
    public static Tensor einsum(String equation, Tensor... operands) { return Einsum.evaluate(equation, operands); }

    private static Tensor call(String op, Map<String, dev.kiln.ir.Attribute> attrs, Tensor x, Tensor... optional) {
        int n = 1;
        while (n - 1 < optional.length && optional[n - 1] != null) n++;
        for (int i = n - 1; i < optional.length; i++) {
            if (optional[i] != null) throw new IllegalArgumentException(op + ": optional inputs may only be omitted from the end");
        }
        Tensor[] inputs = new Tensor[n];
        inputs[0] = x;
        System.arraycopy(optional, 0, inputs, 1, n - 1);
        return Dispatch.call(op, attrs, inputs);
    }
}
