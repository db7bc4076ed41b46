package dev.kiln.frontend.data;

import dev.kiln.frontend.Tensor;

import java.util.Arrays;
import java.util.Objects;

/**
 * Samples taken from tensors that share their first dimension, as {@code torch.utils.data.TensorDataset}:
 * sample {@code i} is {@code {tensors[0][i], tensors[1][i], ...}}. Samples are views that share the tensors'
 * memory (no copy); transforms and collation copy, so the dataset itself is never modified by loading.
 */
public final class TensorDataset implements Dataset<Tensor[]> {

    private final Tensor[] tensors;
    private final int size;

    /** A dataset over {@code tensors}, each of rank at least 1 with the same size in dim 0. */
    public TensorDataset(Tensor... tensors) {
        Objects.requireNonNull(tensors, "tensors");
        if (tensors.length == 0) throw new IllegalArgumentException("TensorDataset: needs at least one tensor");
        long n = -1;
        for (int k = 0; k < tensors.length; k++) {
            Tensor t = Objects.requireNonNull(tensors[k], "TensorDataset: tensor " + k + " is null");
            if (t.shape().length == 0) {
                throw new IllegalArgumentException("TensorDataset: tensor " + k + " is 0-d; samples are taken along dim 0");
            }
            long d0 = t.shape()[0];
            if (n >= 0 && d0 != n) {
                throw new IllegalArgumentException("TensorDataset: tensor " + k + " has shape " + Arrays.toString(t.shape())
                        + " but tensor 0 has " + n + " samples in dim 0; all tensors must agree in dim 0");
            }
            n = d0;
        }
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("TensorDataset: " + n + " samples is too many");
        this.tensors = tensors.clone();
        this.size = (int) n;
    }

    @Override
    public int size() { return size; }

    /** Sample {@code index}: one view per tensor, each without dim 0. */
    @Override
    public Tensor[] get(int index) {
        Objects.checkIndex(index, size);
        Tensor[] out = new Tensor[tensors.length];
        for (int k = 0; k < tensors.length; k++) out[k] = Tensor.wrap(Slices.select0(tensors[k].data(), index));
        return out;
    }

    /** Samples {@code [from, to)} as a new dataset sharing this one's memory. */
    public TensorDataset subset(int from, int to) {
        Objects.checkFromToIndex(from, to, size);
        Tensor[] parts = new Tensor[tensors.length];
        for (int k = 0; k < tensors.length; k++) parts[k] = Tensor.wrap(Slices.narrow0(tensors[k].data(), from, to));
        return new TensorDataset(parts);
    }

    /** The underlying tensors (the array is a copy; the tensors are shared). */
    public Tensor[] tensors() { return tensors.clone(); }
}
