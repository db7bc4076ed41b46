package dev.kiln.frontend.data;

import java.util.Objects;
import java.util.function.Function;

/**
 * A finite, indexable collection of samples, as {@code torch.utils.data.Dataset}: a {@link DataLoader} asks for
 * samples by index (in order or shuffled) and collates them into batches. Implementations must allow
 * {@link #get} from a thread other than the one that created them (the loader's prefetch thread).
 *
 * @param <T> the sample type, e.g. {@code Tensor[]} for (input, target) pairs
 */
public interface Dataset<T> {

    /** Number of samples. */
    int size();

    /** Sample {@code index}, in {@code [0, size())}. */
    T get(int index);

    /**
     * This dataset with {@code f} applied to every sample when it is fetched (lazily, each time), e.g. to apply a
     * {@link Transform} to the inputs: {@code data.map(augment.onField(0))}.
     */
    default <R> Dataset<R> map(Function<? super T, ? extends R> f) {
        Objects.requireNonNull(f, "f");
        Dataset<T> self = this;
        return new Dataset<>() {
            @Override
            public int size() { return self.size(); }

            @Override
            public R get(int index) { return f.apply(self.get(index)); }
        };
    }
}
