package dev.kiln.frontend.optim;

import dev.kiln.frontend.Tensor;

import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * RMSprop ({@code torch.optim.RMSprop}): {@code g += wd * p}; {@code sq = alpha*sq + (1-alpha)*g*g}; centered:
 * {@code ga = alpha*ga + (1-alpha)*g}, {@code avg = sqrt(sq - ga*ga) + eps}, else {@code avg = sqrt(sq) + eps};
 * with momentum {@code buf = momentum*buf + g/avg}, {@code p -= lr*buf}, else {@code p -= lr*g/avg}. Defaults as
 * PyTorch: lr 1e-2, alpha 0.99, eps 1e-8, no weight decay or momentum, not centered.
 */
public final class RMSprop extends Optimizer {

    record Settings(double alpha, double eps, double weightDecay, double momentum, boolean centered) implements Config {
        Settings {
            HyperParameters.atLeast("RMSprop", "alpha", alpha, 0);
            HyperParameters.atLeast("RMSprop", "eps", eps, 0);
            HyperParameters.atLeast("RMSprop", "weight_decay", weightDecay, 0);
            HyperParameters.atLeast("RMSprop", "momentum", momentum, 0);
        }

        @Override
        public Map<String, Double> toMap() {
            return HyperParameters.of("alpha", alpha, "eps", eps, "weight_decay", weightDecay, "momentum", momentum,
                    "centered", HyperParameters.flag(centered));
        }

        @Override
        public Set<String> bufferNames() {
            Set<String> names = new LinkedHashSet<>(Set.of("square_avg"));
            if (momentum > 0) names.add("momentum_buffer");
            if (centered) names.add("grad_avg");
            return names;
        }
    }

    private Settings settings;

    /** RMSprop with PyTorch's defaults. */
    public RMSprop(Iterable<? extends Tensor> params) { this(params, 1e-2); }

    /** RMSprop with learning rate {@code lr} and PyTorch's other defaults. */
    public RMSprop(Iterable<? extends Tensor> params, double lr) { this(params, lr, new Settings(0.99, 1e-8, 0, 0, false)); }

    private RMSprop(Iterable<? extends Tensor> params, double lr, Settings settings) {
        super(params, lr);
        this.settings = settings;
    }

    /** Options, starting from PyTorch's defaults. */
    public static Builder builder(Iterable<? extends Tensor> params) { return new Builder(params); }

    /** The {@code alpha} hyper-parameter currently in use. */
    public double alpha() { return settings.alpha(); }

    /** The {@code eps} hyper-parameter currently in use. */
    public double eps() { return settings.eps(); }

    /** The {@code weightDecay} hyper-parameter currently in use. */
    public double weightDecay() { return settings.weightDecay(); }

    /** The {@code momentum} hyper-parameter currently in use. */
    public double momentum() { return settings.momentum(); }

    /** The {@code centered} hyper-parameter currently in use. */
    public boolean centered() { return settings.centered(); }

    @Override
    void update(Slot slot, FlatAccess p, FlatAccess grad, long n, double lr, Config config) {
        Settings c = (Settings) config;
        double alpha = c.alpha(), eps = c.eps(), wd = c.weightDecay(), mu = c.momentum();
        FlatAccess sq = FlatAccess.of(slot.buffer("square_avg", 0));
        FlatAccess ga = c.centered() ? FlatAccess.of(slot.buffer("grad_avg", 0)) : null;
        FlatAccess buf = mu > 0 ? FlatAccess.of(slot.buffer("momentum_buffer", 0)) : null;
        for (long i = 0; i < n; i++) {
            double pv = p.get(i), g = grad.get(i) + wd * pv;
            double s = alpha * sq.get(i) + (1 - alpha) * g * g;
            sq.set(i, s);
            double avg;
            if (ga != null) {
                double a = alpha * ga.get(i) + (1 - alpha) * g;
                ga.set(i, a);
                avg = Math.sqrt(s - a * a) + eps;
            } else {
                avg = Math.sqrt(s) + eps;
            }
            if (buf != null) {
                double b = mu * buf.get(i) + g / avg;
                buf.set(i, b);
                p.set(i, pv - lr * b);
            } else {
                p.set(i, pv - lr * g / avg);
            }
        }
    }

    @Override
    Config config() { return settings; }

    @Override
    Config parseConfig(Map<String, Double> v) {
        HyperParameters.requireKeys(name(), v, Set.of("alpha", "eps", "weight_decay", "momentum", "centered"));
        return new Settings(HyperParameters.get(v, "alpha"), HyperParameters.get(v, "eps"),
                HyperParameters.get(v, "weight_decay"), HyperParameters.get(v, "momentum"), HyperParameters.flag(v, "centered"));
    }

    @Override
    void setConfig(Config config) { settings = (Settings) config; }

    /** Options for {@link RMSprop}. */
    public static final class Builder {
        private final Iterable<? extends Tensor> params;
        private double lr = 1e-2, alpha = 0.99, eps = 1e-8, weightDecay, momentum;
        private boolean centered;

        private Builder(Iterable<? extends Tensor> params) { this.params = params; }

        /** The learning rate, {@code >= 0}. */
        public Builder lr(double lr) { this.lr = lr; return this; }

        /** Smoothing constant of the squared-gradient average. */
        public Builder alpha(double alpha) { this.alpha = alpha; return this; }

        /** Added to the denominator for numerical stability. */
        public Builder eps(double eps) { this.eps = eps; return this; }

        /** L2 penalty added to the gradient: {@code g += weightDecay * p}. */
        public Builder weightDecay(double weightDecay) { this.weightDecay = weightDecay; return this; }

        /** Momentum factor (0: none). */
        public Builder momentum(double momentum) { this.momentum = momentum; return this; }

        /** Normalise by the estimated variance (squared average minus squared mean gradient). */
        public Builder centered(boolean centered) { this.centered = centered; return this; }

        /** The configured object; invalid settings are an {@link IllegalArgumentException} naming the setting. */
        public RMSprop build() { return new RMSprop(params, lr, new Settings(alpha, eps, weightDecay, momentum, centered)); }
    }
}
