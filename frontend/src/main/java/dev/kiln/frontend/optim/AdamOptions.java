package dev.kiln.frontend.optim;

import dev.kiln.frontend.Tensor;

/**
 * The options shared by {@link Adam.Builder} and {@link AdamW.Builder}, starting from PyTorch's
 * defaults; only the default weight decay (and what it means) differs between the two.
 */
abstract class AdamOptions<B extends AdamOptions<B, O>, O extends AdamBase> {

    final Iterable<? extends Tensor> params;
    double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay;
    boolean amsgrad;

    AdamOptions(Iterable<? extends Tensor> params, double defaultWeightDecay) {
        this.params = params;
        this.weightDecay = defaultWeightDecay;
    }

    abstract B self();

    /** The learning rate, {@code >= 0}. */
    public B lr(double lr) { this.lr = lr; return self(); }

    /** Decay rates of the first and second moment estimates, each in [0, 1). */
    public B betas(double beta1, double beta2) {
        this.beta1 = beta1;
        this.beta2 = beta2;
        return self();
    }

    /** Added to the denominator for numerical stability. */
    public B eps(double eps) { this.eps = eps; return self(); }

    /** Weight decay: an L2 term added to the gradient for Adam; decoupled ({@code p *= 1 - lr * wd}) for AdamW. */
    public B weightDecay(double weightDecay) { this.weightDecay = weightDecay; return self(); }

    /** Use the maximum of past second moments (AMSGrad). */
    public B amsgrad(boolean amsgrad) { this.amsgrad = amsgrad; return self(); }

    AdamBase.Settings settings(String optimizer) { return new AdamBase.Settings(optimizer, beta1, beta2, eps, weightDecay, amsgrad); }

    /** The configured optimiser; invalid settings are an {@link IllegalArgumentException} naming the setting. */
    public abstract O build();
}
