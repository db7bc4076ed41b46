package dev.kiln.frontend.data;

import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import dev.kiln.runtime.Elements;
import dev.kiln.runtime.NDArray;

import java.util.Objects;

/**
 * Mirrors the last dim (image width) with probability {@code p}, as torchvision's {@code RandomHorizontalFlip};
 * one uniform draw from the generator per call. Returns the input itself when it does not flip.
 */
public final class RandomHorizontalFlip implements Transform {

    private final double p;
    private final Generator generator;

    /** Flips with probability 0.5. */
    public RandomHorizontalFlip(Generator generator) { this(0.5, generator); }

    /** Flips with probability {@code p} in [0, 1]. */
    public RandomHorizontalFlip(double p, Generator generator) {
        if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException("RandomHorizontalFlip: p must be in [0, 1], got " + p);
        this.p = p;
        this.generator = Objects.requireNonNull(generator, "generator");
    }

    @Override
    public Tensor apply(Tensor x) {
        NDArray in = x.data();
        if (in.rank() < 1) throw new IllegalArgumentException("RandomHorizontalFlip: needs at least 1 dim, got a 0-d tensor");
        if (!(generator.nextUniform() < p)) return x;
        NDArray src = in.contiguous();
        NDArray out = NDArray.zeros(src.dtype(), src.shape());
        long width = src.dim(-1);
        long rows = width == 0 ? 0 : src.numel() / width;
        int size = src.dtype().byteSize();
        for (long r = 0; r < rows; r++) {
            long base = r * width;
            for (long c = 0; c < width; c++) {
                Elements.copyElement(src.segment(), src.offset() + base + c, out.segment(), base + width - 1 - c, size);
            }
        }
        return Tensor.wrap(out);
    }
}
