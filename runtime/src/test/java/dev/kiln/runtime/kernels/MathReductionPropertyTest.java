package dev.kiln.runtime.kernels;

import dev.kiln.ir.DType;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.Shapes;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** prod, amax, amin, logsumexp, argmax and argmin against naive loops over random shapes, axes and layouts. */
class MathReductionPropertyTest {

    /** A random tensor of {@code shape}; when {@code permuted}, a non-contiguous view (reversed storage). */
    private static NDArray random(Random r, DType t, long[] shape, boolean permuted, int intRange) {
        int rank = shape.length;
        long[] storage = shape.clone();
        if (permuted) for (int i = 0; i < rank; i++) storage[i] = shape[rank - 1 - i];
        NDArray a = NDArray.zeros(t, storage);
        for (long i = 0; i < a.numel(); i++) {
            a.setFlat(i, t.isFloatingPoint() ? r.nextDouble() * 4 - 2 : r.nextInt(2 * intRange + 1) - intRange);
        }
        if (!permuted) return a;
        int[] perm = new int[rank];
        for (int i = 0; i < rank; i++) perm[i] = rank - 1 - i;
        return a.permute(perm);
    }

    /** Output index (compact, reduced dims dropped) of input index {@code idx}. */
    private static int outIndex(long[] idx, long[] shape, boolean[] reduced) {
        long flat = 0;
        for (int d = 0; d < shape.length; d++) if (!reduced[d]) flat = flat * shape[d] + idx[d];
        return (int) flat;
    }

    private static long[] reducedShape(long[] shape, boolean[] reduced, boolean keepDim) {
        List<Long> out = new ArrayList<>();
        for (int d = 0; d < shape.length; d++) {
            if (!reduced[d]) out.add(shape[d]);
            else if (keepDim) out.add(1L);
        }
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    @Property(tries = 60)
    void prodAmaxAminLogsumexpMatchNaive(@ForAll @Size(max = 4) List<@IntRange(min = 1, max = 4) Integer> dims,
                                         @ForAll @Size(4) List<Boolean> reduce, @ForAll boolean keepDim,
                                         @ForAll boolean permuted, @ForAll @IntRange(max = 2) int dtype, @ForAll long seed) {
        long[] shape = dims.stream().mapToLong(Integer::longValue).toArray();
        int rank = shape.length;
        DType t = List.of(DType.F32, DType.F64, DType.I32).get(dtype);
        Random r = new Random(seed);
        NDArray x = random(r, t, shape, permuted, 1);   // ints in [-1, 1]: products stay exact in i64 and double
        List<Integer> axesList = new ArrayList<>();
        for (int i = 0; i < rank; i++) if (reduce.get(i)) axesList.add(r.nextBoolean() ? i : i - rank);
        int[] axes = axesList.stream().mapToInt(Integer::intValue).toArray();
        boolean[] reduced = new boolean[rank];
        for (int a : axes) reduced[a < 0 ? a + rank : a] = true;
        if (axes.length == 0) Arrays.fill(reduced, true);

        int outputs = (int) Shapes.numel(reducedShape(shape, reduced, false));
        double[] prod = new double[outputs], lseSum = new double[outputs];
        double[] max = new double[outputs], min = new double[outputs];
        Arrays.fill(prod, 1);
        Arrays.fill(max, Double.NEGATIVE_INFINITY);
        Arrays.fill(min, Double.POSITIVE_INFINITY);
        for (long i = 0; i < x.numel(); i++) {
            long[] idx = Naive.unravel(i, shape);
            int o = outIndex(idx, shape, reduced);
            double v = x.getDouble(idx);
            prod[o] *= v;
            max[o] = Math.max(max[o], v);
            min[o] = Math.min(min[o], v);
        }
        for (long i = 0; i < x.numel(); i++) {
            long[] idx = Naive.unravel(i, shape);
            int o = outIndex(idx, shape, reduced);
            lseSum[o] += Math.exp(x.getDouble(idx) - max[o]);
        }
        long[] outShape = reducedShape(shape, reduced, keepDim);
        NDArray p = MathReductions.prod(x, axes, keepDim);
        NDArray hi = MathReductions.amax(x, axes, keepDim), lo = MathReductions.amin(x, axes, keepDim);
        assertEquals(t.isFloatingPoint() ? t : DType.I64, p.dtype());
        assertEquals(t, hi.dtype());
        for (NDArray y : List.of(p, hi, lo)) assertArrayEquals(outShape, y.shape());
        Tensors.assertCloseRel(prod, p, t == DType.F32 ? 1e-6 : 1e-12, "prod");
        assertArrayEquals(max, hi.toDoubleArray(), "amax");
        assertArrayEquals(min, lo.toDoubleArray(), "amin");
        if (t.isFloatingPoint()) {
            double[] lse = new double[outputs];
            for (int o = 0; o < outputs; o++) lse[o] = max[o] + Math.log(lseSum[o]);
            NDArray l = MathReductions.logsumexp(x, axes, keepDim);
            assertArrayEquals(outShape, l.shape());
            Tensors.assertCloseRel(lse, l, t == DType.F32 ? 1e-6 : 1e-12, "logsumexp");
        }
    }

    @Property(tries = 60)
    void argmaxArgminFindTheFirstExtreme(@ForAll @Size(min = 1, max = 3) List<@IntRange(min = 1, max = 5) Integer> dims,
                                         @ForAll @IntRange(min = -3, max = 2) int axisChoice, @ForAll boolean keepDim,
                                         @ForAll boolean permuted, @ForAll boolean f32, @ForAll long seed) {
        long[] shape = dims.stream().mapToLong(Integer::longValue).toArray();
        int rank = shape.length;
        int axis = Math.floorMod(axisChoice, rank) - (axisChoice < 0 ? rank : 0);
        int a = axis < 0 ? axis + rank : axis;
        Random r = new Random(seed);
        NDArray x = random(r, f32 ? DType.F32 : DType.I64, shape, permuted, 2);   // 5 values: ties are common
        if (f32) x = MathUnary.round(x);
        NDArray am = MathReductions.argmax(x, axis, keepDim), an = MathReductions.argmin(x, axis, keepDim);
        boolean[] reduced = new boolean[rank];
        reduced[a] = true;
        long[] outShape = reducedShape(shape, reduced, keepDim);
        assertEquals(DType.I64, am.dtype());
        assertArrayEquals(outShape, am.shape());
        assertArrayEquals(outShape, an.shape());
        long[] amax = am.toLongArray(), amin = an.toLongArray();
        for (long i = 0; i < x.numel(); i++) {
            long[] idx = Naive.unravel(i, shape);
            if (idx[a] != 0) continue;
            int o = outIndex(idx, shape, reduced);
            long best = 0, worst = 0;
            for (long j = 1; j < shape[a]; j++) {
                long[] at = idx.clone();
                at[a] = j;
                long[] b = idx.clone(), w = idx.clone();
                b[a] = best;
                w[a] = worst;
                if (x.getDouble(at) > x.getDouble(b)) best = j;
                if (x.getDouble(at) < x.getDouble(w)) worst = j;
            }
            assertEquals(best, amax[o], "argmax at " + Arrays.toString(idx));
            assertEquals(worst, amin[o], "argmin at " + Arrays.toString(idx));
        }
    }

    @Example
    void largeReductionsRunInParallelAndAgreeWithSerialLoops() {
        Random r = new Random(9);
        NDArray x = random(r, DType.F32, new long[] {300, 300}, true, 0);
        float[] v = x.contiguous().toFloatArray();
        NDArray m = MathReductions.amax(x, new int[] {1}, false);
        NDArray arg = MathReductions.argmin(x, 0, false);
        for (int i = 0; i < 300; i++) {
            float best = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < 300; j++) best = Math.max(best, v[i * 300 + j]);
            assertEquals(best, m.getDouble(i), "row " + i);
            int worst = 0;
            for (int j = 1; j < 300; j++) if (v[j * 300 + i] < v[worst * 300 + i]) worst = j;
            assertEquals(worst, arg.getLong(i), "column " + i);
        }
    }
}
