package dev.kiln.ir;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The fusion ops' schemas: what verifies (and round-trips through the text form), and what is rejected and why. */
class FusionOpsTest {

    private static Graph verified(String text) {
        Graph g = IrParser.parse(text);
        Verifier.verify(g);
        assertEquals(text, IrPrinter.print(g));
        return g;
    }

    /** Parsing (which infers region-free ops' types) or verifying {@code text} fails with all of {@code parts}. */
    private static void rejected(String text, String... parts) {
        IrException e = assertThrows(IrException.class, () -> Verifier.verify(IrParser.parse(text)));
        for (String p : parts) assertTrue(e.getMessage().contains(p), () -> "expected '" + p + "' in: " + e.getMessage());
    }

    @Test
    void aFusedGroupMayEndInTheReductionItYields() {
        verified("""
                graph @g(%x: f32[N, 4], %y: f32[4]) {
                  %0 = fused_elementwise(%x, %y) : i64[N] {
                  ^(%1: f32[N, 4], %2: f32[4]):
                    %3 = mul(%1, %2) : f32[N, 4]
                    %4 = exp(%3) : f32[N, 4]
                    %5 = argmax(%4) {axis = 1} : i64[N]
                    yield(%5)
                  }
                  return(%0)
                }
                """);
        assertTrue(OpRegistry.get("sum").has(Trait.REDUCTION) && OpRegistry.get("argmin").has(Trait.REDUCTION));
        assertTrue(!OpRegistry.get("softmax").has(Trait.REDUCTION));
    }

    @Test
    void aReductionMustBeLastAndYielded() {
        rejected("""
                graph @g(%x: f32[N, 4]) {
                  %0 = fused_elementwise(%x) : f32[N] {
                  ^(%1: f32[N, 4]):
                    %2 = sum(%1) {axes = [1]} : f32[N]
                    %3 = exp(%2) : f32[N]
                    yield(%3)
                  }
                  return(%0)
                }
                """, "fused_elementwise: region op sum is not allowed", "at most one reduction, as its last op");
        rejected("""
                graph @g(%x: f32[N, 4]) {
                  %0 = fused_elementwise(%x) : f32[N, 4] {
                  ^(%1: f32[N, 4]):
                    %2 = exp(%1) : f32[N, 4]
                    %3 = sum(%2) {axes = [1]} : f32[N]
                    yield(%2)
                  }
                  return(%0)
                }
                """, "region op sum is not allowed");
    }

    @Test
    void aFusedGroupHoldsOnlyElementwiseOpsOnItsOwnValues() {
        rejected("""
                graph @g(%x: f32[N, 4]) {
                  %0 = fused_elementwise(%x) : f32[N, 4] {
                  ^(%1: f32[N, 4]):
                    %2 = softmax(%1) {axis = 1} : f32[N, 4]
                    %3 = exp(%2) : f32[N, 4]
                    yield(%3)
                  }
                  return(%0)
                }
                """, "region op softmax is not allowed");
        rejected("""
                graph @g(%x: f32[N, 4], %y: f32[N, 4]) {
                  %0 = fused_elementwise(%x) : f32[N, 4] {
                  ^(%1: f32[N, 4]):
                    %2 = add(%1, %y) : f32[N, 4]
                    yield(%2)
                  }
                  return(%0)
                }
                """, "region op add uses", "from outside the region; pass it as an operand");
    }

    @Test
    void biasGeluTakesALastDimBiasAndAKnownApproximation() {
        verified("""
                graph @g(%x: f32[N, 3, 8], %b: f32[8]) {
                  %0 = bias_gelu(%x, %b) {approximate = "tanh"} : f32[N, 3, 8]
                  %1 = bias_gelu(%0, %b) : f32[N, 3, 8]
                  return(%1)
                }
                """);
        assertTrue(OpRegistry.get("bias_gelu").has(Trait.ELEMENTWISE));
        rejected("""
                graph @g(%x: f32[N, 8], %b: f32[3]) {
                  %0 = bias_gelu(%x, %b) : f32[N, 8]
                  return(%0)
                }
                """, "bias_gelu: bias size is 3, expected 8");
        rejected("""
                graph @g(%x: f32[N, 8], %b: f32[1, 8]) {
                  %0 = bias_gelu(%x, %b) : f32[N, 8]
                  return(%0)
                }
                """, "bias must be 1-D [8], got f32[1, 8]");
        rejected("""
                graph @g(%x: f32[N, 8], %b: f32[8]) {
                  %0 = bias_gelu(%x, %b) {approximate = "erf"} : f32[N, 8]
                  return(%0)
                }
                """, "approximate must be one of [none, tanh], got 'erf'");
        rejected("""
                graph @g(%x: i64[N, 8], %b: i64[8]) {
                  %0 = bias_gelu(%x, %b) : i64[N, 8]
                  return(%0)
                }
                """, "needs a floating-point tensor");
    }

    @Test
    void skipLayerNormHasASecondResultWithSum() {
        Graph g = verified("""
                graph @g(%x: f32[N, 5, 8], %s: f32[N, 5, 8]) weights(@gamma: f32[8], @beta: f32[8], @bias: f32[8]) {
                  %0 = skip_layer_norm(%x, %s, @gamma, @beta) : f32[N, 5, 8]
                  %1, %2 = skip_layer_norm(%0, %s, @gamma, @beta, @bias) {eps = 1.0E-6, with_sum = true} : f32[N, 5, 8], f32[N, 5, 8]
                  return(%1, %2)
                }
                """);
        assertEquals(List.of(2), g.body().ops().stream().filter(op -> op.name().equals("skip_layer_norm"))
                .skip(1).map(op -> op.results().size()).toList());
        rejected("""
                graph @g(%x: f32[N, 5, 8], %s: f32[N, 1, 8]) weights(@gamma: f32[8], @beta: f32[8]) {
                  %0 = skip_layer_norm(%x, %s, @gamma, @beta) : f32[N, 5, 8]
                  return(%0)
                }
                """, "skip must have the type of x f32[N, 5, 8], got f32[N, 1, 8]");
        rejected("""
                graph @g(%x: f32[N, 5, 8], %s: f32[N, 5, 8]) weights(@gamma: f32[5, 8], @beta: f32[8]) {
                  %0 = skip_layer_norm(%x, %s, @gamma, @beta) : f32[N, 5, 8]
                  return(%0)
                }
                """, "gamma must be 1-D [8]");
        rejected("""
                graph @g(%x: f32[N, 5, 8], %s: f32[N, 5, 8]) weights(@gamma: f32[8], @beta: f64[8]) {
                  %0 = skip_layer_norm(%x, %s, @gamma, @beta) : f32[N, 5, 8]
                  return(%0)
                }
                """, "dtypes f32 and f64 differ");
        rejected("""
                graph @g(%x: f32[N, 5, 8], %s: f32[N, 5, 8]) weights(@gamma: f32[8], @beta: f32[8]) {
                  %0 = skip_layer_norm(%x, %s, @gamma, @beta) {with_sum = true} : f32[N, 5, 8]
                  return(%0)
                }
                """, "skip_layer_norm has 2 result(s) but 1 are named");
    }

    @Test
    void conv2dActTakesAResidualOfExactlyTheResultType() {
        verified("""
                graph @g(%x: f32[N, 2, 5, 5], %r: f32[N, 3, 5, 5]) weights(@k: f32[3, 2, 3, 3], @b: f32[3]) {
                  %0 = conv2d_act(%x, @k, @b, %r) {padding = [1, 1], activation = "relu", residual = true} : f32[N, 3, 5, 5]
                  %1 = conv2d_act(%x, @k, %0) {padding = [1, 1], residual = true} : f32[N, 3, 5, 5]
                  return(%1)
                }
                """);
        rejected("""
                graph @g(%x: f32[N, 2, 5, 5], %r: f32[1, 3, 1, 1]) weights(@k: f32[3, 2, 3, 3]) {
                  %0 = conv2d_act(%x, @k, %r) {padding = [1, 1], residual = true} : f32[N, 3, 5, 5]
                  return(%0)
                }
                """, "conv2d_act", "residual must have exactly the convolution result's type f32[N, 3, 5, 5] (it is not broadcast), got f32[1, 3, 1, 1]");
        rejected("""
                graph @g(%x: f32[N, 2, 5, 5]) weights(@k: f32[3, 2, 3, 3]) {
                  %0 = conv2d_act(%x, @k) {residual = true} : f32[N, 3, 3, 3]
                  return(%0)
                }
                """, "residual = true needs a residual operand");
        rejected("""
                graph @g(%x: f32[N, 2, 5, 5], %r: f32[N, 3, 3, 3]) weights(@k: f32[3, 2, 3, 3], @b: f32[3]) {
                  %0 = conv2d_act(%x, @k, @b, %r) : f32[N, 3, 3, 3]
                  return(%0)
                }
                """, "a fourth operand is only allowed as the residual");
    }

    @Test
    void attentionTakesMatchingHeadsAndABroadcastableMask() {
        verified("""
                graph @g(%q: f32[N, 2, 3, 4], %k: f32[N, 2, 5, 4], %v: f32[N, 2, 5, 6], %m: bool[3, 5], %f: f32[N, 1, 1, 5]) {
                  %0 = attention(%q, %k, %v) {scale = 0.5, causal = false} : f32[N, 2, 3, 6]
                  %1 = attention(%q, %k, %v, %m) {scale = 0.5, causal = true} : f32[N, 2, 3, 6]
                  %2 = attention(%q, %k, %v, %f) {scale = 1.0, causal = false} : f32[N, 2, 3, 6]
                  return(%0, %1, %2)
                }
                """);
        rejected("""
                graph @g(%q: f32[2, 3, 4], %k: f32[2, 5, 3], %v: f32[2, 5, 6]) {
                  %0 = attention(%q, %k, %v) : f32[2, 3, 6]
                  return(%0)
                }
                """, "attention", "head size");
        rejected("""
                graph @g(%q: f32[2, 3, 4], %k: f32[2, 5, 4], %v: f32[2, 4, 6]) {
                  %0 = attention(%q, %k, %v) : f32[2, 3, 6]
                  return(%0)
                }
                """, "attention", "key count");
        rejected("""
                graph @g(%q: f32[2, 3, 4], %k: f32[2, 5, 4], %v: f32[2, 5, 6], %m: i64[3, 5]) {
                  %0 = attention(%q, %k, %v, %m) : f32[2, 3, 6]
                  return(%0)
                }
                """, "attention", "mask must be bool");
        rejected("""
                graph @g(%q: f32[2, 3, 4], %k: f32[2, 5, 4], %v: f32[2, 5, 6], %m: bool[2, 2, 3, 5]) {
                  %0 = attention(%q, %k, %v, %m) : f32[2, 3, 6]
                  return(%0)
                }
                """, "attention", "must broadcast");
        rejected("""
                graph @g(%q: f32[3, 4], %k: f32[2, 5, 4], %v: f32[2, 5, 6]) {
                  %0 = attention(%q, %k, %v) : f32[3, 6]
                  return(%0)
                }
                """, "attention", "same rank");
    }
}
