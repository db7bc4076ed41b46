package dev.kiln.runtime.kernels;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link VectorLanes#sum(float[], int)} adds lanes in one documented order (halves: lane i with lane i + length/2, and so on),
 * bit for bit, from the first call (interpreted) through C1 to C2. Lanes of very different magnitudes make any
 * other order show in the last bits.
 */
class VectorLanesTest {

    private static float halves(float[] lanes) {
        float[] a = lanes.clone();
        for (int d = a.length / 2; d > 0; d /= 2) for (int i = 0; i < d; i++) a[i] += a[i + d];
        return a[0];
    }

    private static double halves(double[] lanes) {
        double[] a = lanes.clone();
        for (int d = a.length / 2; d > 0; d /= 2) for (int i = 0; i < d; i++) a[i] += a[i + d];
        return a[0];
    }

    @Property(tries = 200)
    void floatSumsFollowTheHalvingOrder(@ForAll long seed) {
        Random r = new Random(seed);
        float[] lanes = new float[FloatVector.SPECIES_PREFERRED.length()];
        for (int i = 0; i < lanes.length; i++) lanes[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(9) - 4));
        float[] stored = new float[lanes.length + 3];
        System.arraycopy(lanes, 0, stored, 3, lanes.length);
        assertEquals(Float.floatToIntBits(halves(lanes)), Float.floatToIntBits(VectorLanes.sum(stored, 3)));
    }

    @Property(tries = 200)
    void doubleSumsFollowTheHalvingOrder(@ForAll long seed) {
        Random r = new Random(seed);
        double[] lanes = new double[DoubleVector.SPECIES_PREFERRED.length()];
        for (int i = 0; i < lanes.length; i++) lanes[i] = r.nextGaussian() * Math.pow(10, r.nextInt(17) - 8);
        double[] stored = new double[lanes.length + 2];
        System.arraycopy(lanes, 0, stored, 2, lanes.length);
        assertEquals(Double.doubleToLongBits(halves(lanes)), Double.doubleToLongBits(VectorLanes.sum(stored, 2)));
    }

    /** The same sum across JIT tiers: enough calls that the loop is compiled by C2 part way through. */
    @Test
    void theSameSumInEveryTier() {
        Random r = new Random(7);
        float[] lanes = new float[FloatVector.SPECIES_PREFERRED.length()];
        for (int i = 0; i < lanes.length; i++) lanes[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(9) - 4));
        int expected = Float.floatToIntBits(halves(lanes));
        for (int call = 0; call < 200_000; call++) assertEquals(expected, Float.floatToIntBits(VectorLanes.sum(lanes, 0)), "call " + call);
    }
}
