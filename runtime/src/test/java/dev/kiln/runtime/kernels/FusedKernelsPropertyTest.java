package dev.kiln.runtime.kernels;

import dev.kiln.ir.Builder;
import dev.kiln.ir.DType;
import dev.kiln.ir.IrParser;
import dev.kiln.runtime.Interpreter;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.OpKernels;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The one-pass {@code bias_gelu} and {@code skip_layer_norm} kernels against the unfused composition of the reference
 * kernels ({@code add}, {@code gelu}, {@code layer_norm}) on random shapes, dtypes and strided inputs. They round
 * intermediates where the unfused ops store them, so f32 and f64 results are expected to be identical, and f16/bf16
 * within one ulp of the dtype (the unfused add may round through a different path).
 */
class FusedKernelsPropertyTest {

    private static final DType[] DTYPES = {DType.F32, DType.F64, DType.F16, DType.BF16};

    private static NDArray run(String op, Map<String, ?> attrs, NDArray... in) {
        return OpKernels.run(op, Builder.attrs(flatten(attrs)), List.of(in));
    }

    private static Object[] flatten(Map<String, ?> attrs) {
        Object[] out = new Object[attrs.size() * 2];
        int i = 0;
        for (var e : attrs.entrySet()) {
            out[i++] = e.getKey();
            out[i++] = e.getValue();
        }
        return out;
    }

    /** Uniform values in [-4, 4), so that gelu's tails are exercised too. */
    private static NDArray wide(Random r, DType t, long... shape) {
        NDArray a = NDArray.zeros(t, shape);
        for (long i = 0; i < a.numel(); i++) a.setFlat(i, (r.nextDouble() * 2 - 1) * 4);
        return a;
    }

    /** A random tensor of {@code shape}, or (when {@code strided}) a non-contiguous transposed view of that shape. */
    private static NDArray input(Random r, DType t, long[] shape, boolean strided) {
        if (!strided || shape.length < 2) return wide(r, t, shape);
        long[] swapped = shape.clone();
        swapped[0] = shape[1];
        swapped[1] = shape[0];
        return wide(r, t, swapped).transpose(0, 1);
    }

    private static void assertSame(NDArray expected, NDArray actual, DType t, String what) {
        assertArrayEquals(expected.shape(), actual.shape(), what + " shape");
        assertEquals(expected.dtype(), actual.dtype(), what + " dtype");
        double[] e = expected.toDoubleArray(), a = actual.toDoubleArray();
        double rel = t == DType.F16 ? 1e-3 : t == DType.BF16 ? 8e-3 : 0;
        for (int i = 0; i < e.length; i++) {
            int k = i;
            assertTrue(e[i] == a[i] || Math.abs(e[i] - a[i]) <= rel * Math.max(1, Math.abs(e[i])),
                    () -> what + " element " + k + ": unfused " + e[k] + ", fused " + a[k]);
        }
    }

    private static long[] shape(Random r, int rank) {
        long[] s = new long[rank];
        for (int i = 0; i < rank; i++) s[i] = 1 + r.nextInt(i == rank - 1 ? 9 : 4);
        return s;
    }

    @Property(tries = 120)
    void biasGeluEqualsAddThenGelu(@ForAll @IntRange(min = 1, max = 3) int rank, @ForAll boolean tanh,
                                   @ForAll boolean strided, @ForAll @IntRange(max = 3) int dtype, @ForAll long seed) {
        Random r = new Random(seed);
        DType t = DTYPES[dtype];
        long[] s = shape(r, rank);
        NDArray x = input(r, t, s, strided), bias = wide(r, t, s[rank - 1]);
        String approximate = tanh ? "tanh" : "none";
        NDArray unfused = run("gelu", Map.of("approximate", approximate), run("add", Map.of(), x, bias));
        assertSame(unfused, run("bias_gelu", Map.of("approximate", approximate), x, bias), t, "bias_gelu");
    }

    @Property(tries = 120)
    void skipLayerNormEqualsAddThenLayerNorm(@ForAll @IntRange(min = 1, max = 3) int rank, @ForAll boolean withBias,
                                             @ForAll boolean strided, @ForAll @IntRange(max = 3) int dtype, @ForAll long seed) {
        Random r = new Random(seed);
        DType t = DTYPES[dtype];
        long[] s = shape(r, rank);
        long d = s[rank - 1];
        NDArray x = input(r, t, s, strided), skip = input(r, t, s, !strided);
        NDArray gamma = Tensors.random(r, t, d), beta = Tensors.random(r, t, d), bias = Tensors.random(r, t, d);
        double eps = r.nextBoolean() ? 1e-5 : 1e-2;
        NDArray sum = run("add", Map.of(), withBias ? run("add", Map.of(), x, bias) : x, skip);
        NDArray unfused = run("layer_norm", Map.of("normalized_dims", 1, "eps", eps), sum, gamma, beta);
        NDArray[] fused = Fused.skipLayerNorm(x, skip, gamma, beta, withBias ? bias : null, eps, true);
        assertSame(unfused, fused[0], t, "skip_layer_norm output");
        assertSame(sum, fused[1], t, "skip_layer_norm sum");
        NDArray viaTable = withBias ? run("skip_layer_norm", Map.of("eps", eps), x, skip, gamma, beta, bias)
                : run("skip_layer_norm", Map.of("eps", eps), x, skip, gamma, beta);
        assertSame(unfused, viaTable, t, "skip_layer_norm kernel");
    }

    /** {@code conv2d_act} with a residual (contiguous or a strided view, bias or not) equals conv2d, add, then the activation. */
    @Property(tries = 80)
    void conv2dActWithAResidualEqualsConvThenAddThenActivation(@ForAll boolean withBias, @ForAll boolean strided,
                                                             @ForAll @IntRange(max = 2) int activation, @ForAll @IntRange(max = 3) int dtype,
                                                             @ForAll long seed) {
        Random r = new Random(seed);
        DType t = DTYPES[dtype];
        long n = 1 + r.nextInt(2), c = 1 + r.nextInt(3), o = 1 + r.nextInt(3), h = 2 + r.nextInt(4), w = 2 + r.nextInt(4);
        NDArray x = wide(r, t, n, c, h, w), k = wide(r, t, o, c, 3, 3), bias = wide(r, t, o);
        NDArray residual = input(r, t, new long[] {n, o, h, w}, strided);
        Map<String, Object> geometry = Map.of("padding", new long[] {1, 1});
        NDArray conv = withBias ? run("conv2d", geometry, x, k, bias) : run("conv2d", geometry, x, k);
        String act = List.of("none", "relu", "sigmoid").get(activation);
        NDArray sum = run("add", Map.of(), conv, residual);
        NDArray unfused = act.equals("none") ? sum : run(act, Map.of(), sum);
        Map<String, Object> attrs = Map.of("padding", new long[] {1, 1}, "activation", act, "residual", true);
        NDArray fused = withBias ? run("conv2d_act", attrs, x, k, bias, residual) : run("conv2d_act", attrs, x, k, residual);
        assertSame(unfused, fused, t, "conv2d_act " + act + " with residual");
        assertMessage("conv2d_act: residual [" + n + ", " + o + ", " + h + ", 1] must have the result's shape",
                () -> run("conv2d_act", attrs, x, k, wide(r, t, n, o, h, 1)));
    }

    @Example
    void theInterpreterBindsBothResultsOfSkipLayerNormWithSum() {
        var g = IrParser.parse("""
                graph @g(%x: f32[2, 3], %s: f32[2, 3]) weights(@gamma: f32[3], @beta: f32[3]) {
                  %0, %1 = skip_layer_norm(%x, %s, @gamma, @beta) {with_sum = true} : f32[2, 3], f32[2, 3]
                  %2 = mul(%0, %1) : f32[2, 3]
                  return(%2, %1)
                }
                """);
        NDArray x = NDArray.of(new float[] {1, 2, 3, -1, 0, 4}, 2, 3), s = NDArray.of(new float[] {0.5f, 0, -1, 2, 2, 2}, 2, 3);
        NDArray gamma = NDArray.of(new float[] {1, 2, 0.5f}, 3), beta = NDArray.of(new float[] {0, 1, -1}, 3);
        List<NDArray> out = Interpreter.runTensors(g, List.of(x, s), Map.of("gamma", gamma, "beta", beta));
        NDArray sum = run("add", Map.of(), x, s);
        NDArray norm = run("layer_norm", Map.of("normalized_dims", 1), sum, gamma, beta);
        assertArrayEquals(sum.toDoubleArray(), out.get(1).toDoubleArray());
        assertArrayEquals(run("mul", Map.of(), norm, sum).toDoubleArray(), out.get(0).toDoubleArray());
    }

    @Example
    void badInputsAreErrorsNamingTheOp() {
        NDArray x = NDArray.zeros(DType.F32, 2, 4), v4 = NDArray.zeros(DType.F32, 4), v3 = NDArray.zeros(DType.F32, 3);
        assertMessage("bias_gelu: bias must have shape [4] (the last dim of x [2, 4]), got [3]",
                () -> run("bias_gelu", Map.of("approximate", "none"), x, v3));
        assertMessage("bias_gelu: approximate must be 'none' or 'tanh', got 'erf'",
                () -> run("bias_gelu", Map.of("approximate", "erf"), x, v4));
        assertThrows(IllegalArgumentException.class, () -> run("bias_gelu", Map.of(), NDArray.zeros(DType.I64, 2, 4), NDArray.zeros(DType.I64, 4)));
        assertMessage("skip_layer_norm: skip [4, 2] must have the shape of x [2, 4]",
                () -> run("skip_layer_norm", Map.of(), x, NDArray.zeros(DType.F32, 4, 2), v4, v4));
        assertMessage("skip_layer_norm: beta must have shape [4]", () -> run("skip_layer_norm", Map.of(), x, x, v4, v3));
        assertMessage("skip_layer_norm with with_sum = true has two results",
                () -> run("skip_layer_norm", Map.of("with_sum", true), x, x, v4, v4));
        assertMessage("skip_layer_norm: x must have at least one dim",
                () -> Fused.skipLayerNorm(NDArray.zeros(DType.F32), NDArray.zeros(DType.F32), v4, v4, null, 1e-5, false));
    }

    @Example
    void emptyInputsGiveEmptyResults() {
        NDArray x = NDArray.zeros(DType.F32, 0, 4), v = NDArray.zeros(DType.F32, 4);
        assertArrayEquals(new long[] {0, 4}, Fused.biasGelu(x, v, false).shape());
        assertArrayEquals(new long[] {0, 4}, Fused.skipLayerNorm(x, x, v, v, v, 1e-5, true)[1].shape());
        NDArray none = NDArray.zeros(DType.F32, 3, 0), v0 = NDArray.zeros(DType.F32, 0);
        assertArrayEquals(new long[] {3, 0}, Fused.skipLayerNorm(none, none, v0, v0, null, 1e-5, false)[0].shape());
    }

    private static void assertMessage(String part, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(part), () -> "expected '" + part + "' in: " + e.getMessage());
    }
}
