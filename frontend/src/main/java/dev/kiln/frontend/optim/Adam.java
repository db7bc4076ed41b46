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
    public static final class Builder extends AdamOptions<Builder, Adam> {

        private Builder(Iterable<? extends Tensor> params) { super(params, 0); }

        @Override
        Builder self() { return this; }

        @Override
        public Adam build() { return new Adam(params, lr, settings("Adam")); }
    }
}
