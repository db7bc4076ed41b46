package dev.kiln.runtime.kernels;

import dev.kiln.ir.DType;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.Shapes;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Random test tensors and comparison helpers. */
final class Tensors {
    private Tensors() {}

    /** An f32 tensor of uniform values in [-1, 1). */
    static NDArray randomF32(Random r, long... shape) {
        float[] data = new float[(int) Shapes.numel(shape)];
        for (int i = 0; i < data.length; i++) data[i] = r.nextFloat() * 2 - 1;
        return NDArray.of(data).reshape(shape);
    }

    /** A random tensor of {@code dtype}: floats in [-1, 1), ints in [-9, 9]. */
    static NDArray random(Random r, DType dtype, long... shape) {
        NDArray t = NDArray.zeros(dtype, shape);
        for (long i = 0; i < t.numel(); i++) {
            t.setFlat(i, dtype.isFloatingPoint() ? r.nextDouble() * 2 - 1 : r.nextInt(19) - 9);
        }
        return t;
    }

    /** Asserts equal shapes and elementwise |actual - expected| <= tol[i]. */
    static void assertClose(double[] expected, NDArray actual, double[] tol, String context) {
        double[] got = actual.toDoubleArray();
        assertTrue(expected.length == got.length, context + ": expected " + expected.length + " values, got " + got.length);
        for (int i = 0; i < got.length; i++) {
            boolean ok = Math.abs(got[i] - expected[i]) <= tol[i]
                    || (Double.isNaN(got[i]) && Double.isNaN(expected[i]))
                    || got[i] == expected[i];
            assertTrue(ok, context + ": element " + i + " expected " + expected[i] + " got " + got[i]
                    + " (tolerance " + tol[i] + ")");
        }
    }

    static void assertClose(double[] expected, NDArray actual, double tol, String context) {
        double[] t = new double[expected.length];
        java.util.Arrays.fill(t, tol);
        assertClose(expected, actual, t, context);
    }

    /** Tolerance {@code rel * max(1, |expected|)}: relative for large values, absolute near zero. */
    static void assertCloseRel(double[] expected, NDArray actual, double rel, String context) {
        double[] t = new double[expected.length];
        for (int i = 0; i < t.length; i++) t[i] = rel * Math.max(1, Math.abs(expected[i]));
        assertClose(expected, actual, t, context);
    }

    static void assertShape(long[] expected, NDArray actual) {
        assertArrayEquals(expected, actual.shape(), () -> "shape " + Shapes.str(actual.shape()));
    }
}
