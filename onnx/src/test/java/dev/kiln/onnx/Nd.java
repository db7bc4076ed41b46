package dev.kiln.onnx;

import dev.kiln.ir.DType;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** A test tensor: dtype, shape and row-major values held as doubles (inputs, expected and actual outputs). */
record Nd(DType dtype, long[] shape, double[] values) {

    Nd {
        if (count(shape) != values.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " needs " + count(shape) + " values, got " + values.length);
        }
    }

    static long count(long[] shape) {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    static Nd f32(long[] shape, double... values) { return new Nd(DType.F32, shape, values); }

    /** Uniform values in [-1, 1), from a fixed seed so failures reproduce. */
    static Nd random(long seed, long... shape) {
        Random r = new Random(seed);
        double[] v = new double[(int) count(shape)];
        for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextDouble() * 2 - 1);
        return new Nd(DType.F32, shape, v);
    }

    /** Small integer values in [-k, k], as f32 (exact comparisons make ties between inputs likely). */
    static Nd randomInts(long seed, int k, DType dtype, long... shape) {
        Random r = new Random(seed);
        double[] v = new double[(int) count(shape)];
        for (int i = 0; i < v.length; i++) v[i] = r.nextInt(2 * k + 1) - k;
        return new Nd(dtype, shape, v);
    }

    static Nd scalar(DType dtype, double v) { return new Nd(dtype, new long[0], new double[] {v}); }

    int rank() { return shape.length; }

    double get(int i) { return values[i]; }

    Nd withValues(DType newType, double[] v) { return new Nd(newType, shape, v); }

    /** The values as little-endian bytes of this dtype, as weights and constants take them. */
    ByteBuffer bytes() {
        ByteBuffer b = ByteBuffer.allocate(values.length * dtype.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        for (double v : values) {
            switch (dtype) {
                case F32 -> b.putFloat((float) v);
                case F64 -> b.putDouble(v);
                case I64 -> b.putLong((long) v);
                case I32 -> b.putInt((int) v);
                case BOOL -> b.put((byte) (v != 0 ? 1 : 0));
                default -> throw new IllegalArgumentException("tests do not use " + dtype);
            }
        }
        return b.flip();
    }

    /** Asserts same dtype and shape and values within rtol 1e-4 / atol 1e-5 (exact for ints and bools). */
    static void assertClose(Nd expected, Nd actual, String what) {
        assertEquals(expected.dtype, actual.dtype, what + ": dtype");
        assertArrayEquals(expected.shape, actual.shape, what + ": shape " + Arrays.toString(actual.shape)
                + ", expected " + Arrays.toString(expected.shape));
        for (int i = 0; i < expected.values.length; i++) {
            double e = expected.values[i], a = actual.values[i];
            double tol = expected.dtype.isFloatingPoint() ? 1e-5 + 1e-4 * Math.abs(e) : 0;
            if (!(Math.abs(a - e) <= tol) && !(Double.isNaN(e) && Double.isNaN(a))) {
                fail(what + ": element " + i + " is " + a + ", expected " + e + " (shape " + Arrays.toString(expected.shape) + ")");
            }
        }
    }

    @Override
    public String toString() { return dtype + Arrays.toString(shape) + Arrays.toString(values); }
}
