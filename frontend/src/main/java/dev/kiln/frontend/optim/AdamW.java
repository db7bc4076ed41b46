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
    public static final class Builder extends AdamOptions<Builder, AdamW> {

        private Builder(Iterable<? extends Tensor> params) { super(params, 1e-2); }

        @Override
        Builder self() { return this; }

        @Override
        public AdamW build() { return new AdamW(params, lr, settings("AdamW")); }
    }
}
