package dev.kiln.runtime.kernels;

import dev.kiln.ir.DType;
import dev.kiln.runtime.NDArray;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The fused f32 attention kernel ({@link Attention}, through {@link EagerF32#attention}) against an f64 oracle written
 * here and against the reference kernel ({@link Fused#attention}, the unfused composition the interpreter runs), on
 * random shapes with odd sizes (vector tails in L, S, D and Dv), leading dims, strided operands (permuted views, as
 * attention's heads are), bool and float masks broadcast from lower ranks, causal masking, fully masked rows (NaN, as
 * the unfused softmax gives) and key counts past one online-softmax block. Values are in [-1, 1); the kernel
 * accumulates in f32, so results agree within {@code 2e-5 * (1 + |expected|)} (the scores' and the weighted sum's
 * rounding over at most a few hundred terms).
 */
class AttentionPropertyTest {

    private static final double TOLERANCE = 2e-5;

    private static NDArray uniform(Random r, long... shape) {
        NDArray a = NDArray.zeros(DType.F32, shape);
        for (long i = 0; i < a.numel(); i++) a.setFlat(i, r.nextDouble() * 2 - 1);
        return a;
    }

    /** A tensor of {@code shape} whose storage has the last two dims swapped, or the two leading dims: a strided view. */
    private static NDArray operand(Random r, long[] shape, int layout) {
        int rank = shape.length;
        if (layout == 0 || rank < 2) return uniform(r, shape);
        int a = layout == 1 || rank < 3 ? rank - 2 : 0, b = layout == 1 || rank < 3 ? rank - 1 : rank - 2;
        long[] stored = shape.clone();
        stored[a] = shape[b];
        stored[b] = shape[a];
        int[] perm = new int[rank];
        for (int i = 0; i < rank; i++) perm[i] = i;
        perm[a] = b;
        perm[b] = a;
        return uniform(r, stored).permute(perm);
    }

    /** The f64 oracle: scores in double, masked, softmax with the max subtracted, weighted sum of v. */
    private static double[] oracle(NDArray q, NDArray k, NDArray v, NDArray mask, double scale, boolean causal) {
        int rank = q.rank();
        long l = q.dim(rank - 2), d = q.dim(rank - 1), s = k.dim(rank - 2), dv = v.dim(rank - 1);
        long batches = q.numel() / Math.max(1, l * d);
        if (l * d == 0) batches = product(q.shape(), rank - 2);
        double[] out = new double[(int) (batches * l * dv)];
        long[] lead = Arrays.copyOf(q.shape(), rank - 2);
        for (long b = 0; b < batches; b++) {
            long[] idx = new long[rank];
            long rest = b;
            for (int i = rank - 3; i >= 0; i--) {
                idx[i] = rest % lead[i];
                rest /= lead[i];
            }
            for (long i = 0; i < l; i++) {
                double[] sc = new double[(int) s];
                double max = Double.NEGATIVE_INFINITY;
                for (long j = 0; j < s; j++) {
                    double dot = 0;
                    for (long c = 0; c < d; c++) dot += at(q, idx, i, c) * at(k, idx, j, c);
                    double x = dot * (float) scale;
                    if (causal && j > i) x = Double.NEGATIVE_INFINITY;
                    if (mask != null) {
                        double m = maskAt(mask, idx, i, j, rank);
                        x = mask.dtype() == DType.BOOL ? (m != 0 ? x : Double.NEGATIVE_INFINITY) : x + m;
                    }
                    sc[(int) j] = x;
                    max = Math.max(max, x);
                }
                double shift = Double.isInfinite(max) ? 0 : max, sum = 0;
                for (int j = 0; j < s; j++) sum += sc[j] = Math.exp(sc[j] - shift);
                for (long c = 0; c < dv; c++) {
                    double acc = 0;
                    for (long j = 0; j < s; j++) acc += sc[(int) j] / sum * at(v, idx, j, c);
                    out[(int) ((b * l + i) * dv + c)] = s == 0 ? 0 : acc;
                }
            }
        }
        return out;
    }

    private static long product(long[] shape, int n) {
        long p = 1;
        for (int i = 0; i < n; i++) p *= shape[i];
        return p;
    }

    private static double at(NDArray t, long[] lead, long row, long col) {
        long[] idx = lead.clone();
        idx[idx.length - 2] = row;
        idx[idx.length - 1] = col;
        return t.getDouble(idx);
    }

    private static double maskAt(NDArray mask, long[] lead, long i, long j, int rank) {
        long[] idx = new long[mask.rank()];
        int shift = rank - mask.rank();
        for (int a = 0; a < mask.rank(); a++) {
            long want = a + shift == rank - 2 ? i : a + shift == rank - 1 ? j : lead[a + shift];
            idx[a] = mask.dim(a) == 1 ? 0 : want;
        }
        return mask.getDouble(idx);
    }

    private static void assertClose(double[] expected, NDArray actual, String what) {
        double[] a = actual.toDoubleArray();
        assertTrue(expected.length == a.length, what + ": " + a.length + " elements, expected " + expected.length);
        for (int i = 0; i < a.length; i++) {
            int k = i;
            boolean ok = Double.isNaN(expected[i]) ? Double.isNaN(a[i]) : Math.abs(expected[i] - a[i]) <= TOLERANCE * (1 + Math.abs(expected[i]));
            assertTrue(ok, () -> what + " element " + k + ": expected " + expected[k] + ", got " + a[k]);
        }
    }

    @Property(tries = 60)
    void fusedKernelMatchesTheOracleAndTheReference(@ForAll @IntRange(min = 0, max = 1 << 20) int seed) {
        assumeTrue(Attention.available(), "needs the Vector API");
        Random r = new Random(seed);
        int rank = 2 + r.nextInt(3);
        long[] lead = new long[rank - 2];
        for (int i = 0; i < lead.length; i++) lead[i] = 1 + r.nextInt(3);
        long l = 1 + r.nextInt(13), d = 1 + r.nextInt(40), dv = 1 + r.nextInt(37);
        long s = r.nextInt(8) == 0 ? 513 + r.nextInt(600) : 1 + r.nextInt(21);
        if (s > 512) d = Math.min(d, 8);
        NDArray q = operand(r, shape(lead, l, d), r.nextInt(3)), k = operand(r, shape(lead, s, d), r.nextInt(3));
        NDArray v = operand(r, shape(lead, s, dv), r.nextInt(3));
        NDArray mask = switch (r.nextInt(3)) {
            case 0 -> null;
            case 1 -> boolMask(r, maskShape(r, lead, l, s));
            default -> uniform(r, maskShape(r, lead, l, s));
        };
        boolean causal = r.nextBoolean();
        double scale = 1 / Math.sqrt(d) * (r.nextBoolean() ? 1 : 3.5);
        long[] outShape = shape(lead, l, dv);
        NDArray fused = EagerF32.attention(q, k, v, mask, scale, causal, outShape);
        String what = "attention lead " + Arrays.toString(lead) + " L " + l + " S " + s + " D " + d + " Dv " + dv + " causal " + causal
                + " mask " + (mask == null ? "none" : mask.dtype() + Arrays.toString(mask.shape()));
        assertArrayEquals(outShape, fused.shape(), what);
        assertClose(oracle(q, k, v, mask, scale, causal), fused, what + " vs f64 oracle");
        assertClose(Fused.attention(q, k, v, mask, (float) scale, causal).toDoubleArray(), fused, what + " vs reference kernel");
    }

    private static long[] shape(long[] lead, long rows, long cols) {
        long[] s = Arrays.copyOf(lead, lead.length + 2);
        s[lead.length] = rows;
        s[lead.length + 1] = cols;
        return s;
    }

    /** [L, S], [S], a full [..., L, S], or with some dims 1: shapes that broadcast to the scores. */
    private static long[] maskShape(Random r, long[] lead, long l, long s) {
        return switch (r.nextInt(4)) {
            case 0 -> new long[] {l, s};
            case 1 -> new long[] {s};
            case 2 -> shape(lead, l, s);
            default -> {
                long[] full = shape(lead, l, s);
                for (int i = 0; i < full.length - 1; i++) if (r.nextBoolean()) full[i] = 1;
                yield full;
            }
        };
    }

    /** Mostly true; one row in four is entirely false when the mask has rows (a fully masked query). */
    private static NDArray boolMask(Random r, long[] shape) {
        NDArray m = NDArray.zeros(DType.BOOL, shape);
        long cols = shape[shape.length - 1];
        for (long i = 0; i < m.numel(); i++) {
            boolean deadRow = shape.length > 1 && (i / cols) % 4 == 3;
            m.segment().set(ValueLayout.JAVA_BYTE, i, (byte) (!deadRow && r.nextInt(5) != 0 ? 1 : 0));
        }
        return m;
    }

    @Example
    void noKeysGivesZerosAsTheUnfusedOps() {
        assumeTrue(Attention.available(), "needs the Vector API");
        Random r = new Random(3);
        NDArray q = uniform(r, 2, 3, 5), k = uniform(r, 2, 0, 5), v = uniform(r, 2, 0, 4);
        NDArray fused = EagerF32.attention(q, k, v, null, 0.5, false, new long[] {2, 3, 4});
        assertArrayEquals(new double[24], fused.toDoubleArray());
        assertArrayEquals(Fused.attention(q, k, v, null, 0.5, false).toDoubleArray(), fused.toDoubleArray());
    }

    @Example
    void otherDtypesAreLeftToTheReferenceKernel() {
        Random r = new Random(4);
        NDArray q = uniform(r, 3, 4).to(DType.F64);
        assertNull(EagerF32.attention(q, q, q, null, 0.5, false, new long[] {3, 4}));
    }

    @Example
    void tooFewStridesIsAClearError() {
        var e = org.junit.jupiter.api.Assertions.assertThrows(dev.kiln.ir.KilnException.class, () -> new Attention.Geometry(new long[] {2}, 3, 3, 4, 4,
                new long[] {12, 4}, new long[] {12, 4, 1}, new long[] {12, 4, 1}, null, new long[] {12, 4, 1}, 1f, false, Attention.Mask.NONE));
        assertTrue(e.getMessage().contains("strides"), e.getMessage());
    }

    @Property(tries = 10)
    void parallelSplitAgreesWithOneThread(@ForAll @IntRange(min = 0, max = 1000) int seed) {
        assumeTrue(Attention.available(), "needs the Vector API");
        Random r = new Random(seed);
        NDArray q = operand(r, new long[] {2, 3, 130, 24}, 2), k = operand(r, new long[] {2, 3, 150, 24}, 1), v = uniform(r, 2, 3, 150, 20);
        int before = Parallel.threads();
        try {
            Parallel.setThreads(1);
            NDArray one = EagerF32.attention(q, k, v, null, 0.2, true, new long[] {2, 3, 130, 20});
            Parallel.setThreads(3);
            NDArray three = EagerF32.attention(q, k, v, null, 0.2, true, new long[] {2, 3, 130, 20});
            assertArrayEquals(one.toDoubleArray(), three.toDoubleArray());
        } finally {
            Parallel.setThreads(before);
        }
    }
}
