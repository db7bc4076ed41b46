package dev.kiln.frontend.optim;

import dev.kiln.frontend.Tensor;

import java.util.Map;
import java.util.Set;

/**
 * The Adam update shared by {@link Adam} (L2 weight decay added to the gradient) and {@link AdamW} (decoupled
 * weight decay), following {@code torch.optim.Adam}/{@code AdamW} with {@code t} the step count:
 * {@code m = b1*m + (1-b1)*g}, {@code v = b2*v + (1-b2)*g*g}, {@code vmax = max(vmax, v)} with amsgrad,
 * {@code denom = sqrt(v or vmax) / sqrt(1 - b2^t) + eps}, {@code p -= lr / (1 - b1^t) * m / denom}.
 */
abstract sealed class AdamBase extends Optimizer permits Adam, AdamW {

    record Settings(String optimizer, double beta1, double beta2, double eps, double weightDecay, boolean amsgrad)
            implements Config {
        Settings {
            HyperParameters.unitInterval(optimizer, "beta1", beta1);
            HyperParameters.unitInterval(optimizer, "beta2", beta2);
            HyperParameters.atLeast(optimizer, "eps", eps, 0);
            HyperParameters.atLeast(optimizer, "weight_decay", weightDecay, 0);
        }

        @Override
        public Map<String, Double> toMap() {
            return HyperParameters.of("beta1", beta1, "beta2", beta2, "eps", eps, "weight_decay", weightDecay,
                    "amsgrad", HyperParameters.flag(amsgrad));
        }

        @Override
        public Set<String> bufferNames() {
            return amsgrad ? Set.of("exp_avg", "exp_avg_sq", "max_exp_avg_sq") : Set.of("exp_avg", "exp_avg_sq");
        }
    }

    private final boolean decoupled;
    private Settings settings;

    AdamBase(Iterable<? extends Tensor> params, double lr, Settings settings, boolean decoupled) {
        super(params, lr);
        this.settings = settings;
        this.decoupled = decoupled;
    }

    /** The {@code beta1} hyper-parameter currently in use. */
    public double beta1() { return settings.beta1(); }

    /** The {@code beta2} hyper-parameter currently in use. */
    public double beta2() { return settings.beta2(); }

    /** The {@code eps} hyper-parameter currently in use. */
    public double eps() { return settings.eps(); }

    /** The {@code weightDecay} hyper-parameter currently in use. */
    public double weightDecay() { return settings.weightDecay(); }

    /** The {@code amsgrad} hyper-parameter currently in use. */
    public boolean amsgrad() { return settings.amsgrad(); }

    @Override
    void update(Slot slot, FlatAccess p, FlatAccess grad, long n, double lr, Config config) {
        Settings c = (Settings) config;
        double b1 = c.beta1(), b2 = c.beta2(), eps = c.eps(), wd = c.weightDecay();
        long t = slot.step();
        double stepSize = lr / (1 - Math.pow(b1, t));
        double bc2Sqrt = Math.sqrt(1 - Math.pow(b2, t));
        double decay = decoupled ? 1 - lr * wd : 1;
        double l2 = decoupled ? 0 : wd;
        FlatAccess m = FlatAccess.of(slot.buffer("exp_avg", 0));
        FlatAccess v = FlatAccess.of(slot.buffer("exp_avg_sq", 0));
        FlatAccess vmax = c.amsgrad() ? FlatAccess.of(slot.buffer("max_exp_avg_sq", 0)) : null;
        for (long i = 0; i < n; i++) {
            double pv = p.get(i) * decay;
            double g = grad.get(i) + l2 * pv;
            double mi = b1 * m.get(i) + (1 - b1) * g;
            double vi = b2 * v.get(i) + (1 - b2) * g * g;
            m.set(i, mi);
            v.set(i, vi);
            double second = vi;
            if (vmax != null) {
                second = Math.max(vmax.get(i), vi);
                vmax.set(i, second);
            }
            p.set(i, pv - stepSize * mi / (Math.sqrt(second) / bc2Sqrt + eps));
        }
    }

    @Override
    Config config() { return settings; }

    @Override
    Config parseConfig(Map<String, Double> v) {
        HyperParameters.requireKeys(name(), v, Set.of("beta1", "beta2", "eps", "weight_decay", "amsgrad"));
        return new Settings(name(), HyperParameters.get(v, "beta1"), HyperParameters.get(v, "beta2"),
                HyperParameters.get(v, "eps"), HyperParameters.get(v, "weight_decay"), HyperParameters.flag(v, "amsgrad"));
    }

    @Override
    void setConfig(Config config) { settings = (Settings) config; }
}
