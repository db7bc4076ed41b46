package dev.kiln.tests;

import dev.kiln.frontend.F;
import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.autograd.Autograd;
import dev.kiln.frontend.nn.MultiheadAttention;
import dev.kiln.ir.IrPrinter;
import dev.kiln.tracer.Kiln;
import dev.kiln.tracer.TraceOptions;
import dev.kiln.tracer.TracedFunction;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Attention on every path: eager through the fused op (no gradient needed) and through its composition (inputs that
 * require grad), the traced graph on the interpreter (reference kernels) and as generated code (the fused kernel, after
 * O2 has fused the composition where the trace recorded it), with causal masking, bool and float masks and odd sizes.
 * Results agree within f32 rounding ({@code 1e-5} relative to the largest output, plus 1e-5).
 */
class AttentionPathsTest {

    private static void assertClose(String what, float[] want, float[] got) {
        assertEquals(want.length, got.length, what);
        double scale = 0;
        for (float v : want) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < want.length; i++) {
            int k = i;
            boolean ok = Float.isNaN(want[i]) ? Float.isNaN(got[i]) : Math.abs(want[i] - got[i]) <= 1e-5 * (1 + scale);
            assertTrue(ok, () -> what + ": element " + k + " " + want[k] + " vs " + got[k]);
        }
    }

    @ParameterizedTest
    @CsvSource({"1, 7, 9, 5, false, none", "2, 5, 5, 24, true, none", "3, 17, 17, 16, true, bool", "2, 4, 19, 33, false, float"})
    void scaledDotProductAttentionAgreesOnEveryPath(long batch, long l, long s, long d, boolean causal, String maskKind) {
        long heads = 3;
        Tensor q = Tensor.randn(new Generator(1), batch, heads, l, d), k = Tensor.randn(new Generator(2), batch, heads, s, d);
        Tensor v = Tensor.randn(new Generator(3), batch, heads, s, d + 1);
        Tensor m = Tensor.randn(new Generator(4), batch, 1, l, s);
        java.util.function.Function<Tensor[], Object> f = xs -> F.scaledDotProductAttention(xs[0], xs[1], xs[2],
                switch (maskKind) {
                    case "bool" -> xs[3].gt(-0.8);
                    case "float" -> xs[3];
                    default -> null;
                }, causal, 0, false);
        float[] fused;
        try (var _ = Autograd.noGrad()) {
            fused = ((Tensor) f.apply(new Tensor[] {q, k, v, m})).toFloatArray();
        }
        Tensor[] grads = {q.detach().setRequiresGrad(true), k.detach().setRequiresGrad(true), v.detach().setRequiresGrad(true), m};
        float[] composed = ((Tensor) f.apply(grads)).toFloatArray();
        assertClose("eager fused vs composed", composed, fused);

        TracedFunction traced = Kiln.trace("attention", f, TraceOptions.defaults(), q, k, v, m);
        assertTrue(IrPrinter.print(traced.graph()).contains("attention("), "the trace records the fused op where no grad is needed");
        assertClose("interpreted", composed, traced.interpretAll(q, k, v, m).get(0).toFloatArray());
        assertClose("compiled", composed, traced.callAll(q, k, v, m).get(0).toFloatArray());
        assertTrue(traced.compiled().explain().contains("fused attention"), traced.compiled().explain());
    }

    /** MultiheadAttention traced with parameters that require grad records the composition; O2 fuses it back. */
    @ParameterizedTest
    @CsvSource({"false, false", "true, true"})
    void multiheadAttentionIsFusedByO2(boolean causal, boolean padding) {
        Generator.manualSeed(7);
        MultiheadAttention mha = new MultiheadAttention(24, 3, 0, true, true);
        mha.eval();
        Tensor x = Tensor.randn(new Generator(9), 2, 11, 24);
        Tensor pad = Tensor.randn(new Generator(10), 2, 11).gt(1.2);
        java.util.function.Function<Tensor[], Object> f = xs -> mha.attend(xs[0], xs[0], xs[0], padding ? xs[1] : null, null, causal);
        float[] eager;
        try (var _ = Autograd.noGrad()) {
            eager = ((Tensor) f.apply(new Tensor[] {x, pad})).toFloatArray();
        }
        float[] withGrad = ((Tensor) f.apply(new Tensor[] {x, pad})).toFloatArray();
        assertClose("eager fused vs composed", withGrad, eager);
        TracedFunction traced = Kiln.trace("mha", f, TraceOptions.defaults(), x, pad);
        assertFalse(IrPrinter.print(traced.graph()).contains("attention("), "parameters require grad: the trace has the composition");
        assertClose("interpreted", withGrad, traced.interpretAll(x, pad).get(0).toFloatArray());
        assertClose("compiled", withGrad, traced.callAll(x, pad).get(0).toFloatArray());
        String explain = traced.compiled().explain();
        assertTrue(explain.contains("-> attention") && explain.contains("fused attention" + (causal ? "" : "")), explain);
        if (causal) assertTrue(explain.contains("causal"), explain);
    }
}
