package dev.kiln.runtime;

import java.util.Arrays;

/** Shape arithmetic shared by tensors and kernels: element counts, strides, broadcasting and axis checks. */
public final class Shapes {
    private Shapes() {}

    /** Formats a shape the way error messages print it, e.g. {@code [2, 3]}. */
    public static String str(long[] shape) {
        return Arrays.toString(shape);
    }

    /** Number of elements of {@code shape}; throws if a dimension is negative or the count overflows. */
    public static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("shape " + str(shape) + " has a negative dimension");
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("shape " + str(shape) + " has too many elements");
            }
        }
        return n;
    }

    /** Row-major (C order) strides, in elements, for a contiguous tensor of {@code shape}. */
    public static long[] contiguousStrides(long[] shape) {
        long[] strides = new long[shape.length];
        long s = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            strides[i] = s;
            s *= Math.max(shape[i], 1);
        }
        return strides;
    }

    /**
     * The NumPy broadcast of two shapes: aligned from the right, each pair of dimensions must be equal or one
     * of them 1. Throws naming {@code op} and both shapes otherwise.
     */
    public static long[] broadcast(String op, long[] a, long[] b) {
        int rank = Math.max(a.length, b.length);
        long[] out = new long[rank];
        for (int i = 0; i < rank; i++) {
            long da = i < rank - a.length ? 1 : a[i - (rank - a.length)];
            long db = i < rank - b.length ? 1 : b[i - (rank - b.length)];
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException(op + ": shapes " + str(a) + " and " + str(b)
                        + " cannot be broadcast together: dimensions " + da + " and " + db + " at axis "
                        + (i - rank) + " differ and neither is 1");
            }
            out[i] = da == 1 ? db : da;
        }
        return out;
    }

    /** Maps a possibly negative axis into {@code [0, rank)}; throws naming {@code op} if it is out of range. */
    public static int axis(String op, int axis, int rank) {
        if (axis < -rank || axis >= rank) {
            throw new IllegalArgumentException(op + ": axis " + axis + " is out of range for a tensor of rank " + rank
                    + " (expected " + (rank == 0 ? "none" : -rank + " to " + (rank - 1)) + ")");
        }
        return axis < 0 ? axis + rank : axis;
    }

    /**
     * The target of reshaping {@code from} to {@code newShape}, with a single -1 dimension inferred; throws if
     * the element counts differ.
     */
    public static long[] resolveReshape(long[] from, long[] newShape) {
        long numel = numel(from);
        long[] dims = newShape.clone();
        int inferred = -1;
        long known = 1;
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] == -1) {
                if (inferred >= 0) {
                    throw new IllegalArgumentException("reshape: only one dimension can be -1, got "
                            + str(newShape));
                }
                inferred = i;
            } else if (dims[i] < 0) {
                throw new IllegalArgumentException("reshape: invalid dimension " + dims[i] + " in "
                        + str(newShape));
            } else {
                known = Math.multiplyExact(known, dims[i]);
            }
        }
        if (inferred >= 0) {
            if (known == 0 || numel % known != 0) {
                throw new IllegalArgumentException("reshape: cannot reshape " + str(from) + " (" + numel
                        + " elements) into " + str(newShape));
            }
            dims[inferred] = numel / known;
        } else if (known != numel) {
            throw new IllegalArgumentException("reshape: cannot reshape " + str(from) + " (" + numel
                    + " elements) into " + str(newShape) + " (" + known + " elements)");
        }
        return dims;
    }
}
