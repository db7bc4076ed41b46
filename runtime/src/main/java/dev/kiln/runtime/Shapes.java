package dev.kiln.runtime;

import dev.kiln.ir.KilnException;
import dev.kiln.ir.Shape;
import dev.kiln.ir.ShapeRules;

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
            if (d < 0) throw new KilnException("shape " + str(shape) + " has a negative dimension");
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                throw new KilnException("shape " + str(shape) + " has too many elements");
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

    /** The NumPy broadcast of two static shapes, by the IR's rule; throws naming {@code op} and both shapes. */
    public static long[] broadcast(String op, long[] a, long[] b) {
        return ShapeRules.broadcast(op, Shape.of(a), Shape.of(b)).toArray();
    }

    /** Maps a possibly negative axis into {@code [0, rank)}; throws naming {@code op} if it is out of range. */
    public static int axis(String op, int axis, int rank) {
        if (axis < -rank || axis >= rank) {
            throw new KilnException(op + ": axis " + axis + " is out of range for a tensor of rank " + rank
                    + " (expected " + (rank == 0 ? "none" : -rank + " to " + (rank - 1)) + ")");
        }
        return axis < 0 ? axis + rank : axis;
    }

    /** The target of reshaping {@code from} to {@code newShape} (one -1 inferred), by the IR's rule. */
    public static long[] resolveReshape(long[] from, long[] newShape) {
        numel(from);
        return ShapeRules.reshape("reshape", Shape.of(from), newShape).toArray();
    }
}
