package dev.kiln.runtime.kernels;

import dev.kiln.ir.KilnException;
import dev.kiln.ir.DType;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.Shapes;

import java.util.Arrays;

/** Argument checks shared by kernels; every failure names the op and what the caller passed. */
final class Checks {
    private Checks() {}

    static void sameDType(String op, NDArray a, NDArray b) {
        if (a.dtype() != b.dtype()) {
            throw new KilnException(op + ": dtypes " + a.dtype() + " and " + b.dtype()
                    + " differ (shapes " + Shapes.str(a.shape()) + " and " + Shapes.str(b.shape())
                    + "); convert one operand with to(...) first");
        }
    }

    static void floating(String op, NDArray x) {
        if (!x.dtype().isFloatingPoint()) {
            throw new KilnException(op + ": expects a floating-point tensor, got " + x.dtype()
                    + " of shape " + Shapes.str(x.shape()));
        }
    }

    static void notBool(String op, NDArray x) {
        if (x.dtype() == DType.BOOL) {
            throw new KilnException(op + ": not defined for bool tensors (shape "
                    + Shapes.str(x.shape()) + "); convert with to(...) first");
        }
    }

    static void rank(String op, String what, NDArray x, int... allowed) {
        for (int r : allowed) if (x.rank() == r) return;
        throw new KilnException(op + ": " + what + " must have rank "
                + Arrays.stream(allowed).mapToObj(String::valueOf).collect(java.util.stream.Collectors.joining(" or "))
                + ", got shape "
                + Shapes.str(x.shape()));
    }

    /**
     * Expands a 2-D hyper-parameter (stride, padding, ...) given as 1 or 2 ints, or null/empty for the default,
     * and checks each value is at least {@code min}.
     */
    static int[] pair(String op, String name, int[] value, int dflt, int min) {
        int[] v;
        if (value == null || value.length == 0) v = new int[] {dflt, dflt};
        else if (value.length == 1) v = new int[] {value[0], value[0]};
        else if (value.length == 2) v = value.clone();
        else throw new KilnException(op + ": " + name + " must have 1 or 2 values, got "
                + Arrays.toString(value));
        if (v[0] < min || v[1] < min) {
            throw new KilnException(op + ": " + name + " must be at least " + min + ", got "
                    + Arrays.toString(value));
        }
        return v;
    }

    static int toInt(String op, String what, long v) {
        if (v > Integer.MAX_VALUE) {
            throw new KilnException(op + ": " + what + " " + v + " exceeds the 32-bit BLAS limit");
        }
        return (int) v;
    }
}
