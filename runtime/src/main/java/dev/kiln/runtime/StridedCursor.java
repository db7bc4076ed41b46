package dev.kiln.runtime;

import dev.kiln.ir.KilnException;

/**
 * Walks a shape in row-major order while tracking the element offset of several strided operands at once
 * (an odometer). Kernels use it to visit tensors of any layout without materialising index arrays.
 */
public final class StridedCursor {
    private final long[] shape;
    private final long[][] strides;
    private final long[] base;
    private final long[] index;
    private final long[] position;

    /**
     * @param shape   the logical shape to walk
     * @param offsets the element offset of each operand at index 0
     * @param strides the element strides of each operand, one array of {@code shape.length} per operand
     */
    public StridedCursor(long[] shape, long[] offsets, long[]... strides) {
        if (offsets.length != strides.length) {
            throw new KilnException("StridedCursor: " + offsets.length + " offsets but "
                    + strides.length + " stride arrays");
        }
        for (long[] s : strides) {
            if (s.length != shape.length) {
                throw new KilnException("StridedCursor: strides of rank " + s.length
                        + " for shape " + Shapes.str(shape));
            }
        }
        this.shape = shape.clone();
        this.strides = strides;
        this.base = offsets.clone();
        this.index = new long[shape.length];
        this.position = offsets.clone();
    }

    /** Element offset of operand {@code operand} at the current index. */
    public long position(int operand) {
        return position[operand];
    }

    /** Moves to the element with row-major flat index {@code flat}. */
    public void seek(long flat) {
        System.arraycopy(base, 0, position, 0, base.length);
        for (int d = shape.length - 1; d >= 0; d--) {
            long extent = shape[d];
            long i = extent == 0 ? 0 : flat % extent;
            flat = extent == 0 ? 0 : flat / extent;
            index[d] = i;
            for (int k = 0; k < position.length; k++) position[k] += i * strides[k][d];
        }
    }

    /** Moves to the next element in row-major order (wrapping to the start after the last). */
    public void advance() {
        for (int d = shape.length - 1; d >= 0; d--) {
            index[d]++;
            for (int k = 0; k < position.length; k++) position[k] += strides[k][d];
            if (index[d] < shape[d]) return;
            for (int k = 0; k < position.length; k++) position[k] -= strides[k][d] * shape[d];
            index[d] = 0;
        }
    }
}
