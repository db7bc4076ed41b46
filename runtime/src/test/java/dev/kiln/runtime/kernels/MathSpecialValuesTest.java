package dev.kiln.runtime.kernels;

import dev.kiln.ir.DType;
import dev.kiln.runtime.NDArray;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Edge cases where PyTorch defines a particular answer: signed zeros, NaN, infinities, ties, empty slices.
 * (JUnit's float and double equality tells -0.0 from 0.0 and NaN equals NaN.)
 */
class MathSpecialValuesTest {
    private static final float NAN = Float.NaN, INF = Float.POSITIVE_INFINITY;

    private static NDArray f32(float... v) { return NDArray.of(v); }

    private static NDArray f64(double... v) { return NDArray.of(v); }

    private static String error(org.junit.jupiter.api.function.Executable call) {
        return assertThrows(IllegalArgumentException.class, call).getMessage();
    }

    @Test
    void roundingIsHalfToEvenAndKeepsSignedZeros() {
        NDArray x = f32(0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 0.49999997f, NAN, -INF);
        assertArrayEquals(new float[] {0f, 2f, 2f, -0f, -2f, -2f, 0f, NAN, -INF}, MathUnary.round(x).toFloatArray());
        NDArray y = f32(-0.5f, -0f, 0.5f, 2f, NAN);
        assertArrayEquals(new float[] {-1f, -0f, 0f, 2f, NAN}, MathUnary.floor(y).toFloatArray());
        assertArrayEquals(new float[] {-0f, -0f, 1f, 2f, NAN}, MathUnary.ceil(y).toFloatArray());
    }

    @Test
    void signOfNanAndNegativeZeroIsPositiveZeroAsInTorch() {
        NDArray x = f32(NAN, -0f, 0f, -INF, INF, -2f, 3f);
        assertArrayEquals(new float[] {0f, 0f, 0f, -1f, 1f, -1f, 1f}, MathUnary.sign(x).toFloatArray());
        assertArrayEquals(new float[] {NAN, 0f, 0f, INF, INF, 2f, 3f}, MathUnary.abs(x).toFloatArray());
    }

    @Test
    void logsRootsAndReciprocalsAtZeroAndBelow() {
        NDArray x = f64(0, -0.0, -1, Double.POSITIVE_INFINITY);
        double inf = Double.POSITIVE_INFINITY;
        assertArrayEquals(new double[] {-inf, -inf, Double.NaN, inf}, MathUnary.log(x).toDoubleArray());
        assertArrayEquals(new double[] {0, -0.0, Double.NaN, inf}, MathUnary.sqrt(x).toDoubleArray());
        assertArrayEquals(new double[] {inf, -inf, Double.NaN, 0}, MathUnary.rsqrt(x).toDoubleArray());
        assertArrayEquals(new double[] {inf, -inf, -1, 0}, MathUnary.reciprocal(x).toDoubleArray());
        assertArrayEquals(new double[] {-inf, Double.NaN}, MathUnary.log1p(f64(-1, -2)).toDoubleArray());
        assertArrayEquals(new double[] {0, inf}, MathUnary.exp(f64(-inf, inf)).toDoubleArray());
    }

    @Test
    void erfMatchesTabulatedValuesToAFewUlp() {
        double[] x = {0.1, 0.5, 1, 2, 3, 4.5};
        double[] table = {0.1124629160182849, 0.5204998778130465, 0.8427007929497149, 0.9953222650189527,
                          0.9999779095030014, 0.9999999998033839};
        double[] got = MathUnary.erf(f64(x)).toDoubleArray();
        for (int i = 0; i < x.length; i++) assertEquals(table[i], got[i], 4 * Math.ulp(table[i]), "erf(" + x[i] + ")");
        double[] neg = MathUnary.erf(f64(-1, 0, -0.0, 7, Double.NEGATIVE_INFINITY, Double.NaN)).toDoubleArray();
        assertArrayEquals(new double[] {-got[2], 0, -0.0, 1, -1, Double.NaN}, neg);
    }

    @Test
    void activationsAtTheirEdges() {
        assertArrayEquals(new float[] {NAN, INF, 0f}, MathUnary.silu(f32(-INF, INF, 0f)).toFloatArray(), "silu(-inf) is nan, as in torch");
        assertArrayEquals(new float[] {-0f, -0.02f, 3f}, MathUnary.leakyRelu(f32(-0f, -2f, 3f), 0.01).toFloatArray());
        assertArrayEquals(new double[] {-2, 1}, MathUnary.elu(f64(Double.NEGATIVE_INFINITY, 1), 2).toDoubleArray());
        // softplus is linear only strictly above the threshold
        double[] sp = MathUnary.softplus(f64(25, 10, -100), 2, 20).toDoubleArray();
        assertEquals(25, sp[0]);
        assertEquals(Math.log1p(Math.exp(20)) / 2, sp[1]);
        assertEquals(Math.exp(-200) / 2, sp[2], 1e-100);
        double exact = MathUnary.gelu(f64(1), false).item(), tanh = MathUnary.gelu(f64(1), true).item();
        assertEquals(0.8413447460685429, exact, 1e-15, "x * Phi(x) at 1");
        assertEquals(0.5 * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * 1.044715)), tanh, 1e-15);
    }

    @Test
    void clampFollowsTorch() {
        assertArrayEquals(new float[] {0f, 0f, 0f}, MathUnary.clamp(f32(-1f, 0.5f, 2f), 1, 0).toFloatArray(), "min > max gives max");
        assertArrayEquals(new float[] {NAN, 1f, 0.5f}, MathUnary.clamp(f32(NAN, 3f, 0.5f), 0, 1).toFloatArray(), "nan input stays nan");
        assertArrayEquals(new float[] {NAN, NAN}, MathUnary.clamp(f32(1f, 2f), Double.NaN, 1).toFloatArray(), "nan bound");
        assertArrayEquals(new float[] {0.1f}, MathUnary.clamp(f32(0f), 0.1, 1).toFloatArray(), "bound rounded to f32");
        assertArrayEquals(new long[] {2, 2, 4, 5}, MathUnary.clamp(NDArray.of(new int[] {-7, 2, 4, 9}), 2, 5).toLongArray());
        assertEquals("clamp: min = 0.5 is not a whole number, so it cannot clamp an i64 tensor; convert the tensor to a"
                + " floating-point dtype first", error(() -> MathUnary.clamp(NDArray.of(new long[] {1}), 0.5, 3)));
        assertEquals("clamp: max = 300.0 does not fit in u8",
                error(() -> MathUnary.clamp(NDArray.zeros(DType.U8, 2), 0, 300)));
    }

    @Test
    void powWithAScalarExponentTakesTorchsShortcuts() {
        NDArray x = f64(-0.0, Double.NEGATIVE_INFINITY, 4);
        assertArrayEquals(new double[] {-0.0, Double.NaN, 2}, MathUnary.powScalar(x, 0.5).toDoubleArray(), "sqrt");
        assertArrayEquals(new double[] {Double.NEGATIVE_INFINITY, Double.NaN, 0.5}, MathUnary.powScalar(x, -0.5).toDoubleArray(), "rsqrt");
        assertArrayEquals(new double[] {1, 1, 1}, MathUnary.powScalar(x, 0).toDoubleArray());
        assertArrayEquals(new double[] {-8, 0.25, Double.NaN, 1},
                new double[] {MathUnary.powScalar(f64(-2), 3).item(), MathUnary.powScalar(f64(-2), -2).item(),
                        MathUnary.powScalar(f64(-8), 1.0 / 3).item(), MathUnary.powScalar(f64(Double.NaN), 0).item()});
    }

    @Test
    void powOfTwoTensorsHasCsSpecialCases() {
        NDArray a = f64(1, -1, Double.NaN, -8, 0, -0.0, 2);
        NDArray b = f64(Double.NaN, Double.POSITIVE_INFINITY, 0, 1.0 / 3, -1, -1, 0.5);
        double inf = Double.POSITIVE_INFINITY;
        assertArrayEquals(new double[] {1, 1, 1, Double.NaN, inf, -inf, Math.sqrt(2)}, Elementwise.pow(a, b).toDoubleArray());
        assertEquals("pow: expects a floating-point tensor, got i64 of shape [1]",
                error(() -> Elementwise.pow(NDArray.of(new long[] {2}), NDArray.of(new long[] {2}))));
    }

    @Test
    void remainderTakesTheDivisorsSign() {
        NDArray a = f64(-1, 1, 5.5, -5.5, 5.5, 1, Double.POSITIVE_INFINITY, 3, -3);
        NDArray b = f64(3, -3, 2, 2, -2, 0, 2, Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY);
        assertArrayEquals(new double[] {2, -2, 1.5, 0.5, -0.5, Double.NaN, Double.NaN, 3, Double.POSITIVE_INFINITY},
                Elementwise.remainder(a, b).toDoubleArray());
        assertEquals(0, Elementwise.remainder(f64(-3), f64(3)).item(), 0.0);
        float[] f = Elementwise.remainder(f32(-1f, 7.5f), f32(0.1f, -2f)).toFloatArray();
        assertEquals(0.1f - (1f % 0.1f), f[0], 1e-7f);
        assertEquals(-0.5f, f[1]);
        NDArray ia = NDArray.of(new int[] {-7, 7, -7, 6}), ib = NDArray.of(new int[] {3, -3, -3, 3});
        NDArray ir = Elementwise.remainder(ia, ib);
        assertEquals(DType.I32, ir.dtype());
        assertArrayEquals(new long[] {2, -2, -1, 0}, ir.toLongArray());
        assertEquals("remainder: integer remainder by zero",
                error(() -> Elementwise.remainder(ia, NDArray.of(new int[] {0}))));
    }

    @Test
    void maximumAndMinimumPropagateNanOnBothPaths() {
        for (int n : new int[] {3, 40}) {   // 40 elements reach the vector loop
            float[] a = new float[n], b = new float[n];
            for (int i = 0; i < n; i++) {
                a[i] = i % 3 == 0 ? NAN : i % 3 == 1 ? -0f : i;
                b[i] = i % 5 == 0 ? NAN : i % 3 == 1 ? 0f : -i;
            }
            float[] max = Elementwise.maximum(f32(a), f32(b)).toFloatArray();
            float[] min = Elementwise.minimum(f32(a), f32(b)).toFloatArray();
            for (int i = 0; i < n; i++) {
                boolean nan = Float.isNaN(a[i]) || Float.isNaN(b[i]);
                assertEquals(nan ? NAN : Math.max(a[i], b[i]), max[i], "max " + i);
                assertEquals(nan ? NAN : Math.min(a[i], b[i]), min[i], "min " + i);
            }
            assertEquals(0f, max[1]);
            assertEquals(-0f, min[1]);
        }
        NDArray ints = Elementwise.maximum(NDArray.of(new long[] {Long.MAX_VALUE, -5}), NDArray.of(new long[] {3}));
        assertArrayEquals(new long[] {Long.MAX_VALUE, 3}, ints.toLongArray());
    }

    @Test
    void comparisonsWithNan() {
        NDArray a = f32(NAN, 1f, 1f, 2f), b = f32(NAN, NAN, 1f, 1f);
        assertArrayEquals(new boolean[] {true, true, false, true}, Elementwise.ne(a, b).toBooleanArray());
        assertArrayEquals(new boolean[] {false, false, true, false}, Elementwise.le(a, b).toBooleanArray());
        assertArrayEquals(new boolean[] {false, false, true, true}, Elementwise.ge(a, b).toBooleanArray());
    }

    @Test
    void reductionsWithoutIdentityRejectEmptySlices() {
        NDArray empty = NDArray.zeros(DType.F32, 2, 0);
        assertEquals("amax: cannot reduce over a zero-size dimension of shape [2, 0] (the op has no identity)",
                error(() -> MathReductions.amax(empty, new int[] {1}, false)));
        assertEquals("argmin: cannot reduce over a zero-size dimension of shape [2, 0] (the op has no identity)",
                error(() -> MathReductions.argmin(empty, 1, false)));
        assertArrayEquals(new long[] {0}, MathReductions.amax(empty, new int[] {0}, false).shape(), "nothing to reduce per output");
        assertArrayEquals(new float[] {1f, 1f}, MathReductions.prod(empty, new int[] {1}, false).toFloatArray());
        assertArrayEquals(new float[] {-INF, -INF}, MathReductions.logsumexp(empty, new int[] {1}, false).toFloatArray());
    }

    @Test
    void prodOfIntsIsI64AndSelectionKeepsTheDtype() {
        NDArray ints = NDArray.of(new int[] {65536, 65536, -1});
        NDArray p = MathReductions.prod(ints, null, false);
        assertEquals(DType.I64, p.dtype());
        assertEquals(-4294967296L, p.getLong());
        NDArray m = MathReductions.amax(ints, new int[0], true);
        assertEquals(DType.I32, m.dtype());
        assertArrayEquals(new long[] {1}, m.shape());
        assertEquals(65536, m.getLong(0));
        assertEquals(-1, MathReductions.amin(NDArray.of(new int[] {65536, 65536, -1}).to(DType.I8), null, false).getLong());
    }

    @Test
    void amaxAminPropagateNanAndLogsumexpHandlesInfinities() {
        NDArray x = f32(1f, NAN, 5f, 2f, 3f, 4f).reshape(2, 3);
        assertArrayEquals(new float[] {NAN, 4f}, MathReductions.amax(x, new int[] {1}, false).toFloatArray());
        assertArrayEquals(new float[] {NAN, 2f}, MathReductions.amin(x, new int[] {-1}, false).toFloatArray());
        NDArray y = f64(Double.NEGATIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY, 1, 1000, 1000,
                Double.NaN, 1).reshape(4, 2);
        double[] lse = MathReductions.logsumexp(y, new int[] {1}, false).toDoubleArray();
        assertArrayEquals(new double[] {Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY, 1000 + Math.log(2), Double.NaN}, lse);
        assertEquals(88.72283935546875 + Math.log(2), MathReductions.logsumexp(f32(88.72283935546875f, 88.72283935546875f),
                null, false).item(), 1e-5, "no overflow past f32's exp range");
    }

    @Test
    void argmaxArgminTakeTheFirstOfTiesAndTreatNanAsExtreme() {
        assertEquals(1, MathReductions.argmax(f32(1f, 3f, 3f, 2f), 0, false).getLong());
        assertEquals(1, MathReductions.argmin(f32(2f, 1f, 1f, 3f), 0, false).getLong());
        assertEquals(1, MathReductions.argmax(f32(1f, NAN, 5f, NAN), 0, false).getLong());
        assertEquals(1, MathReductions.argmin(f32(1f, NAN, -5f, NAN), 0, false).getLong());
        NDArray ties = NDArray.of(new long[] {4, 4, 1, 1, 2, 2}, 2, 3);   // rows [4,4,1] [1,2,2]
        NDArray am = MathReductions.argmax(ties, 0, true);
        assertEquals(DType.I64, am.dtype());
        assertArrayEquals(new long[] {1, 3}, am.shape());
        assertArrayEquals(new long[] {0, 0, 1}, am.toLongArray());
        assertArrayEquals(new long[] {2, 0}, MathReductions.argmin(ties, -1, false).toLongArray());
        assertArrayEquals(new long[] {0, 1}, MathReductions.argmax(ties, 1, false).toLongArray(), "first of each tie");
        NDArray scalar = MathReductions.argmax(NDArray.full(DType.F32, 7), -1, false);
        assertEquals(0, scalar.rank());
        assertEquals(0, scalar.getLong());
        assertTrue(error(() -> MathReductions.argmax(NDArray.full(DType.F32, 7), 1, false)).startsWith("argmax: axis 1 is out of range"));
    }
}
