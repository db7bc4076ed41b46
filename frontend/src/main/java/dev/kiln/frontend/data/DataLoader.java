package dev.kiln.frontend.data;

import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;

import java.util.List;
import java.util.Objects;

/**
 * Iterates a {@link Dataset} in batches, as {@code torch.utils.data.DataLoader}: each {@link #iterator()} is one
 * epoch. Options: batch size, shuffling (a fresh permutation every epoch, drawn from a seeded {@link Generator}
 * so runs repeat exactly), dropping the last incomplete batch, and building batches on a background thread one
 * batch ahead of the consumer (on by default).
 *
 * <pre>{@code
 * DataLoader<Tensor[], Batch> loader = DataLoader.builder(mnist.train(), Collate.pairs())
 *         .batchSize(64).shuffle(42).dropLast(true).build();
 * for (Batch b : loader) { ... }                  // one epoch
 * }</pre>
 *
 * Stopping early ({@code break}) is safe: the prefetch thread of an abandoned epoch is stopped when the loader
 * starts the next epoch, when the iterator is garbage-collected, or at once by closing the iterator
 * (try-with-resources on {@link #iterator()}) or the loader. One epoch runs at a time per loader: starting a new
 * one stops the previous one, whose iterator then throws if used. Batches are allocated outside any
 * {@link dev.kiln.runtime.MemoryScope} when prefetching (they are built on another thread), inside the
 * iterating thread's current scope otherwise.
 *
 * @param <S> the sample type
 * @param <B> the batch type
 */
public final class DataLoader<S, B> implements Iterable<B>, AutoCloseable {

    private final Dataset<S> dataset;
    private final Collate<S, B> collate;
    private final int batchSize;
    private final boolean dropLast;
    private final Generator shuffle;
    private final boolean prefetch;
    private EpochHandle active;
    private int epochs;

    private DataLoader(Builder<S, B> b) {
        this.dataset = b.dataset;
        this.collate = b.collate;
        this.batchSize = b.batchSize;
        this.dropLast = b.dropLast;
        this.shuffle = b.shuffle;
        this.prefetch = b.prefetch;
    }

    /** A builder for a loader that turns samples into batches with {@code collate}. */
    public static <S, B> Builder<S, B> builder(Dataset<S> dataset, Collate<S, B> collate) {
        return new Builder<>(dataset, collate);
    }

    /** A builder for a loader whose batches are a list with each sample field stacked ({@link Collate#stack()}). */
    public static Builder<Tensor[], List<Tensor>> builder(Dataset<Tensor[]> dataset) {
        return new Builder<>(dataset, Collate.stack());
    }

    /**
     * Starts the next epoch. The sample order is drawn now (a new permutation per epoch when shuffling), so the
     * n-th epoch of two loaders with the same seed is identical. Stops the previous epoch if it is still running.
     */
    @Override
    public synchronized BatchIterator<B> iterator() {
        stopActive("this DataLoader iterator was stopped because a new epoch was started on the same loader;"
                + " a loader runs one epoch at a time");
        int n = dataset.size();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        if (shuffle != null) permute(order, shuffle);
        EpochPlan<S, B> plan = new EpochPlan<>(dataset, collate, order, batchSize, numBatches(n));
        epochs++;
        if (prefetch) {
            PrefetchIterator<B> it = new PrefetchIterator<>(plan);
            active = it.channel();
            return it;
        }
        SyncIterator<B> it = new SyncIterator<>(plan);
        active = it;
        return it;
    }

    /** Stops a running epoch, if any (its prefetch thread ends); the loader can start new epochs afterwards. */
    @Override
    public synchronized void close() {
        stopActive("this DataLoader was closed");
    }

    private void stopActive(String why) {
        if (active != null) active.supersede(why);
        active = null;
    }

    /** Fisher-Yates with draws from {@code g}. */
    private static void permute(int[] order, Generator g) {
        for (int i = order.length - 1; i > 0; i--) {
            int j = (int) (g.nextUniform() * (i + 1));
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
    }

    private int numBatches(int n) {
        return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
    }

    /** Batches per epoch: {@code ceil(size / batchSize)}, or {@code floor} with {@code dropLast}. */
    public int numBatches() { return numBatches(dataset.size()); }

    /** Samples per batch (the last batch may have fewer unless dropLast). */
    public int batchSize() { return batchSize; }

    /** The dataset this loader iterates. */
    public Dataset<S> dataset() { return dataset; }

    /** Number of epochs started so far. */
    public synchronized int epochs() { return epochs; }

    /** Options for a {@link DataLoader}; defaults as PyTorch: batch size 1, no shuffling, keep the last batch. */
    public static final class Builder<S, B> {
        private final Dataset<S> dataset;
        private final Collate<S, B> collate;
        private int batchSize = 1;
        private boolean dropLast;
        private Generator shuffle;
        private boolean prefetch = true;

        private Builder(Dataset<S> dataset, Collate<S, B> collate) {
            this.dataset = Objects.requireNonNull(dataset, "dataset");
            this.collate = Objects.requireNonNull(collate, "collate");
        }

        /** Samples per batch, at least 1. */
        public Builder<S, B> batchSize(int batchSize) {
            if (batchSize < 1) throw new IllegalArgumentException("DataLoader: batchSize must be at least 1, got " + batchSize);
            this.batchSize = batchSize;
            return this;
        }

        /** Shuffles every epoch with permutations drawn from a new {@code Generator(seed)}. */
        public Builder<S, B> shuffle(long seed) { return shuffle(new Generator(seed)); }

        /** Shuffles every epoch with permutations drawn from {@code generator}. */
        public Builder<S, B> shuffle(Generator generator) {
            this.shuffle = Objects.requireNonNull(generator, "generator");
            return this;
        }

        /** Whether to drop the last batch when it has fewer than {@code batchSize} samples. */
        public Builder<S, B> dropLast(boolean dropLast) {
            this.dropLast = dropLast;
            return this;
        }

        /** Whether to build batches on a background thread one batch ahead (default true). */
        public Builder<S, B> prefetch(boolean prefetch) {
            this.prefetch = prefetch;
            return this;
        }

        /** The loader; no thread starts until an epoch does. */
        public DataLoader<S, B> build() { return new DataLoader<>(this); }
    }
}
