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
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** sum, mean, softmax and log_softmax against naive loops; f32 results must agree with double to 1e-6. */
class ReductionSoftmaxPropertyTest {

    @Property(tries = 120)
    void sumAndMeanMatchNaive(@ForAll @Size(min = 1, max = 4) List<@IntRange(min = 1, max = 5) Integer> dims,
                              @ForAll @Size(4) List<Boolean> reduce, @ForAll boolean keepDim,
                              @ForAll boolean permuted, @ForAll long seed) {
        long[] shape = dims.stream().mapToLong(Integer::longValue).toArray();
        Random r = new Random(seed);
        NDArray x = Tensors.randomF32(r, shape);
        if (permuted && shape.length > 1) x = Tensors.randomF32(r, reverse(shape)).permute(reverseAxes(shape.length));
        List<Integer> axesList = new ArrayList<>();
        for (int i = 0; i < shape.length; i++) if (reduce.get(i)) axesList.add(i - (i % 2) * shape.length);
        int[] axes = axesList.stream().mapToInt(Integer::intValue).toArray();
        boolean[] reduced = new boolean[shape.length];
        for (int a : axes) reduced[a < 0 ? a + shape.length : a] = true;
        if (axes.length == 0) java.util.Arrays.fill(reduced, true);

        long[] outShape = reducedShape(shape, reduced, keepDim);
        long[] compact = reducedShape(shape, reduced, false);
        double[] sums = new double[(int) Shapes.numel(compact)];
        long count = 1;
        for (int d = 0; d < shape.length; d++) if (reduced[d]) count *= shape[d];
        for (long i = 0; i < x.numel(); i++) {
            long[] idx = Naive.unravel(i, shape);
            long flat = 0;
            for (int d = 0; d < shape.length; d++) if (!reduced[d]) flat = flat * shape[d] + idx[d];
            sums[(int) flat] += x.getDouble(idx);
        }
        NDArray sum = Reductions.sum(x, axes, keepDim);
        NDArray mean = Reductions.mean(x, axes, keepDim);
        assertArrayEquals(outShape, sum.shape());
        assertArrayEquals(outShape, mean.shape());
        double[] means = new double[sums.length];
        for (int i = 0; i < sums.length; i++) means[i] = sums[i] / count;
        Tensors.assertCloseRel(sums, sum, 1e-6, "sum");
        Tensors.assertCloseRel(means, mean, 1e-6, "mean");
    }

    /** Infinities survive the compensated sum (whose correction would compute inf - inf = NaN), as in torch. */
    @Example
    void sumAndMeanOfInfinitiesAreInfiniteNotNaN() {
        double inf = Double.POSITIVE_INFINITY;
        // the last row overflows to inf while summing
        double[][] rows = {{1, inf, 2}, {-inf, 1}, {inf, -inf}, {inf, inf}, {Double.MAX_VALUE, Double.MAX_VALUE, -1}};
        double[] want = {inf, -inf, Double.NaN, inf, inf};
        for (DType t : new DType[] {DType.F32, DType.F64}) {
            for (int k = 0; k < rows.length; k++) {
                NDArray x = NDArray.of(rows[k], rows[k].length).to(t);
                assertEquals(want[k], Reductions.sum(x, null, false).getFlat(0), t + " sum " + java.util.Arrays.toString(rows[k]));
                assertEquals(want[k], Reductions.mean(x, null, false).getFlat(0), t + " mean " + java.util.Arrays.toString(rows[k]));
            }
        }
        // the strided, memory-order (innermost axis kept) and parallel paths
        NDArray columns = NDArray.of(new double[] {1, -inf, inf, 1, 2, 3}, 3, 2);
        assertArrayEquals(new double[] {inf, -inf}, Reductions.sum(columns, new int[] {0}, false).toDoubleArray());
        assertArrayEquals(new double[] {inf, -inf}, Reductions.sum(columns.permute(1, 0).contiguous().permute(1, 0), new int[] {0}, false).toDoubleArray());
        double[] big = new double[(int) Parallel.PARALLEL_THRESHOLD * 4];
        java.util.Arrays.fill(big, 1);
        big[big.length / 2] = inf;
        assertEquals(inf, Reductions.sum(NDArray.of(big, big.length), null, false).getFlat(0));
        big[big.length - 1] = -inf;
        assertEquals(Double.NaN, Reductions.sum(NDArray.of(big, big.length), null, false).getFlat(0));
    }

    @Property(tries = 80)
    void softmaxAndLogSoftmaxMatchNaive(@ForAll @Size(min = 1, max = 3) List<@IntRange(min = 1, max = 6) Integer> dims,
                                        @ForAll @IntRange(min = -3, max = 2) int axisChoice,
                                        @ForAll @IntRange(min = 0, max = 3) int magnitude, @ForAll long seed) {
        long[] shape = dims.stream().mapToLong(Integer::longValue).toArray();
        int rank = shape.length;
        int axis = Math.floorMod(axisChoice, rank) - (axisChoice < 0 ? rank : 0);
        int a = axis < 0 ? axis + rank : axis;
        Random r = new Random(seed);
        NDArray x = Elementwise.mul(Tensors.randomF32(r, shape), NDArray.full(DType.F32, Math.pow(10, magnitude)));
        NDArray sm = Softmax.softmax(x, axis);
        NDArray lsm = Softmax.logSoftmax(x, axis);
        double[] expected = new double[(int) x.numel()];
        double[] expectedLog = new double[expected.length];
        for (int i = 0; i < expected.length; i++) {
            long[] idx = Naive.unravel(i, shape);
            double max = Double.NEGATIVE_INFINITY;
            for (long j = 0; j < shape[a]; j++) max = Math.max(max, x.getDouble(with(idx, a, j)));
            double denom = 0;
            for (long j = 0; j < shape[a]; j++) denom += Math.exp(x.getDouble(with(idx, a, j)) - max);
            expected[i] = Math.exp(x.getDouble(idx) - max) / denom;
            expectedLog[i] = x.getDouble(idx) - max - Math.log(denom);
        }
        Tensors.assertClose(expected, sm, 1e-6, "softmax axis " + axis);
        double[] tol = new double[expected.length];
        for (int i = 0; i < tol.length; i++) tol[i] = 1e-6 * Math.max(1, Math.abs(expectedLog[i]));
        Tensors.assertClose(expectedLog, lsm, tol, "logSoftmax axis " + axis);
    }

    @Example
    void softmaxIsStableForHugeLogits() {
        NDArray x = NDArray.of(new float[] {1000f, 1001f, 1002f});
        double e0 = 1 / (1 + Math.E + Math.E * Math.E);
        Tensors.assertClose(new double[] {e0, e0 * Math.E, e0 * Math.E * Math.E}, Softmax.softmax(x, 0), 1e-7, "softmax");
        float[] log = Softmax.logSoftmax(x, -1).toFloatArray();
        assertEquals(Math.log(e0), log[0], 1e-5);
    }

    /**
     * Rows with infinities or NaN give PyTorch's results (pytorch/pytorch#6864, #25110), which are also ONNX's
     * {@code exp(x - max) / sum}: the max is subtracted even when infinite, so a +inf or NaN makes the whole row NaN
     * (not [NaN, 0]), a row of only -inf is NaN, and a -inf among finite values is exactly 0 (log-softmax -inf).
     */
    @Example
    void softmaxOfRowsWithInfinitiesOrNaNIsTorchs() {
        double inf = Double.POSITIVE_INFINITY, nan = Double.NaN;
        double[][] rows = {{0, -inf}, {0, inf}, {-inf, 0, -inf}, {0, inf, 0}, {-inf, 0, inf}, {-inf, -inf}, {1, nan}, {inf, inf}};
        double[][] softmax = {{1, 0}, {nan, nan}, {0, 1, 0}, {nan, nan, nan}, {nan, nan, nan}, {nan, nan}, {nan, nan}, {nan, nan}};
        double[][] logSoftmax = {{0, -inf}, {nan, nan}, {-inf, 0, -inf}, {nan, nan, nan}, {nan, nan, nan}, {nan, nan}, {nan, nan}, {nan, nan}};
        for (DType t : new DType[] {DType.F32, DType.F64, DType.F16, DType.BF16}) {
            for (int k = 0; k < rows.length; k++) {
                NDArray x = NDArray.of(rows[k], rows[k].length).to(t);
                String row = t + " " + java.util.Arrays.toString(rows[k]);
                assertArrayEquals(softmax[k], Softmax.softmax(x, 0).toDoubleArray(), "softmax " + row);
                assertArrayEquals(logSoftmax[k], Softmax.logSoftmax(x, -1).toDoubleArray(), "logSoftmax " + row);
            }
        }
    }

    @Example
    void largeFullReductionIsAccurate() {
        NDArray x = NDArray.full(DType.F32, 0.1, 1000, 1000);   // 0.1f repeated 1e6 times
        double exact = 1e6 * (double) 0.1f;
        assertEquals((float) exact, Reductions.sum(x, null, false).item(), 0.0);
        assertEquals(0.1f, (float) Reductions.mean(x, new int[] {0, 1}, false).item(), 0.0);
        NDArray ints = NDArray.of(new int[] {Integer.MAX_VALUE, Integer.MAX_VALUE});
        NDArray s = Reductions.sum(ints, new int[0], true);
        assertEquals(DType.I64, s.dtype());
        assertArrayEquals(new long[] {1}, s.shape());
        assertEquals(2L * Integer.MAX_VALUE, s.getLong(0));
    }

    @Example
    void halfPrecisionSoftmaxAndSumKeepTheirDtype() {
        NDArray x = NDArray.of(new float[] {0.5f, -1f, 2f, 3f}, 2, 2).to(DType.F16);
        NDArray sm = Softmax.softmax(x, 1);
        assertEquals(DType.F16, sm.dtype());
        double a = 1 / (1 + Math.exp(-1.5)), b = 1 / (1 + Math.exp(1));
        Tensors.assertClose(new double[] {a, 1 - a, b, 1 - b}, sm, 1e-3, "f16 softmax");
        NDArray s = Reductions.sum(x, new int[] {0}, false);
        assertEquals(DType.F16, s.dtype());
        assertArrayEquals(new float[] {2.5f, 2f}, s.toFloatArray());
    }

    private static long[] with(long[] idx, int axis, long v) {
        long[] out = idx.clone();
        out[axis] = v;
        return out;
    }

    private static long[] reducedShape(long[] shape, boolean[] reduced, boolean keepDim) {
        List<Long> out = new ArrayList<>();
        for (int d = 0; d < shape.length; d++) {
            if (!reduced[d]) out.add(shape[d]);
            else if (keepDim) out.add(1L);
        }
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    private static long[] reverse(long[] s) {
        long[] out = new long[s.length];
        for (int i = 0; i < s.length; i++) out[i] = s[s.length - 1 - i];
        return out;
    }

    private static int[] reverseAxes(int rank) {
        int[] p = new int[rank];
        for (int i = 0; i < rank; i++) p[i] = rank - 1 - i;
        return p;
    }
}
