package dev.kiln.runtime.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link VectorExp#exp} against {@code (float) Math.exp} over the whole float range: every 4099th bit pattern (both
 * signs, every exponent, subnormal inputs), the neighbourhoods of the overflow and underflow thresholds, and the
 * special values. The error is measured in ulps of the expected f32 result (its bit-pattern distance); infinities,
 * zeros and NaN must match exactly.
 */
class VectorExpTest {

    private static long ulps(float expected, float actual) {
        if (Float.isNaN(expected)) return Float.isNaN(actual) ? 0 : Long.MAX_VALUE;
        if (Float.isInfinite(expected) || expected == 0) return expected == actual ? 0 : Long.MAX_VALUE;
        return Math.abs((long) Float.floatToIntBits(expected) - Float.floatToIntBits(actual));
    }

    /** Checks {@code xs} a vector at a time; returns the worst error. */
    private static long check(float[] xs, int n) {
        VectorSpecies<Float> sp = FloatVector.SPECIES_PREFERRED;
        float[] out = new float[sp.length()];
        long worst = 0;
        for (int i = 0; i + sp.length() <= n; i += sp.length()) {
            VectorExp.exp(FloatVector.fromArray(sp, xs, i)).intoArray(out, 0);
            for (int l = 0; l < sp.length(); l++) {
                float x = xs[i + l], got = out[l];
                long e = ulps((float) Math.exp(x), got);
                assertTrue(e <= VectorExp.MAX_ULP, () -> "exp(" + x + " = 0x" + Integer.toHexString(Float.floatToRawIntBits(x)) + "): expected "
                        + (float) Math.exp(x) + ", got " + got);
                worst = Math.max(worst, e);
            }
        }
        return worst;
    }

    @Test
    void withinTheBoundOverTheWholeFloatRange() {
        assumeTrue(VectorApi.enabled(), "needs the Vector API");
        int lanes = FloatVector.SPECIES_PREFERRED.length();
        float[] xs = new float[lanes * 4096];
        int n = 0;
        long worst = 0;
        for (long bits = 0; bits < (1L << 32); bits += 4099) {
            xs[n++] = Float.intBitsToFloat((int) bits);
            if (n == xs.length) {
                worst = Math.max(worst, check(xs, n));
                n = 0;
            }
        }
        worst = Math.max(worst, check(xs, n - n % lanes));
        assertTrue(worst <= VectorExp.MAX_ULP, "worst error " + worst + " ulp");
    }

    @Test
    void edgesAndSpecialValues() {
        assumeTrue(VectorApi.enabled(), "needs the Vector API");
        int lanes = FloatVector.SPECIES_PREFERRED.length();
        java.util.List<Float> values = new java.util.ArrayList<>(java.util.List.of(0f, -0f, Float.NaN, Float.POSITIVE_INFINITY,
                Float.NEGATIVE_INFINITY, Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, 1f, -1f));
        for (float edge : new float[] {88.72283f, -87.33655f, -103.27893f, -103.972076f, 88.8f, -104f}) {
            float x = edge;
            for (int i = 0; i < 2000; i++) x = Math.nextDown(x);
            for (int i = 0; i < 4000; i++, x = Math.nextUp(x)) values.add(x);
        }
        float[] xs = new float[(values.size() + lanes - 1) / lanes * lanes];
        for (int i = 0; i < xs.length; i++) xs[i] = values.get(Math.min(i, values.size() - 1));
        check(xs, xs.length);
        float[] one = new float[lanes];
        java.util.Arrays.fill(one, Float.NaN);
        assertTrue(Float.isNaN(VectorExp.exp(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, one, 0)).lane(0)));
        java.util.Arrays.fill(one, Float.POSITIVE_INFINITY);
        assertEquals(Float.POSITIVE_INFINITY, VectorExp.exp(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, one, 0)).lane(0));
        java.util.Arrays.fill(one, Float.NEGATIVE_INFINITY);
        assertEquals(0f, VectorExp.exp(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, one, 0)).lane(0));
    }
}
