package dev.kiln.frontend.nn;

import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import dev.kiln.runtime.NDArray;

/**
 * Weight initialisers as in {@code torch.nn.init}: each fills a tensor in place (no gradient is
 * recorded) from the default {@link Generator}, and returns it.
 */
public final class Init {

    private Init() {}

    /** Uniform in [low, high). */
    public static Tensor uniform(Tensor t, double low, double high) {
        Generator g = Generator.defaultGenerator();
        return fill(t, i -> low + (high - low) * g.nextUniform());
    }

    /** Normal with the given mean and standard deviation. */
    public static Tensor normal(Tensor t, double mean, double std) {
        Generator g = Generator.defaultGenerator();
        return fill(t, i -> mean + std * g.nextGaussian());
    }

    public static Tensor constant(Tensor t, double value) { return fill(t, i -> value); }

    public static Tensor zeros(Tensor t) { return constant(t, 0); }

    public static Tensor ones(Tensor t) { return constant(t, 1); }

    /** Glorot uniform: ±gain·sqrt(6 / (fan_in + fan_out)). */
    public static Tensor xavierUniform(Tensor t, double gain) {
        long[] fans = fans(t);
        double bound = gain * Math.sqrt(6.0 / (fans[0] + fans[1]));
        return uniform(t, -bound, bound);
    }

    /** Glorot normal: std = gain·sqrt(2 / (fan_in + fan_out)). */
    public static Tensor xavierNormal(Tensor t, double gain) {
        long[] fans = fans(t);
        return normal(t, 0, gain * Math.sqrt(2.0 / (fans[0] + fans[1])));
    }

    /** He uniform for a leaky-ReLU slope {@code a} (0 for ReLU), by fan_in: ±sqrt(6 / ((1 + a²) fan_in)). */
    public static Tensor kaimingUniform(Tensor t, double a) {
        double bound = Math.sqrt(6.0 / ((1 + a * a) * fans(t)[0]));
        return uniform(t, -bound, bound);
    }

    /** He normal for a leaky-ReLU slope {@code a}, by fan_in: std = sqrt(2 / ((1 + a²) fan_in)). */
    public static Tensor kaimingNormal(Tensor t, double a) {
        return normal(t, 0, Math.sqrt(2.0 / ((1 + a * a) * fans(t)[0])));
    }

    /**
     * {@code {fan_in, fan_out}} as PyTorch computes them: dims 1 and 0 times the receptive field
     * (the product of the remaining dims); needs rank >= 2.
     */
    public static long[] fans(Tensor t) {
        if (t.rank() < 2) {
            throw new IllegalArgumentException("fan in and fan out need a tensor of rank >= 2, got shape " + java.util.Arrays.toString(t.shape()));
        }
        long receptive = 1;
        for (int i = 2; i < t.rank(); i++) receptive *= t.dim(i);
        return new long[] {t.dim(1) * receptive, t.dim(0) * receptive};
    }

    /** PyTorch's default for Linear and Conv weights: kaiming_uniform with a = sqrt(5), i.e. ±1/sqrt(fan_in). */
    static Parameter defaultWeight(long... shape) {
        Parameter p = new Parameter(Tensor.zeros(shape));
        kaimingUniform(p, Math.sqrt(5));
        return p;
    }

    /** PyTorch's default bias: uniform in ±1/sqrt(fan_in) of the layer's weight. */
    static Parameter defaultBias(long fanIn, long size) {
        double bound = fanIn > 0 ? 1.0 / Math.sqrt(fanIn) : 0;
        Parameter p = new Parameter(Tensor.zeros(size));
        uniform(p, -bound, bound);
        return p;
    }

    private interface Values {
        double at(long i);
    }

    private static Tensor fill(Tensor t, Values values) {
        NDArray data = t.data();
        for (long i = 0; i < data.numel(); i++) data.setFlat(i, values.at(i));
        t.bumpVersion();
        return t;
    }
}
