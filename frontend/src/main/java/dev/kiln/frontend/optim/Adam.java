package dev.kiln.frontend.optim;

import dev.kiln.frontend.Tensor;

/**
 * Adam ({@code torch.optim.Adam}): adaptive moment estimation with bias correction, optional AMSGrad, and L2
 * weight decay added to the gradient ({@code g += weightDecay * p}) before the moments. Defaults as PyTorch:
 * lr 1e-3, betas (0.9, 0.999), eps 1e-8, no weight decay. See {@link AdamBase} for the update.
 */
public final class Adam extends AdamBase {

    /** Adam with PyTorch's defaults. */
    public Adam(Iterable<? extends Tensor> params) { this(params, 1e-3); }

    /** Adam with learning rate {@code lr} and PyTorch's other defaults. */
    public Adam(Iterable<? extends Tensor> params, double lr) { this(params, lr, new Settings("Adam", 0.9, 0.999, 1e-8, 0, false)); }

    private Adam(Iterable<? extends Tensor> params, double lr, Settings settings) { super(params, lr, settings, false); }

    /** Options, starting from PyTorch's defaults. */
    public static Builder builder(Iterable<? extends Tensor> params) { return new Builder(params); }

    /** Options for {@link Adam}. */
    public static final class Builder {
        private final Iterable<? extends Tensor> params;
        private double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay;
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

        /** L2 penalty added to the gradient. */
        public Builder weightDecay(double weightDecay) { this.weightDecay = weightDecay; return this; }

        /** Use the maximum of past second moments (AMSGrad). */
        public Builder amsgrad(boolean amsgrad) { this.amsgrad = amsgrad; return this; }

        /** The configured object; invalid settings are an {@link IllegalArgumentException} naming the setting. */
        public Adam build() { return new Adam(params, lr, new Settings("Adam", beta1, beta2, eps, weightDecay, amsgrad)); }
    }
}
