package dev.kiln.frontend.optim;

import dev.kiln.frontend.Tensor;

import java.util.Map;
import java.util.Set;

/**
 * Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and L2 weight decay, following
 * {@code torch.optim.SGD} exactly: {@code g = grad + wd * p}; with momentum, {@code buf = g} on the first step and
 * {@code buf = momentum * buf + (1 - dampening) * g} after, then {@code g = g + momentum * buf} (Nesterov) or
 * {@code g = buf}; finally {@code p -= lr * g}.
 */
public final class SGD extends Optimizer {

    record Settings(double momentum, double dampening, boolean nesterov, double weightDecay) implements Config {
        Settings {
            HyperParameters.atLeast("SGD", "momentum", momentum, 0);
            if (!Double.isFinite(dampening)) throw new IllegalArgumentException("SGD: dampening must be finite, got " + dampening);
            HyperParameters.atLeast("SGD", "weight_decay", weightDecay, 0);
            if (nesterov && (momentum <= 0 || dampening != 0)) {
                throw new IllegalArgumentException("SGD: nesterov momentum requires momentum > 0 and dampening == 0, got"
                        + " momentum " + momentum + " and dampening " + dampening);
            }
        }

        @Override
        public Map<String, Double> toMap() {
            return HyperParameters.of("momentum", momentum, "dampening", dampening, "nesterov",
                    HyperParameters.flag(nesterov), "weight_decay", weightDecay);
        }

        @Override
        public Set<String> bufferNames() { return momentum != 0 ? Set.of("momentum_buffer") : Set.of(); }
    }

    private Settings settings;

    /** Plain SGD with learning rate {@code lr} (no momentum, no weight decay). */
    public SGD(Iterable<? extends Tensor> params, double lr) { this(params, lr, new Settings(0, 0, false, 0)); }

    private SGD(Iterable<? extends Tensor> params, double lr, Settings settings) {
        super(params, lr);
        this.settings = settings;
    }

    /** A builder; {@code lr} is required, as in PyTorch. */
    public static Builder builder(Iterable<? extends Tensor> params, double lr) { return new Builder(params, lr); }

    /** The {@code momentum} hyper-parameter currently in use. */
    public double momentum() { return settings.momentum(); }

    /** The {@code dampening} hyper-parameter currently in use. */
    public double dampening() { return settings.dampening(); }

    /** The {@code nesterov} hyper-parameter currently in use. */
    public boolean nesterov() { return settings.nesterov(); }

    /** The {@code weightDecay} hyper-parameter currently in use. */
    public double weightDecay() { return settings.weightDecay(); }

    @Override
    void update(Slot slot, FlatAccess p, FlatAccess grad, long n, double lr, Config config) {
        Settings c = (Settings) config;
        double wd = c.weightDecay(), mu = c.momentum(), damp = c.dampening();
        if (mu == 0) {
            for (long i = 0; i < n; i++) {
                double pv = p.get(i), g = grad.get(i) + wd * pv;
                p.set(i, pv - lr * g);
            }
            return;
        }
        boolean first = slot.buffer("momentum_buffer") == null;
        FlatAccess buf = FlatAccess.of(slot.buffer("momentum_buffer", 0));
        for (long i = 0; i < n; i++) {
            double pv = p.get(i), g = grad.get(i) + wd * pv;
            double b = first ? g : mu * buf.get(i) + (1 - damp) * g;
            buf.set(i, b);
            g = c.nesterov() ? g + mu * b : b;
            p.set(i, pv - lr * g);
        }
    }

    @Override
    Config config() { return settings; }

    @Override
    Config parseConfig(Map<String, Double> v) {
        HyperParameters.requireKeys(name(), v, Set.of("momentum", "dampening", "nesterov", "weight_decay"));
        return new Settings(HyperParameters.get(v, "momentum"), HyperParameters.get(v, "dampening"),
                HyperParameters.flag(v, "nesterov"), HyperParameters.get(v, "weight_decay"));
    }

    @Override
    void setConfig(Config config) { settings = (Settings) config; }

    /** Options for {@link SGD}; defaults as PyTorch (all zero, no Nesterov). */
    public static final class Builder {
        private final Iterable<? extends Tensor> params;
        private final double lr;
        private double momentum, dampening, weightDecay;
        private boolean nesterov;

        private Builder(Iterable<? extends Tensor> params, double lr) {
            this.params = params;
            this.lr = lr;
        }

        /** Momentum factor (0: none). */
        public Builder momentum(double momentum) { this.momentum = momentum; return this; }

        /** Dampening of the momentum (not applied on the first step). */
        public Builder dampening(double dampening) { this.dampening = dampening; return this; }

        /** Nesterov momentum; needs momentum > 0 and dampening 0. */
        public Builder nesterov(boolean nesterov) { this.nesterov = nesterov; return this; }

        /** L2 penalty added to the gradient: {@code g += weightDecay * p}. */
        public Builder weightDecay(double weightDecay) { this.weightDecay = weightDecay; return this; }

        /** The optimizer; invalid settings are an {@link IllegalArgumentException} naming the setting. */
        public SGD build() { return new SGD(params, lr, new Settings(momentum, dampening, nesterov, weightDecay)); }
    }
}
