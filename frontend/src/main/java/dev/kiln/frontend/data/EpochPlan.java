package dev.kiln.frontend.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The batches of one epoch: the sample order, how it splits into batches, and how each batch is built. */
record EpochPlan<S, B>(Dataset<S> dataset, Collate<S, B> collate, int[] order, int batchSize, int numBatches) {

    /** Builds batch {@code b}; a failure becomes a {@link DataLoaderException} naming the batch and samples. */
    B build(int b) {
        int from = b * batchSize, to = Math.min(from + batchSize, order.length);
        try {
            List<S> samples = new ArrayList<>(to - from);
            for (int i = from; i < to; i++) samples.add(dataset.get(order[i]));
            return collate.apply(samples);
        } catch (RuntimeException e) {
            throw failure(b, e);
        }
    }

    DataLoaderException failure(int b, Throwable cause) {
        if (cause instanceof DataLoaderException d) return d;
        int from = b * batchSize, to = Math.min(from + batchSize, order.length);
        int[] shown = Arrays.copyOfRange(order, from, Math.min(to, from + 8));
        String samples = Arrays.toString(shown);
        if (to - from > shown.length) samples = samples.substring(0, samples.length() - 1) + ", ...]";
        return new DataLoaderException("DataLoader: batch " + b + " of " + numBatches + " (dataset indices " + samples
                + ") failed: " + cause, cause);
    }
}
