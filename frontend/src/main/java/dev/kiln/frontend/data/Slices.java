package dev.kiln.frontend.data;

import dev.kiln.runtime.NDArray;

import java.util.Arrays;

/** Views along dim 0 built from an {@link NDArray}'s strides, so samples and subsets share storage. */
final class Slices {
    private Slices() {}

    /** Element {@code i} along dim 0 (rank drops by one), sharing {@code a}'s memory. */
    static NDArray select0(NDArray a, long i) {
        long[] shape = a.shape(), strides = a.strides();
        return NDArray.wrap(a.segment(), a.dtype(), Arrays.copyOfRange(shape, 1, shape.length),
                Arrays.copyOfRange(strides, 1, strides.length), a.offset() + i * strides[0]);
    }

    /** Rows {@code [from, to)} along dim 0, sharing {@code a}'s memory. */
    static NDArray narrow0(NDArray a, long from, long to) {
        long[] shape = a.shape();
        shape[0] = to - from;
        return NDArray.wrap(a.segment(), a.dtype(), shape, a.strides(), a.offset() + from * a.strides()[0]);
    }
}
