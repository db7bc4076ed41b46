package dev.kiln.ir;

import dev.kiln.ir.LowPrecision.RoundMode;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link LowPrecision} against independent references: the small float formats by enumerating every code and
 * picking the nearest value (ties to the even code), f8e8m0 by searching powers of two, and the sub-byte
 * integers by modular arithmetic.
 */
class LowPrecisionPropertyTest {

    private static final DType[] SMALL_FLOATS = {DType.F8E4M3FN, DType.F8E4M3FNUZ, DType.F8E5M2, DType.F8E5M2FNUZ, DType.F4E2M1};

    /** Exponent bits, mantissa bits, bias. */
    private static int[] layout(DType t) {
        return switch (t) {
            case F8E4M3FN -> new int[] {4, 3, 7};
            case F8E4M3FNUZ -> new int[] {4, 3, 8};
            case F8E5M2 -> new int[] {5, 2, 15};
            case F8E5M2FNUZ -> new int[] {5, 2, 16};
            case F4E2M1 -> new int[] {2, 1, 1};
            default -> throw new IllegalArgumentException(t.toString());
        };
    }

    private static boolean fnuz(DType t) { return t == DType.F8E4M3FNUZ || t == DType.F8E5M2FNUZ; }

    /** The magnitude of positive code {@code c} by the textbook formula, or NaN/inf for the special codes. */
    private static double magnitude(DType t, int c) {
        int[] l = layout(t);
        int e = c >> l[1], m = c & ((1 << l[1]) - 1);
        if (t == DType.F8E4M3FN && c == 0x7F) return Double.NaN;
        if (t == DType.F8E5M2 && e == 31) return m == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        return e == 0 ? m * Math.pow(2, 1 - l[2] - l[1]) : (1 + m / Math.pow(2, l[1])) * Math.pow(2, e - l[2]);
    }

    private static int signBit(DType t) { return t == DType.F4E2M1 ? 0x8 : 0x80; }

    /** The finite positive codes in increasing order. */
    private static List<Integer> finiteCodes(DType t) {
        List<Integer> codes = new ArrayList<>();
        for (int c = 0; c < signBit(t); c++) if (Double.isFinite(magnitude(t, c))) codes.add(c);
        return codes;
    }

    @Test
    void decodeMatchesTheFormulaForEveryCode() {
        for (DType t : SMALL_FLOATS) {
            for (int c = 0; c < 2 * signBit(t); c++) {
                boolean negative = c >= signBit(t);
                double want = negative ? -magnitude(t, c - signBit(t)) : magnitude(t, c);
                if (fnuz(t) && c == 0x80) want = Double.NaN;
                double got = LowPrecision.decode(t, (byte) c);
                if (Double.isNaN(want)) assertTrue(Double.isNaN(got), t + " code " + c);
                else assertEquals(Double.doubleToRawLongBits(want), Double.doubleToRawLongBits(got), t + " code " + c);
            }
        }
        assertEquals(448.0, LowPrecision.decode(DType.F8E4M3FN, (byte) 0x7E));
        assertEquals(240.0, LowPrecision.decode(DType.F8E4M3FNUZ, (byte) 0x7F));
        assertEquals(57344.0, LowPrecision.decode(DType.F8E5M2, (byte) 0x7B));
        assertEquals(6.0, LowPrecision.decode(DType.F4E2M1, (byte) 0x7));
    }

    /** The expected code of {@code x} by brute force: nearest finite value, ties to the even code, then overflow rules. */
    private static int reference(DType t, double x, boolean saturate) {
        List<Integer> codes = finiteCodes(t);
        int maxCode = codes.get(codes.size() - 1);
        double max = magnitude(t, maxCode);
        int sign = Double.doubleToRawLongBits(x) < 0 ? signBit(t) : 0;
        if (Double.isNaN(x)) return t == DType.F4E2M1 ? 0x8 : fnuz(t) ? 0x80 : sign | (t == DType.F8E4M3FN ? 0x7F : 0x7E);
        double a = Math.abs(x);
        // a virtual code just past max: one step of the top binade further, with the parity of maxCode + 1
        double virtual = max + (max - magnitude(t, maxCode - 1));
        int best = -1;
        double bestDistance = Double.POSITIVE_INFINITY;
        List<Integer> candidates = new ArrayList<>(codes);
        candidates.add(maxCode + 1);
        for (int c : candidates) {
            double v = c == maxCode + 1 ? virtual : magnitude(t, c);
            double d = Math.abs(a - v);
            if (d < bestDistance || (d == bestDistance && (c & 1) == 0)) {
                best = c;
                bestDistance = d;
            }
        }
        if (Double.isInfinite(a) || a > virtual || best == maxCode + 1) {
            if (saturate || t == DType.F4E2M1) return sign | maxCode;
            if (t == DType.F8E5M2) return sign | 0x7C;
            return t == DType.F8E4M3FN ? sign | 0x7F : 0x80;
        }
        if (best == 0 && fnuz(t)) return 0;
        return sign | best;
    }

    private static void check(DType t, double x, boolean saturate) {
        int want = reference(t, x, saturate);
        int got = LowPrecision.encodeFloat(t, x, saturate, RoundMode.UP) & 0xFF;
        assertEquals(want, got, () -> t + " saturate=" + saturate + " x=" + x + ": expected 0x" + Integer.toHexString(want)
                + ", got 0x" + Integer.toHexString(got));
    }

    @Test
    void everyCodeMidpointAndNeighbourRoundsLikeTheReference() {
        for (DType t : SMALL_FLOATS) {
            List<Integer> codes = finiteCodes(t);
            List<Double> values = new ArrayList<>();
            for (int c : codes) values.add(magnitude(t, c));
            int maxCode = codes.get(codes.size() - 1);
            values.add(2 * magnitude(t, maxCode) - magnitude(t, maxCode - 1));
            for (int i = 0; i + 1 < values.size(); i++) {
                double lo = values.get(i), hi = values.get(i + 1), mid = (lo + hi) / 2;
                for (double x : new double[] {lo, Math.nextUp(lo), Math.nextDown(mid), mid, Math.nextUp(mid), hi}) {
                    for (boolean saturate : new boolean[] {true, false}) {
                        check(t, x, saturate);
                        check(t, -x, saturate);
                    }
                }
            }
            for (double x : new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 0.0, -0.0, 1e30, -1e30, 1e-30, -1e-30}) {
                check(t, x, true);
                check(t, x, false);
            }
        }
    }

    @Provide
    Arbitrary<Float> floats() {
        return Arbitraries.oneOf(
                Arbitraries.integers().map(Float::intBitsToFloat),
                Arbitraries.floats().between(-70000f, 70000f).ofScale(6),
                Arbitraries.floats().between(-1f, 1f).ofScale(9),
                Arbitraries.floats().between(-1e-4f, 1e-4f).ofScale(12));
    }

    @Property(tries = 2000)
    void f32RoundsToTheNearestCodeTiesToEven(@ForAll("floats") float x, @ForAll boolean saturate) {
        for (DType t : SMALL_FLOATS) check(t, x, saturate);
    }

    @Property(tries = 500)
    void representableValuesRoundTrip(@ForAll("floats") float x) {
        for (DType t : SMALL_FLOATS) {
            byte code = LowPrecision.encodeFloat(t, x, true, RoundMode.UP);
            double v = LowPrecision.decode(t, code);
            if (!Double.isNaN(v)) assertEquals(code, LowPrecision.encodeFloat(t, v, false, RoundMode.UP), t + " " + v);
        }
    }

    /** The f8e8m0 code of a positive normal f32 by searching powers of two. */
    private static int e8m0Reference(float x, boolean saturate, RoundMode mode) {
        double a = Math.abs((double) x);
        int lowK = -127;
        while (Math.pow(2, lowK + 1) <= a) lowK++;                       // 2^lowK <= a < 2^(lowK + 1)
        boolean exact = Math.pow(2, lowK) == a;
        int k = switch (mode) {
            case DOWN -> lowK;
            case UP -> exact ? lowK : lowK + 1;
            case NEAREST -> a >= 1.5 * Math.pow(2, lowK) ? lowK + 1 : lowK;
        };
        if (k > 127) return saturate ? 0xFE : 0xFF;
        return k + 127;
    }

    @Property(tries = 2000)
    void e8m0RoundsByMode(@ForAll("floats") float x, @ForAll boolean saturate) {
        if (!Float.isFinite(x) || Math.abs(x) < Float.MIN_NORMAL) return;
        for (RoundMode mode : RoundMode.values()) {
            assertEquals(e8m0Reference(x, saturate, mode), LowPrecision.encodeE8M0(x, saturate, mode) & 0xFF, x + " " + mode);
        }
    }

    @Test
    void e8m0SpecialValues() {
        assertEquals(0x00, LowPrecision.encodeE8M0(0f, true, RoundMode.UP) & 0xFF, "no zero: the smallest code");
        assertEquals(0xFF, LowPrecision.encodeE8M0(Float.NaN, true, RoundMode.UP) & 0xFF);
        assertEquals(0xFF, LowPrecision.encodeE8M0(Float.POSITIVE_INFINITY, true, RoundMode.DOWN) & 0xFF);
        assertEquals(0x80, LowPrecision.encodeE8M0(-2f, true, RoundMode.UP) & 0xFF, "the sign is dropped");
        assertEquals(0xFE, LowPrecision.encodeE8M0(Float.MAX_VALUE, true, RoundMode.UP) & 0xFF);
        assertEquals(0xFF, LowPrecision.encodeE8M0(Float.MAX_VALUE, false, RoundMode.UP) & 0xFF);
        assertEquals(0x01, LowPrecision.encodeE8M0(Float.MIN_VALUE, true, RoundMode.UP) & 0xFF, "f32 subnormals round up to 2^-126");
        assertTrue(Double.isNaN(LowPrecision.decode(DType.F8E8M0, (byte) 0xFF)));
        assertEquals(Math.scalb(1.0, -127), LowPrecision.decode(DType.F8E8M0, (byte) 0));
        assertEquals(Math.scalb(1.0, 127), LowPrecision.decode(DType.F8E8M0, (byte) 0xFE));
    }

    @Property
    void subByteIntegersWrapModularly(@ForAll long v) {
        assertEquals(Math.floorMod(v + 8, 16) - 8, (long) LowPrecision.decode(DType.I4, LowPrecision.wrapInt(DType.I4, v)));
        assertEquals(Math.floorMod(v, 16), (long) LowPrecision.decode(DType.U4, LowPrecision.wrapInt(DType.U4, v)));
        assertEquals(Math.floorMod(v + 2, 4) - 2, (long) LowPrecision.decode(DType.I2, LowPrecision.wrapInt(DType.I2, v)));
        assertEquals(Math.floorMod(v, 4), (long) LowPrecision.decode(DType.U2, LowPrecision.wrapInt(DType.U2, v)));
        // the stored byte is the sign- or zero-extended value itself
        assertEquals(Math.floorMod(v + 8, 16) - 8, LowPrecision.wrapInt(DType.I4, v));
    }

    @Property
    void floatsTruncateTowardZeroThenWrapToSubByteIntegers(@ForAll("floats") float x) {
        if (!Float.isFinite(x) || Math.abs(x) > 1e15) return;
        long truncated = (long) x;
        assertEquals(Math.floorMod(truncated + 8, 16) - 8, LowPrecision.encode(DType.I4, x));
        assertEquals(Math.floorMod(truncated, 4), LowPrecision.encode(DType.U2, x));
    }

    @Test
    void roundModeNames() {
        assertEquals(RoundMode.NEAREST, RoundMode.of("nearest"));
        assertEquals("down", RoundMode.DOWN.onnxName());
    }
}
