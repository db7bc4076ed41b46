package dev.kiln.runtime.kernels;

import dev.kiln.ir.DType;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.Shapes;

import java.util.Random;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Random tensors in random layouts, and index-by-index comparison, for the shape and index kernel tests. */
final class ShapeFixtures {
    private ShapeFixtures() {}

    /** The dtypes the copying kernels must handle alike (f16 shares i16's 2-byte path). */
    static final DType[] DTYPES = {DType.F32, DType.F64, DType.I64, DType.I32, DType.BOOL, DType.F16, DType.U8};

    static DType dtype(Random r) { return DTYPES[r.nextInt(DTYPES.length)]; }

    /** A shape of rank {@code minRank..maxRank} with dims in {@code 1..maxDim} (0 now and then when allowed). */
    static long[] shape(Random r, int minRank, int maxRank, int maxDim, boolean zeros) {
        long[] s = new long[minRank + r.nextInt(maxRank - minRank + 1)];
        for (int i = 0; i < s.length; i++) s[i] = zeros && r.nextInt(12) == 0 ? 0 : 1 + r.nextInt(maxDim);
        return s;
    }

    /** Contiguous random values: floats in [-1, 1) rounded to 1/8 (exact in every float dtype), ints in [-9, 9]. */
    static NDArray random(Random r, DType dtype, long... shape) {
        NDArray t = NDArray.zeros(dtype, shape);
        for (long i = 0; i < t.numel(); i++) {
            double v = switch (dtype) {
                case BOOL -> r.nextBoolean() ? 1 : 0;
                case U8 -> r.nextInt(256);
                default -> dtype.isFloatingPoint() ? (r.nextInt(16) - 8) / 8.0 : r.nextInt(19) - 9;
            };
            t.setFlat(i, v);
        }
        return t;
    }

    /**
     * Random values of {@code shape} in a random layout: contiguous, transposed (last two dims), every other
     * element of a larger tensor, or at an offset inside a larger tensor.
     */
    static NDArray strided(Random r, DType dtype, long... shape) {
        int rank = shape.length;
        switch (rank == 0 ? 0 : r.nextInt(4)) {
            case 1 -> {
                if (rank < 2) return strided(r, dtype, shape);
                long[] swapped = shape.clone();
                swapped[rank - 1] = shape[rank - 2];
                swapped[rank - 2] = shape[rank - 1];
                return random(r, dtype, swapped).transpose(-1, -2);
            }
            case 2 -> {
                long[] wide = shape.clone();
                wide[rank - 1] = 2 * shape[rank - 1];
                return random(r, dtype, wide).slice(-1, 1, wide[rank - 1], 2);
            }
            case 3 -> {
                long[] big = shape.clone();
                big[0] = shape[0] + 2;
                return random(r, dtype, big).slice(0, 1, 1 + shape[0], 1);
            }
            default -> {
                return random(r, dtype, shape);
            }
        }
    }

    /** Calls {@code f} with every multi-index of {@code shape} in row-major order. */
    static void forEachIndex(long[] shape, Consumer<long[]> f) {
        long n = Shapes.numel(shape);
        for (long flat = 0; flat < n; flat++) f.accept(Naive.unravel(flat, shape));
    }

    /** Asserts {@code actual} has {@code shape} and, at every index, the value {@code expected} gives. */
    static void assertElements(long[] shape, NDArray actual, java.util.function.ToDoubleFunction<long[]> expected, String what) {
        assertArrayEquals(shape, actual.shape(), () -> what + ": shape " + Shapes.str(actual.shape()));
        forEachIndex(shape, idx -> assertEquals(expected.applyAsDouble(idx), actual.getDouble(idx), 0,
                () -> what + ": element " + java.util.Arrays.toString(idx)));
    }
}
