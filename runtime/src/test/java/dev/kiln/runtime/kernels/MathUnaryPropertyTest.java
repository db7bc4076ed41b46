package dev.kiln.runtime.kernels;

import dev.kiln.ir.DType;
import dev.kiln.runtime.NDArray;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.util.List;
import java.util.Random;
import java.util.function.DoubleUnaryOperator;
import java.util.function.LongUnaryOperator;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Unary math kernels against per-element references written from the definitions, on random shapes,
 * contiguous and transposed, in f32 and f64 (and ints where the op allows them).
 */
class MathUnaryPropertyTest {

    /** One op: its kernel, a reference in double, and the input range to draw from. */
    record Case(String name, UnaryOperator<NDArray> kernel, DoubleUnaryOperator ref, double lo, double hi) {}

    static double erfByQuadrature(double x) {
        int n = 6000;   // Simpson on 2/sqrt(pi) exp(-t^2): error < 1e-13 for |x| <= 4
        double h = x / n, s = 1 + Math.exp(-x * x);
        for (int i = 1; i < n; i++) s += (i % 2 == 1 ? 4 : 2) * Math.exp(-(i * h) * (i * h));
        return 2 / Math.sqrt(Math.PI) * s * h / 3;
    }

    static double roundHalfEven(double x) {
        double f = Math.floor(x), d = x - f;
        if (d != 0.5) return d < 0.5 ? f : f + 1;
        return f % 2 == 0 ? f : f + 1;
    }

    static final List<Case> FLOAT_CASES = List.of(
            new Case("abs", MathUnary::abs, x -> x < 0 ? -x : x, -3, 3),
            new Case("sign", MathUnary::sign, x -> x > 0 ? 1 : x < 0 ? -1 : 0, -3, 3),
            new Case("exp", MathUnary::exp, Math::exp, -5, 5),
            new Case("log", MathUnary::log, Math::log, 0.01, 5),
            new Case("log1p", MathUnary::log1p, x -> Math.log1p(x), -0.9, 5),
            new Case("sqrt", MathUnary::sqrt, Math::sqrt, 0, 5),
            new Case("rsqrt", MathUnary::rsqrt, x -> 1 / Math.sqrt(x), 0.01, 5),
            new Case("reciprocal", MathUnary::reciprocal, x -> 1 / x, 0.1, 5),
            new Case("sin", MathUnary::sin, Math::sin, -7, 7),
            new Case("cos", MathUnary::cos, Math::cos, -7, 7),
            new Case("erf", MathUnary::erf, MathUnaryPropertyTest::erfByQuadrature, -4, 4),
            new Case("floor", MathUnary::floor, Math::floor, -4, 4),
            new Case("ceil", MathUnary::ceil, Math::ceil, -4, 4),
            new Case("round", MathUnary::round, MathUnaryPropertyTest::roundHalfEven, -4, 4),
            new Case("silu", MathUnary::silu, x -> x * (1 / (1 + Math.exp(-x))), -6, 6),
            new Case("leaky_relu", x -> MathUnary.leakyRelu(x, 0.1), x -> x > 0 ? x : 0.1 * x, -3, 3),
            new Case("elu", x -> MathUnary.elu(x, 1.5), x -> x > 0 ? x : 1.5 * (Math.exp(x) - 1), -3, 3),
            new Case("gelu", x -> MathUnary.gelu(x, false), x -> x * 0.5 * (1 + erfByQuadrature(x / Math.sqrt(2))), -4, 4),
            new Case("gelu tanh", x -> MathUnary.gelu(x, true),
                    x -> 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))), -4, 4),
            new Case("softplus", x -> MathUnary.softplus(x, 2, 3), x -> 2 * x > 3 ? x : Math.log(1 + Math.exp(2 * x)) / 2, -3, 3),
            new Case("clamp", x -> MathUnary.clamp(x, -0.5, 0.25), x -> x < -0.5 ? -0.5 : x > 0.25 ? 0.25 : x, -1, 1),
            new Case("pow_scalar 2.5", x -> MathUnary.powScalar(x, 2.5), x -> Math.pow(x, 2.5), 0, 3),
            new Case("pow_scalar 3", x -> MathUnary.powScalar(x, 3), x -> x * x * x, -3, 3),
            new Case("pow_scalar -0.5", x -> MathUnary.powScalar(x, -0.5), x -> Math.pow(x, -0.5), 0.1, 3));

    static long[] shape(List<Integer> dims) { return dims.stream().mapToLong(Integer::longValue).toArray(); }

    /** A random tensor with values in [lo, hi); when {@code transposed}, a non-contiguous view of that shape. */
    static NDArray uniform(Random r, DType t, double lo, double hi, long[] shape, boolean transposed) {
        long[] storage = shape.clone();
        int rank = shape.length;
        if (transposed) for (int i = 0; i < rank; i++) storage[i] = shape[rank - 1 - i];
        NDArray a = NDArray.zeros(t, storage);
        for (long i = 0; i < a.numel(); i++) a.setFlat(i, lo + (hi - lo) * r.nextDouble());
        if (!transposed) return a;
        int[] perm = new int[rank];
        for (int i = 0; i < rank; i++) perm[i] = rank - 1 - i;
        return a.permute(perm);
    }

    @Property(tries = 40)
    void floatOpsMatchTheirDefinitions(@ForAll @Size(max = 3) List<@IntRange(min = 1, max = 5) Integer> dims,
                                       @ForAll boolean f64, @ForAll boolean transposed, @ForAll long seed) {
        Random r = new Random(seed);
        DType t = f64 ? DType.F64 : DType.F32;
        for (Case c : FLOAT_CASES) {
            NDArray x = uniform(r, t, c.lo, c.hi, shape(dims), transposed);
            NDArray y = c.kernel.apply(x);
            assertEquals(t, y.dtype(), c.name);
            assertArrayEquals(x.shape(), y.shape(), c.name);
            double[] in = x.toDoubleArray(), expected = new double[in.length];
            for (int i = 0; i < in.length; i++) expected[i] = c.ref.applyAsDouble(in[i]);
            Tensors.assertCloseRel(expected, y, f64 ? 1e-12 : 1e-6, c.name + " " + t);
        }
    }

    /** Rows long enough for the Vector API loops (abs, sqrt and reciprocal are vectorised). */
    @Property(tries = 20)
    void longF32RowsMatchTheScalarDefinition(@ForAll @IntRange(min = 1, max = 200) int n, @ForAll long seed) {
        Random r = new Random(seed);
        NDArray x = uniform(r, DType.F32, 0.05, 4, new long[] {n}, false);
        float[] in = x.toFloatArray();
        float[] abs = MathUnary.abs(x).toFloatArray(), sqrt = MathUnary.sqrt(x).toFloatArray();
        float[] rec = MathUnary.reciprocal(x).toFloatArray(), exp = MathUnary.exp(x).toFloatArray();
        for (int i = 0; i < n; i++) {
            assertEquals(Math.abs(in[i]), abs[i]);
            assertEquals((float) Math.sqrt(in[i]), sqrt[i], "sqrt is correctly rounded");
            assertEquals(1f / in[i], rec[i], "1/x is correctly rounded");
            assertEquals((float) Math.exp(in[i]), exp[i]);
        }
    }

    @Property(tries = 30)
    void integerOpsMatchTheirDefinitions(@ForAll @Size(max = 3) List<@IntRange(min = 1, max = 4) Integer> dims,
                                         @ForAll @IntRange(max = 3) int dtypeChoice, @ForAll long seed) {
        DType t = List.of(DType.I64, DType.I32, DType.I8, DType.U8).get(dtypeChoice);
        NDArray x = Tensors.random(new Random(seed), t, shape(dims));
        List<Object[]> cases = List.of(
                new Object[] {"abs", (UnaryOperator<NDArray>) MathUnary::abs, (LongUnaryOperator) v -> v < 0 ? -v : v},
                new Object[] {"sign", (UnaryOperator<NDArray>) MathUnary::sign, (LongUnaryOperator) v -> v > 0 ? 1 : v < 0 ? -1 : 0},
                new Object[] {"floor", (UnaryOperator<NDArray>) MathUnary::floor, (LongUnaryOperator) v -> v},
                new Object[] {"ceil", (UnaryOperator<NDArray>) MathUnary::ceil, (LongUnaryOperator) v -> v},
                new Object[] {"round", (UnaryOperator<NDArray>) MathUnary::round, (LongUnaryOperator) v -> v},
                new Object[] {"clamp", (UnaryOperator<NDArray>) v -> MathUnary.clamp(v, 2, 5),
                        (LongUnaryOperator) v -> v < 2 ? 2 : v > 5 ? 5 : v},
                new Object[] {"clamp one-sided", (UnaryOperator<NDArray>) v -> MathUnary.clamp(v, Double.NEGATIVE_INFINITY, 3),
                        (LongUnaryOperator) v -> Math.min(v, 3)});
        long[] in = x.toLongArray();
        for (Object[] c : cases) {
            @SuppressWarnings("unchecked") NDArray y = ((UnaryOperator<NDArray>) c[1]).apply(x);
            assertEquals(t, y.dtype(), (String) c[0]);
            long[] expected = new long[in.length];
            for (int i = 0; i < in.length; i++) expected[i] = ((LongUnaryOperator) c[2]).applyAsLong(in[i]);
            assertArrayEquals(expected, y.toLongArray(), c[0] + " " + t);
        }
    }

    @Example
    void halfPrecisionRoundsTheDoubleResultOnce() {
        for (DType t : List.of(DType.F16, DType.BF16)) {
            NDArray x = NDArray.of(new double[] {-2.5, -0.3, 0.7, 1.9}).to(t);
            double[] in = x.toDoubleArray(), exp = new double[4], gelu = new double[4];
            for (int i = 0; i < 4; i++) {
                exp[i] = Math.exp(in[i]);
                gelu[i] = in[i] * 0.5 * (1 + erfByQuadrature(in[i] / Math.sqrt(2)));
            }
            NDArray e = MathUnary.exp(x), g = MathUnary.gelu(x, false);
            assertEquals(t, e.dtype());
            assertArrayEquals(NDArray.of(exp).to(t).toFloatArray(), e.toFloatArray(), "exp " + t);
            assertArrayEquals(NDArray.of(gelu).to(t).toFloatArray(), g.toFloatArray(), "gelu " + t);
        }
    }

    @Example
    void floatOnlyOpsRejectIntegersAndEveryOpRejectsBool() {
        NDArray ints = NDArray.of(new long[] {1, 2});
        assertEquals("exp: expects a floating-point tensor, got i64 of shape [2]",
                assertThrows(IllegalArgumentException.class, () -> MathUnary.exp(ints)).getMessage());
        assertEquals("gelu: expects a floating-point tensor, got i64 of shape [2]",
                assertThrows(IllegalArgumentException.class, () -> MathUnary.gelu(ints, false)).getMessage());
        NDArray bools = NDArray.ofBooleans(new boolean[] {true}, 1);
        assertEquals("abs: not defined for bool tensors (shape [1]); convert with to(...) first",
                assertThrows(IllegalArgumentException.class, () -> MathUnary.abs(bools)).getMessage());
        assertEquals("clamp: not defined for bool tensors (shape [1]); convert with to(...) first",
                assertThrows(IllegalArgumentException.class, () -> MathUnary.clamp(bools, 0, 1)).getMessage());
    }
}
