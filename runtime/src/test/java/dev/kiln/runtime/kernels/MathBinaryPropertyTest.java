package dev.kiln.runtime.kernels;

import dev.kiln.ir.DType;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.Shapes;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Broadcast binaries, comparisons, logic and where against naive per-element loops. */
class MathBinaryPropertyTest {
    private static final List<DType> NUMERIC = List.of(DType.F32, DType.F64, DType.I32, DType.I64);

    /** The last {@code rank - drop} dims of {@code dims}, with those flagged in {@code ones} set to 1. */
    private static long[] operandShape(List<Integer> dims, List<Boolean> ones, int drop) {
        int keep = Math.max(0, dims.size() - drop);
        long[] s = new long[keep];
        for (int i = 0; i < keep; i++) {
            int d = dims.size() - keep + i;
            s[i] = ones.get(d) ? 1 : dims.get(d);
        }
        return s;
    }

    /** Values of {@code dtype}: floats in [lo, hi), ints in [-9, 9] (never 0 when {@code nonZero}); maybe transposed. */
    private static NDArray random(Random r, DType t, long[] shape, double lo, double hi, boolean nonZero, boolean transposed) {
        NDArray a = transposed && shape.length >= 2
                ? NDArray.zeros(t, swapLast(shape)).transpose(-1, -2) : NDArray.zeros(t, shape);
        NDArray c = NDArray.zeros(t, a.shape());
        for (long i = 0; i < c.numel(); i++) {
            long v = r.nextInt(19) - 9;
            c.setFlat(i, t.isFloatingPoint() ? lo + (hi - lo) * r.nextDouble() : (nonZero && v == 0 ? 1 : v));
        }
        a.assign(c);
        return a;
    }

    private static long[] swapLast(long[] s) {
        long[] o = s.clone();
        o[s.length - 1] = s[s.length - 2];
        o[s.length - 2] = s[s.length - 1];
        return o;
    }

    /** Element of {@code x} for output index {@code out} under broadcasting. */
    private static double at(NDArray x, long[] out) { return x.getDouble(Naive.broadcastIndex(out, x.shape())); }

    private static long atLong(NDArray x, long[] out) { return x.getLong(Naive.broadcastIndex(out, x.shape())); }

    @Property(tries = 60)
    void remainderMaximumMinimumAndPowMatchNaive(@ForAll @Size(max = 4) List<@IntRange(min = 1, max = 4) Integer> dims,
                                                 @ForAll @Size(4) List<Boolean> onesA, @ForAll @Size(4) List<Boolean> onesB,
                                                 @ForAll @IntRange(max = 4) int dropA, @ForAll @IntRange(max = 4) int dropB,
                                                 @ForAll @IntRange(max = 3) int dtype, @ForAll boolean transposed,
                                                 @ForAll long seed) {
        Random r = new Random(seed);
        DType t = NUMERIC.get(dtype);
        NDArray a = random(r, t, operandShape(dims, onesA, dropA), -5, 5, false, transposed);
        NDArray b = random(r, t, operandShape(dims, onesB, dropB), 0.3, 3, true, false);
        if (r.nextBoolean()) b = Elementwise.neg(b);
        long[] shape = Naive.broadcastShape(a.shape(), b.shape());
        NDArray rem = Elementwise.remainder(a, b), max = Elementwise.maximum(a, b), min = Elementwise.minimum(a, b);
        for (NDArray y : List.of(rem, max, min)) {
            assertEquals(t, y.dtype());
            assertArrayEquals(shape, y.shape());
        }
        for (long i = 0; i < Shapes.numel(shape); i++) {
            long[] o = Naive.unravel(i, shape);
            if (t.isFloatingPoint()) {
                double x = at(a, o), y = at(b, o);
                double q = Math.floor(x / y);
                double expected = x - y * q;   // Python's definition; agrees with fmod + fix-up up to rounding
                double tol = t == DType.F32 ? 1e-5 : 1e-12;
                assertEquals(expected, rem.getDouble(o), tol * Math.max(1, Math.abs(y)), "remainder " + x + " % " + y);
                assertEquals(Math.max(x, y), max.getDouble(o));
                assertEquals(Math.min(x, y), min.getDouble(o));
            } else {
                long x = atLong(a, o), y = atLong(b, o);
                assertEquals(Math.floorMod(x, y), rem.getLong(o), x + " % " + y);
                assertEquals(Math.max(x, y), max.getLong(o));
                assertEquals(Math.min(x, y), min.getLong(o));
            }
        }
        if (t.isFloatingPoint()) {
            NDArray base = MathUnary.abs(a);
            NDArray pow = Elementwise.pow(base, b);
            for (long i = 0; i < Shapes.numel(shape); i++) {
                long[] o = Naive.unravel(i, shape);
                double expected = Math.exp(at(b, o) * Math.log(at(base, o)));
                Tensors.assertCloseRel(new double[] {expected}, NDArray.of(new double[] {pow.getDouble(o)}),
                        t == DType.F32 ? 1e-5 : 1e-11, "pow");
            }
        }
    }

    @Property(tries = 40)
    void comparisonsLogicAndWhereMatchNaive(@ForAll @Size(max = 3) List<@IntRange(min = 1, max = 4) Integer> dims,
                                            @ForAll @Size(4) List<Boolean> onesA, @ForAll @Size(4) List<Boolean> onesB,
                                            @ForAll @Size(4) List<Boolean> onesC, @ForAll @IntRange(max = 3) int dropC,
                                            @ForAll @IntRange(max = 3) int dtype, @ForAll boolean transposed,
                                            @ForAll long seed) {
        Random r = new Random(seed);
        DType t = NUMERIC.get(dtype);
        // Small integer values so that ties (le/ge/ne boundaries) are common in every dtype.
        NDArray a = MathUnary.round(random(r, t, operandShape(dims, onesA, 0), -2, 2, false, transposed));
        NDArray b = MathUnary.round(random(r, t, operandShape(dims, onesB, 1), -2, 2, false, false));
        NDArray cond = Elementwise.gt(random(r, DType.F32, operandShape(dims, onesC, dropC), -1, 1, false, false),
                NDArray.full(DType.F32, 0));
        long[] shape = Naive.broadcastShape(a.shape(), b.shape());
        NDArray ne = Elementwise.ne(a, b), le = Elementwise.le(a, b), ge = Elementwise.ge(a, b);
        NDArray aPos = Elementwise.gt(a, NDArray.zeros(t)), bPos = Elementwise.gt(b, NDArray.zeros(t));
        NDArray and = Logic.logicalAnd(aPos, bPos), or = Logic.logicalOr(aPos, bPos), not = Logic.logicalNot(aPos);
        for (long i = 0; i < Shapes.numel(shape); i++) {
            long[] o = Naive.unravel(i, shape);
            double x = at(a, o), y = at(b, o);
            assertEquals(x != y, ne.getLong(o) != 0);
            assertEquals(x <= y, le.getLong(o) != 0);
            assertEquals(x >= y, ge.getLong(o) != 0);
            assertEquals(x > 0 && y > 0, and.getLong(o) != 0);
            assertEquals(x > 0 || y > 0, or.getLong(o) != 0);
        }
        for (long i = 0; i < a.numel(); i++) {
            long[] o = Naive.unravel(i, a.shape());
            assertEquals(!(a.getDouble(o) > 0), not.getLong(o) != 0);
        }
        NDArray w = Logic.where(cond, a, b);
        long[] all = Naive.broadcastShape(cond.shape(), shape);
        assertEquals(t, w.dtype());
        assertArrayEquals(all, w.shape());
        for (long i = 0; i < Shapes.numel(all); i++) {
            long[] o = Naive.unravel(i, all);
            NDArray pick = atLong(cond, o) != 0 ? a : b;
            assertEquals(pick.getDouble(Naive.broadcastIndex(o, pick.shape())), w.getDouble(o));
        }
    }

    @Example
    void whereCopiesEveryDtypeAndChecksItsOperands() {
        NDArray cond = NDArray.ofBooleans(new boolean[] {true, false}, 2, 1);
        NDArray a = NDArray.of(new float[] {1.5f, -2f, 3f}).to(DType.F16);
        NDArray w = Logic.where(cond, a, NDArray.full(DType.F16, 9));
        assertEquals(DType.F16, w.dtype());
        assertArrayEquals(new float[] {1.5f, -2f, 3f, 9f, 9f, 9f}, w.toFloatArray());
        NDArray bools = Logic.where(cond, NDArray.ofBooleans(new boolean[] {true}, 1), NDArray.ofBooleans(new boolean[] {false, true}, 2));
        assertArrayEquals(new boolean[] {true, true, false, true}, bools.toBooleanArray());
        assertEquals("where: expects a bool tensor, got f32 of shape [2]; convert with to(bool) first",
                assertThrows(IllegalArgumentException.class,
                        () -> Logic.where(NDArray.zeros(DType.F32, 2), a, a)).getMessage());
        assertEquals("where: dtypes f16 and f32 differ (shapes [3] and []); convert one operand with to(...) first",
                assertThrows(IllegalArgumentException.class,
                        () -> Logic.where(cond, a, NDArray.full(DType.F32, 1))).getMessage());
        assertEquals("logical_and: expects a bool tensor, got i64 of shape [1]; convert with to(bool) first",
                assertThrows(IllegalArgumentException.class,
                        () -> Logic.logicalAnd(NDArray.of(new long[] {1}), cond)).getMessage());
    }
}
