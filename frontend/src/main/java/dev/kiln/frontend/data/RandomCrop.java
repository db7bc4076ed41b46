package dev.kiln.frontend.data;

import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import dev.kiln.runtime.NDArray;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Objects;

/**
 * Pads the last two dims (H, W) with {@code padding} zeros on every side, then crops a {@code height x width}
 * window at a random position, as torchvision's {@code RandomCrop(size, padding)}: the top row is drawn first,
 * then the left column, each uniformly from the valid range. Keeps the dtype and any leading dims.
 */
public final class RandomCrop implements Transform {

    private final int height;
    private final int width;
    private final int padding;
    private final Generator generator;

    /** A square {@code size x size} crop. */
    public RandomCrop(int size, int padding, Generator generator) { this(size, size, padding, generator); }

    /** A {@code height x width} crop after {@code padding} zeros on each side. */
    public RandomCrop(int height, int width, int padding, Generator generator) {
        if (height < 1 || width < 1) {
            throw new IllegalArgumentException("RandomCrop: size must be positive, got " + height + "x" + width);
        }
        if (padding < 0) throw new IllegalArgumentException("RandomCrop: padding must be >= 0, got " + padding);
        this.height = height;
        this.width = width;
        this.padding = padding;
        this.generator = Objects.requireNonNull(generator, "generator");
    }

    @Override
    public Tensor apply(Tensor x) {
        NDArray src = x.data().contiguous();
        long[] shape = src.shape();
        if (shape.length < 2) {
            throw new IllegalArgumentException("RandomCrop: needs an image [..., H, W], got shape " + Arrays.toString(shape));
        }
        long h = shape[shape.length - 2], w = shape[shape.length - 1];
        long ph = h + 2L * padding, pw = w + 2L * padding;
        if (height > ph || width > pw) {
            throw new IllegalArgumentException("RandomCrop: crop " + height + "x" + width + " is larger than the padded"
                    + " input " + ph + "x" + pw + " (shape " + Arrays.toString(shape) + ", padding " + padding + ")");
        }
        long top = (long) (generator.nextUniform() * (ph - height + 1));
        long left = (long) (generator.nextUniform() * (pw - width + 1));
        long[] outShape = shape.clone();
        outShape[shape.length - 2] = height;
        outShape[shape.length - 1] = width;
        NDArray out = NDArray.zeros(src.dtype(), outShape);
        long planes = h * w == 0 ? 0 : src.numel() / (h * w);
        int size = src.dtype().byteSize();
        // Output column c reads input column left + c - padding; copy the in-range run of each row at once.
        long c0 = Math.max(0, padding - left), c1 = Math.min(width, w + padding - left);
        if (c1 <= c0) return Tensor.wrap(out);
        for (long p = 0; p < planes; p++) {
            for (long r = 0; r < height; r++) {
                long inRow = top + r - padding;
                if (inRow < 0 || inRow >= h) continue;
                long from = src.offset() + (p * h + inRow) * w + (left + c0 - padding);
                long to = (p * height + r) * width + c0;
                MemorySegment.copy(src.segment(), from * size, out.segment(), to * size, (c1 - c0) * size);
            }
        }
        return Tensor.wrap(out);
    }
}
