package dev.kiln.runtime;

import java.util.SplittableRandom;

/**
 * The runtime's seeded source of randomness for random kernels (dropout masks, ...). Thread-safe: each kernel
 * call takes one independent stream with {@link #split()}, so results depend only on the seed and the order of
 * calls, never on thread scheduling. {@link #manualSeed} restarts the sequence, like {@code torch.manual_seed}.
 */
public final class RandomSource {
    /** PyTorch's default CPU generator seed. */
    public static final long DEFAULT_SEED = 67280421310721L;

    private static SplittableRandom root = new SplittableRandom(DEFAULT_SEED);

    private RandomSource() {}

    /** Restarts the sequence of streams from {@code seed}. */
    public static synchronized void manualSeed(long seed) { root = new SplittableRandom(seed); }

    /** A new independent stream; successive calls after the same seed return the same streams. */
    public static synchronized SplittableRandom split() { return root.split(); }
}
