package dev.kiln.codegen;

import dev.kiln.ir.DType;
import dev.kiln.runtime.NDArray;

import java.util.Arrays;

/**
 * Where a tensor of a compiled program lives, known when the code is generated: either a fixed array (an arena
 * slot, a weight, a constant, or a view of one of those) or a view of a buffer bound at run time, {@code bound}:
 * a graph input, or a graph output the generated code writes in place of an arena slot. A bound tensor is
 * described by shape, strides and an element offset relative to its buffer's first element (buffers are bound
 * contiguous).
 */
record TensorRef(NDArray fixed, int bound, DType dtype, long[] shape, long[] strides, long offset) {

    static TensorRef of(NDArray fixed) {
        return new TensorRef(fixed, -1, fixed.dtype(), fixed.shape(), fixed.strides(), fixed.offset());
    }

    /** The whole of bound buffer {@code index}, contiguous. */
    static TensorRef bound(int index, DType dtype, long[] shape) {
        return new TensorRef(null, index, dtype, shape, contiguousStrides(shape), 0);
    }

    boolean isBound() { return fixed == null; }

    long numel() { return numel(shape); }

    static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    long bytes() { return numel() * dtype.byteSize(); }

    boolean contiguous() {
        long expect = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && strides[i] != expect) return false;
            expect *= shape[i];
        }
        return true;
    }


    /** This tensor for a run whose bound (contiguous) buffers are {@code boundArrays}. */
    NDArray resolve(NDArray[] boundArrays) {
        if (fixed != null) return fixed;
        NDArray in = boundArrays[bound];
        return NDArray.wrap(in.segment(), dtype, shape, strides, in.offset() + offset);
    }


    static long[] contiguousStrides(long[] shape) {
        long[] s = new long[shape.length];
        long acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= shape[i];
        }
        return s;
    }

    @Override
    public String toString() {
        return (fixed != null ? "fixed" : "bound " + bound) + " " + dtype.irName() + Arrays.toString(shape)
                + (contiguous() ? "" : " strides " + Arrays.toString(strides)) + (offset != 0 ? " +" + offset : "");
    }
}
