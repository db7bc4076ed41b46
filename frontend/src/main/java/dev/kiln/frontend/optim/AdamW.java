package dev.kiln.frontend.optim;

import dev.kiln.frontend.Tensor;

/**
 * AdamW ({@code torch.optim.AdamW}): Adam with decoupled weight decay, {@code p *= 1 - lr * weightDecay} before
 * the Adam update (which then sees the plain gradient). Defaults as PyTorch: lr 1e-3, betas (0.9, 0.999),
 * eps 1e-8, weight decay 1e-2. See {@link AdamBase} for the update.
 */
public final class AdamW extends AdamBase {

    /** AdamW with PyTorch's defaults. */
    public AdamW(Iterable<? extends Tensor> params) { this(params, 1e-3); }

    /** AdamW with learning rate {@code lr} and PyTorch's other defaults. */
    public AdamW(Iterable<? extends Tensor> params, double lr) { this(params, lr, new Settings("AdamW", 0.9, 0.999, 1e-8, 1e-2, false)); }

    private AdamW(Iterable<? extends Tensor> params, double lr, Settings settings) { super(params, lr, settings, true); }

    /** Options, starting from PyTorch's defaults. */
    public static Builder builder(Iterable<? extends Tensor> params) { return new Builder(params); }

    /** Options for {@link AdamW}. */
    public static final class Builder {
        private final Iterable<? extends Tensor> params;
        private double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 1e-2;
        private boolean amsgrad;

        private Builder(Iterable<? extends Tensor> params) { this.params = params; }

        /** The learning rate, {@code >= 0}. */
        public Builder lr(double lr) { this.lr = lr; return this; }

        /** Decay rates of the first and second moment estimates, each in [0, 1). */
        public Builder betas(double beta1, double beta2) {
            this.beta1 = beta1;
            this.beta2 = beta2;
            return this;
        }

        /** Added to the denominator for numerical stability. */
        public Builder eps(double eps) { this.eps = eps; return this; }

        /** Decoupled decay: each step multiplies the parameters by {@code 1 - lr * weightDecay}. */
        public Builder weightDecay(double weightDecay) { this.weightDecay = weightDecay; return this; }

        /** Use the maximum of past second moments (AMSGrad). */
        public Builder amsgrad(boolean amsgrad) { this.amsgrad = amsgrad; return this; }

        /** The configured object; invalid settings are an {@link IllegalArgumentException} naming the setting. */
        public AdamW build() { return new AdamW(params, lr, new Settings("AdamW", beta1, beta2, eps, weightDecay, amsgrad)); }
    }
}
