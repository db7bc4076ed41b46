package dev.kiln.runtime.kernels;

import dev.kiln.ir.DType;
import dev.kiln.runtime.NDArray;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Eager {@code layer_norm} through the vector row kernel ({@link EagerF32#layerNorm}, {@link VectorNorms}) against the
 * reference kernel ({@link Norms#layerNorm}, f64 statistics) on random row counts and odd row widths (vector tails),
 * with values offset from zero so the mean matters: within {@code 2e-5 * (1 + |expected|)} (f32 statistics over at
 * most a few hundred elements, then the normalised value scaled by gamma up to 2), plus the f32 rounding of the row
 * mean amplified by {@code 1 / sqrt(var + eps)} (rows of nearly equal values).
 */
class EagerLayerNormPropertyTest {

    private static NDArray uniform(Random r, double lo, double hi, long... shape) {
        NDArray a = NDArray.zeros(DType.F32, shape);
        for (long i = 0; i < a.numel(); i++) a.setFlat(i, lo + (hi - lo) * r.nextDouble());
        return a;
    }

    @Property(tries = 80)
    void vectorLayerNormMatchesTheReference(@ForAll @IntRange(min = 1, max = 9) int rows, @ForAll @IntRange(min = 1, max = 300) int cols,
                                            @ForAll @IntRange(min = 0, max = 1000) int seed) {
        assumeTrue(VectorApi.enabled(), "needs the Vector API");
        Random r = new Random(seed);
        NDArray x = uniform(r, 2, 5, 2, rows, cols), w = uniform(r, -2, 2, cols), b = uniform(r, -1, 1, cols);
        double eps = r.nextBoolean() ? 1e-5 : 1e-3;
        NDArray fast = EagerF32.layerNorm(x, w, b, 1, eps);
        assertNotNull(fast, "the vector kernel takes contiguous f32 rows");
        double[] want = Norms.layerNorm(x, w, b, 1, eps).toDoubleArray(), got = fast.toDoubleArray(), xs = x.toDoubleArray();
        for (int i = 0; i < want.length; i++) {
            int k = i, row = i / cols;
            // plus the f32 rounding of the row mean (|x| <= 5, a few ulps), amplified by 1 / sqrt(var + eps) and |gamma| <= 2:
            // rows of nearly equal values normalise their tiny differences
            double mean = 0, var = 0;
            for (int j = 0; j < cols; j++) mean += xs[row * cols + j] / cols;
            for (int j = 0; j < cols; j++) var += (xs[row * cols + j] - mean) * (xs[row * cols + j] - mean) / cols;
            double meanRounding = 4 * 5 * Math.ulp(1f) * 2 / Math.sqrt(var + eps);
            assertTrue(Math.abs(want[i] - got[i]) <= 2e-5 * (1 + Math.abs(want[i])) + meanRounding,
                    () -> "element " + k + " of " + rows + " x " + cols + ": reference " + want[k] + ", vector " + got[k]);
        }
    }

    @Property(tries = 5)
    void otherFormsAreLeftToTheReference(@ForAll @IntRange(min = 0, max = 100) int seed) {
        Random r = new Random(seed);
        NDArray x = uniform(r, -1, 1, 3, 4, 6);
        assertNull(EagerF32.layerNorm(x, null, null, 1, 1e-5), "no weight");
        assertNull(EagerF32.layerNorm(x, uniform(r, 0, 1, 4, 6), uniform(r, 0, 1, 4, 6), 2, 1e-5), "two normalised dims");
        assertNull(EagerF32.layerNorm(x.to(DType.F64), uniform(r, 0, 1, 6).to(DType.F64), uniform(r, 0, 1, 6).to(DType.F64), 1, 1e-5), "f64");
        assertNull(EagerF32.layerNorm(x.transpose(0, 2), uniform(r, 0, 1, 3), uniform(r, 0, 1, 3), 1, 1e-5), "strided x");
    }
}
