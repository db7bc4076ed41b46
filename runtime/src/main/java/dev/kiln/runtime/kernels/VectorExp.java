package dev.kiln.runtime.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * {@code exp} on f32 vectors in plain Vector API arithmetic (fused multiply-adds, an integer exponent built in the
 * bits), so it is as fast on every platform and every JIT tier gives the same bits: the intrinsic
 * {@code lanewise(EXP)} is a native math library call only where the JDK has one, and its Java fallback rounds
 * differently, which made kernels not reproducible between warm-up and steady state.
 *
 * <p>Method: {@code x = n ln 2 + r} with {@code n = round(x / ln 2)} (Cody-Waite split of ln 2, so {@code r} is exact
 * to the float), {@code |r| <= ln 2 / 2}; {@code e^r} by Cephes' degree-7 polynomial; then times {@code 2^n} as two
 * factors {@code 2^(n/2)} and {@code 2^(n - n/2)}, each a normal float, so results down to the subnormals round once.
 * Inputs are clamped to {@code [-104, 88.8]}, past which the result is 0 or infinity anyway; NaN stays NaN.
 *
 * <p>Accuracy, against {@code (float) Math.exp(x)} (the correctly rounded value, near enough): at most
 * {@value #MAX_ULP} ulp, with infinities, zeros and NaN exactly where Math.exp gives them. {@code VectorExpTest} checks
 * every 4099th float bit pattern (a million values over every exponent, both signs, subnormals included) plus the
 * overflow and underflow edges, ±0, ±inf and NaN; a sweep of every 61st pattern (70 million values) found the same
 * 1 ulp worst case. Only loaded where
 * {@code jdk.incubator.vector} is present.
 */
public final class VectorExp {
    /** The tested error bound, in units in the last place of the f32 result. */
    public static final int MAX_ULP = 1;

    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    private static final float ROUNDER = 12582912f;   // 1.5 * 2^23: adding it rounds to an integer in the low mantissa bits
    private static final float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f, P3 = 4.1665795894e-2f,
            P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;

    private VectorExp() {}

    /** {@code e^x} per lane, within {@value #MAX_ULP} ulp of {@code (float) Math.exp(x)}. */
    public static FloatVector exp(FloatVector x) {
        FloatVector c = x.max(-104f).min(88.8f);   // NaN propagates through min/max
        FloatVector t = c.fma(LOG2E, ROUNDER);
        FloatVector n = t.sub(ROUNDER);
        FloatVector r = c.sub(n.mul(LN2_HI));   // exact: LN2_HI has 9 significant bits and |n| <= 150
        r = n.fma(FloatVector.broadcast(x.species(), -LN2_LO), r);
        FloatVector p = r.fma(P0, P1);
        p = p.fma(r, FloatVector.broadcast(x.species(), P2));
        p = p.fma(r, FloatVector.broadcast(x.species(), P3));
        p = p.fma(r, FloatVector.broadcast(x.species(), P4));
        p = p.fma(r, FloatVector.broadcast(x.species(), P5));
        p = p.fma(r.mul(r), r.add(1f));
        IntVector ni = t.reinterpretAsInts().sub(Float.floatToRawIntBits(ROUNDER));
        IntVector half = ni.lanewise(VectorOperators.ASHR, 1);
        FloatVector scale1 = half.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector scale2 = ni.sub(half).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(scale1).mul(scale2);
    }
}
