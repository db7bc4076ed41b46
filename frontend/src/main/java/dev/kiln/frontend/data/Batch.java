package dev.kiln.frontend.data;

import dev.kiln.frontend.Tensor;

import java.util.Objects;

/**
 * One batch of (input, target) pairs, each stacked along a new dim 0, as produced by {@link Collate#pairs()}.
 *
 * @param inputs  the stacked inputs, e.g. {@code [B, 1, 28, 28]}
 * @param targets the stacked targets, e.g. {@code [B]}
 */
public record Batch(Tensor inputs, Tensor targets) {
    public Batch {
        Objects.requireNonNull(inputs, "inputs");
        Objects.requireNonNull(targets, "targets");
    }

    /** Number of samples in the batch (dim 0 of the inputs). */
    public long size() { return inputs.shape()[0]; }
}
