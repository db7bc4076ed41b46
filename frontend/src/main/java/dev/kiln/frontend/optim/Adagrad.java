package dev.kiln.frontend.optim;

import dev.kiln.frontend.Tensor;

import java.util.Map;
import java.util.Set;

/**
 * Adagrad ({@code torch.optim.Adagrad}), with {@code t} the step count: {@code g += wd * p};
 * {@code clr = lr / (1 + (t-1) * lrDecay)}; {@code sum += g*g} (starting from {@code initialAccumulatorValue});
 * {@code p -= clr * g / (sqrt(sum) + eps)}. Defaults as PyTorch: lr 1e-2, no lr decay or weight decay,
 * accumulator 0, eps 1e-10.
 */
public final class Adagrad extends Optimizer {

    record Settings(double lrDecay, double weightDecay, double initialAccumulatorValue, double eps) implements Config {
        Settings {
            HyperParameters.atLeast("Adagrad", "lr_decay", lrDecay, 0);
            HyperParameters.atLeast("Adagrad", "weight_decay", weightDecay, 0);
            HyperParameters.atLeast("Adagrad", "initial_accumulator_value", initialAccumulatorValue, 0);
            HyperParameters.atLeast("Adagrad", "eps", eps, 0);
        }

        @Override
        public Map<String, Double> toMap() {
            return HyperParameters.of("lr_decay", lrDecay, "weight_decay", weightDecay, "initial_accumulator_value",
                    initialAccumulatorValue, "eps", eps);
        }

        @Override
        public Set<String> bufferNames() { return Set.of("sum"); }
    }

    private Settings settings;

    /** Adagrad with PyTorch's defaults. */
    public Adagrad(Iterable<? extends Tensor> params) { this(params, 1e-2); }

    /** Adagrad with learning rate {@code lr} and PyTorch's other defaults. */
    public Adagrad(Iterable<? extends Tensor> params, double lr) { this(params, lr, new Settings(0, 0, 0, 1e-10)); }

    private Adagrad(Iterable<? extends Tensor> params, double lr, Settings settings) {
        super(params, lr);
        this.settings = settings;
    }

    /** Options, starting from PyTorch's defaults. */
    public static Builder builder(Iterable<? extends Tensor> params) { return new Builder(params); }

    /** The {@code lrDecay} hyper-parameter currently in use. */
    public double lrDecay() { return settings.lrDecay(); }

    /** The {@code weightDecay} hyper-parameter currently in use. */
    public double weightDecay() { return settings.weightDecay(); }

    /** The {@code initialAccumulatorValue} hyper-parameter currently in use. */
    public double initialAccumulatorValue() { return settings.initialAccumulatorValue(); }

    /** The {@code eps} hyper-parameter currently in use. */
    public double eps() { return settings.eps(); }

    @Override
    void update(Slot slot, FlatAccess p, FlatAccess grad, long n, double lr, Config config) {
        Settings c = (Settings) config;
        double wd = c.weightDecay(), eps = c.eps();
        double clr = lr / (1 + (slot.step() - 1) * c.lrDecay());
        FlatAccess sum = FlatAccess.of(slot.buffer("sum", c.initialAccumulatorValue()));
        for (long i = 0; i < n; i++) {
            double pv = p.get(i), g = grad.get(i) + wd * pv;
            double s = sum.get(i) + g * g;
            sum.set(i, s);
            p.set(i, pv - clr * g / (Math.sqrt(s) + eps));
        }
    }

    @Override
    Config config() { return settings; }

    @Override
    Config parseConfig(Map<String, Double> v) {
        HyperParameters.requireKeys(name(), v, Set.of("lr_decay", "weight_decay", "initial_accumulator_value", "eps"));
        return new Settings(HyperParameters.get(v, "lr_decay"), HyperParameters.get(v, "weight_decay"),
                HyperParameters.get(v, "initial_accumulator_value"), HyperParameters.get(v, "eps"));
    }

    @Override
    void setConfig(Config config) { settings = (Settings) config; }

    /** Options for {@link Adagrad}. */
    public static final class Builder {
        private final Iterable<? extends Tensor> params;
        private double lr = 1e-2, lrDecay, weightDecay, initialAccumulatorValue, eps = 1e-10;

        private Builder(Iterable<? extends Tensor> params) { this.params = params; }

        /** The learning rate, {@code >= 0}. */
        public Builder lr(double lr) { this.lr = lr; return this; }

        /** Step {@code t} uses {@code lr / (1 + (t - 1) * lrDecay)}. */
        public Builder lrDecay(double lrDecay) { this.lrDecay = lrDecay; return this; }

        /** L2 penalty added to the gradient: {@code g += weightDecay * p}. */
        public Builder weightDecay(double weightDecay) { this.weightDecay = weightDecay; return this; }

        /** Starting value of the squared-gradient sum. */
        public Builder initialAccumulatorValue(double value) { this.initialAccumulatorValue = value; return this; }

        /** Added to the denominator for numerical stability. */
        public Builder eps(double eps) { this.eps = eps; return this; }

        /** The configured object; invalid settings are an {@link IllegalArgumentException} naming the setting. */
        public Adagrad build() { return new Adagrad(params, lr, new Settings(lrDecay, weightDecay, initialAccumulatorValue, eps)); }
    }
}
