package dev.kiln.frontend.data;

import dev.kiln.frontend.Tensor;

import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * A function on one sample tensor, as a torchvision transform: {@link Normalize}, {@link RandomCrop},
 * {@link RandomHorizontalFlip}, or a lambda. Transforms never modify their input; they return a new tensor (or
 * the input itself when there is nothing to do). They work on raw data, outside autograd and tracing.
 */
@FunctionalInterface
public interface Transform {

    Tensor apply(Tensor x);

    /** This transform, then {@code next}. */
    default Transform andThen(Transform next) {
        Objects.requireNonNull(next, "next");
        return x -> next.apply(apply(x));
    }

    /** The transforms applied in order, as torchvision's {@code Compose}. */
    static Transform compose(Transform... transforms) {
        Transform[] ts = transforms.clone();
        for (int i = 0; i < ts.length; i++) Objects.requireNonNull(ts[i], "compose: transform " + i + " is null");
        return x -> {
            for (Transform t : ts) x = t.apply(x);
            return x;
        };
    }

    /**
     * Applies this transform to field {@code field} of a {@code Tensor[]} sample (for example the input of an
     * (input, target) pair), returning a new array; use it with {@link Dataset#map}.
     */
    default UnaryOperator<Tensor[]> onField(int field) {
        if (field < 0) throw new IllegalArgumentException("onField: field must be >= 0, got " + field);
        return sample -> {
            if (field >= sample.length) {
                throw new IllegalArgumentException("transform on field " + field + ": the sample has only "
                        + sample.length + " fields");
            }
            Tensor[] out = sample.clone();
            out[field] = apply(sample[field]);
            return out;
        };
    }
}
