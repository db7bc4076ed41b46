package dev.kiln.runtime.kernels;

import dev.kiln.ir.DType;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.RandomSource;
import net.jqwik.api.Example;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Dropout masks: zero fraction near p, kept values exactly 1/(1-p), reproducible after a manual seed. */
class NnDropoutTest {

    @Example
    void zeroFractionIsNearPAndKeptValuesAreExactlyTheScale() {
        RandomSource.manualSeed(1);
        for (double p : new double[] {0.1, 0.5, 0.8}) {
            for (DType t : new DType[] {DType.F32, DType.F64}) {
                int n = 200_000;
                double[] m = Dropout.mask(NDArray.zeros(t, 400, 500), p).toDoubleArray();
                double scale = t == DType.F32 ? (float) (1 / (1 - p)) : 1 / (1 - p);
                long zeros = 0;
                for (double v : m) {
                    if (v == 0) zeros++;
                    else assertEquals(scale, v, 0.0, "kept value");
                }
                // Binomial standard deviation is at most sqrt(n/4) ~ 224; allow 5 of them.
                assertEquals(p * n, zeros, 5 * Math.sqrt(n * p * (1 - p)), "zeros for p=" + p);
            }
        }
    }

    @Example
    void manualSeedReproducesTheSameMasks() {
        NDArray x = NDArray.zeros(DType.F32, 70_000);
        RandomSource.manualSeed(42);
        float[] a = Dropout.mask(x, 0.3).toFloatArray(), b = Dropout.mask(x, 0.3).toFloatArray();
        RandomSource.manualSeed(42);
        assertArrayEquals(a, Dropout.mask(x, 0.3).toFloatArray());
        assertArrayEquals(b, Dropout.mask(x, 0.3).toFloatArray());
        assertFalse(java.util.Arrays.equals(a, b), "successive masks differ");
    }

    @Example
    void edgeProbabilitiesAndErrors() {
        NDArray x = NDArray.zeros(DType.BF16, 3, 4);
        assertArrayEquals(new float[12], Dropout.mask(x, 1).toFloatArray());
        float[] keep = Dropout.mask(x, 0).toFloatArray();
        for (float v : keep) assertEquals(1f, v);
        assertEquals(DType.BF16, Dropout.mask(x, 0.5).dtype());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Dropout.mask(x, 1.5));
        assertEquals("dropout_mask: p must be in [0, 1], got 1.5", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Dropout.mask(x, Double.NaN));
        e = assertThrows(IllegalArgumentException.class, () -> Dropout.mask(NDArray.zeros(DType.I64, 2), 0.5));
        assertTrue(e.getMessage().startsWith("dropout_mask: expects a floating-point tensor"));
    }
}
