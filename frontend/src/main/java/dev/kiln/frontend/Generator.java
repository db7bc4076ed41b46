package dev.kiln.frontend;

import java.util.SplittableRandom;

/**
 * A seeded source of random numbers for tensor creation and weight initialisation. Layers draw from
 * the default generator, which {@link #manualSeed(long)} resets, as {@code torch.manual_seed} does.
 */
public final class Generator {

    private static Generator defaultGenerator = new Generator(0);

    private final SplittableRandom random;
    private double spareGaussian = Double.NaN;

    public Generator(long seed) { this.random = new SplittableRandom(seed); }

    /**
     * Reseeds the default generator and the runtime's random source (dropout masks), so that later
     * initialisations and training runs repeat exactly.
     */
    public static synchronized void manualSeed(long seed) {
        defaultGenerator = new Generator(seed);
        dev.kiln.runtime.RandomSource.manualSeed(seed);
    }

    public static synchronized Generator defaultGenerator() { return defaultGenerator; }

    /** Uniform in [0, 1). */
    public synchronized double nextUniform() { return random.nextDouble(); }

    /** Standard normal (Box-Muller, caching the second value). */
    public synchronized double nextGaussian() {
        if (!Double.isNaN(spareGaussian)) {
            double g = spareGaussian;
            spareGaussian = Double.NaN;
            return g;
        }
        double u1 = 1.0 - random.nextDouble(), u2 = random.nextDouble();
        double r = Math.sqrt(-2.0 * Math.log(u1));
        spareGaussian = r * Math.sin(2 * Math.PI * u2);
        return r * Math.cos(2 * Math.PI * u2);
    }
}
