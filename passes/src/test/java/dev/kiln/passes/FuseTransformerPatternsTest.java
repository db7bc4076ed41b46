package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.IrParser;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.kiln.passes.GoldenPassTests.golden;
import static dev.kiln.passes.GoldenPassTests.unchanged;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Golden tests: IR text in, BiasGelu and SkipLayerNorm fusion, IR text out; and the fused graphs compute the same. */
class FuseTransformerPatternsTest {

    private static final String BIAS_GELU_IN = """
            graph @g(%x: f32[N, 3, 8], %y: f32[N, 4]) weights(@b: f32[8], @w: f32[6, 4], @c: f32[6]) {
              %0 = add(@b, %x) : f32[N, 3, 8]
              %1 = gelu(%0) {approximate = "tanh"} : f32[N, 3, 8]
              %2 = linear(%y, @w, @c) : f32[N, 6]
              %3 = gelu(%2) : f32[N, 6]
              return(%1, %3)
            }
            """;

    @Test
    void biasGeluFromAddOrFromALinearsBias() {
        FuseTransformerPatterns pass = new FuseTransformerPatterns();
        golden(pass, BIAS_GELU_IN, """
                graph @g(%x: f32[N, 3, 8], %y: f32[N, 4]) weights(@b: f32[8], @w: f32[6, 4], @c: f32[6]) {
                  %0 = bias_gelu(%x, @b) {approximate = "tanh"} : f32[N, 3, 8]
                  %1 = linear(%y, @w) : f32[N, 6]
                  %2 = bias_gelu(%1, @c) {approximate = "none"} : f32[N, 6]
                  return(%0, %2)
                }
                """);
        assertEquals(List.of("add + gelu -> bias_gelu", "linear + gelu -> linear (bias moved) + bias_gelu"), pass.fusions());
        GraphTesting.assertSameResults(5, IrParser.parse(BIAS_GELU_IN), fused(BIAS_GELU_IN), true);
    }

    @Test
    void biasGeluNeedsALastDimBiasAndASingleUse() {
        unchanged(new FuseTransformerPatterns(), """
                graph @g(%x: f32[N, 3, 8], %y: f32[N, 3, 8]) weights(@b: f32[3, 1], @w: f32[6, 8], @c: f32[8]) {
                  %0 = add(%x, @b) : f32[N, 3, 8]
                  %1 = gelu(%0) : f32[N, 3, 8]
                  %2 = add(%x, %y) : f32[N, 3, 8]
                  %3 = gelu(%2) : f32[N, 3, 8]
                  %4 = add(%x, @c) : f32[N, 3, 8]
                  %5 = gelu(%4) : f32[N, 3, 8]
                  %6 = linear(%x, @w) : f32[N, 3, 6]
                  %7 = gelu(%6) : f32[N, 3, 6]
                  return(%1, %3, %5, %4, %7)
                }
                """);
    }

    private static final String POST_NORM_IN = """
            graph @g(%x: f32[N, 4, 8], %h: f32[N, 4, 8]) weights(@gamma: f32[8], @beta: f32[8], @bias: f32[8]) {
              %0 = add(%x, %h) : f32[N, 4, 8]
              %1 = layer_norm(%0, @gamma, @beta) {normalized_dims = 1, eps = 1.0E-6} : f32[N, 4, 8]
              %2 = add(%h, @bias) : f32[N, 4, 8]
              %3 = add(%1, %2) : f32[N, 4, 8]
              %4 = layer_norm(%3, @gamma, @beta) {normalized_dims = 1} : f32[N, 4, 8]
              return(%4)
            }
            """;

    @Test
    void skipLayerNormTakesAnInnerBiasAdd() {
        FuseTransformerPatterns pass = new FuseTransformerPatterns();
        golden(pass, POST_NORM_IN, """
                graph @g(%x: f32[N, 4, 8], %h: f32[N, 4, 8]) weights(@gamma: f32[8], @beta: f32[8], @bias: f32[8]) {
                  %0 = skip_layer_norm(%x, %h, @gamma, @beta) {eps = 1.0E-6} : f32[N, 4, 8]
                  %1 = skip_layer_norm(%h, %0, @gamma, @beta, @bias) {eps = 1.0E-5} : f32[N, 4, 8]
                  return(%1)
                }
                """);
        assertEquals(List.of("add + layer_norm -> skip_layer_norm", "add + add(bias) + layer_norm -> skip_layer_norm"), pass.fusions());
        GraphTesting.assertSameResults(6, IrParser.parse(POST_NORM_IN), fused(POST_NORM_IN), true);
    }

    private static final String PRE_NORM_IN = """
            graph @g(%x: f32[N, 4, 8], %h: f32[N, 4, 8]) weights(@gamma: f32[8], @beta: f32[8]) {
              %0 = add(%x, %h) : f32[N, 4, 8]
              %1 = layer_norm(%0, @gamma, @beta) {normalized_dims = 1} : f32[N, 4, 8]
              %2 = tanh(%1) : f32[N, 4, 8]
              %3 = add(%0, %2) : f32[N, 4, 8]
              %4 = exp(%0) : f32[N, 4, 8]
              %5 = add(%4, %h) : f32[N, 4, 8]
              %6 = layer_norm(%5, @gamma, @beta) {normalized_dims = 1} : f32[N, 4, 8]
              return(%3, %6, %5)
            }
            """;

    @Test
    void aSumWithOtherUsesBecomesTheSecondResult() {
        FuseTransformerPatterns pass = new FuseTransformerPatterns();
        golden(pass, PRE_NORM_IN, """
                graph @g(%x: f32[N, 4, 8], %h: f32[N, 4, 8]) weights(@gamma: f32[8], @beta: f32[8]) {
                  %0, %1 = skip_layer_norm(%x, %h, @gamma, @beta) {eps = 1.0E-5, with_sum = true} : f32[N, 4, 8], f32[N, 4, 8]
                  %2 = tanh(%0) : f32[N, 4, 8]
                  %3 = add(%1, %2) : f32[N, 4, 8]
                  %4 = exp(%1) : f32[N, 4, 8]
                  %5, %6 = skip_layer_norm(%4, %h, @gamma, @beta) {eps = 1.0E-5, with_sum = true} : f32[N, 4, 8], f32[N, 4, 8]
                  return(%3, %5, %6)
                }
                """);
        GraphTesting.assertSameResults(7, IrParser.parse(PRE_NORM_IN), fused(PRE_NORM_IN), true);
    }

    @Test
    void aSumUsedBeforeTheNormMovesTheFusedOpUpOrStaysUnfused() {
        golden(new FuseTransformerPatterns(), """
                graph @g(%x: f32[2, 8], %h: f32[2, 8]) weights(@gamma: f32[8], @beta: f32[8]) {
                  %0 = add(%x, %h) : f32[2, 8]
                  %1 = neg(%0) : f32[2, 8]
                  %2 = layer_norm(%0, @gamma, @beta) {normalized_dims = 1} : f32[2, 8]
                  return(%1, %2)
                }
                """, """
                graph @g(%x: f32[2, 8], %h: f32[2, 8]) weights(@gamma: f32[8], @beta: f32[8]) {
                  %0, %1 = skip_layer_norm(%x, %h, @gamma, @beta) {eps = 1.0E-5, with_sum = true} : f32[2, 8], f32[2, 8]
                  %2 = neg(%1) : f32[2, 8]
                  return(%2, %0)
                }
                """);
        // gamma is computed after the sum's first use: no place dominates every use, so nothing changes.
        unchanged(new FuseTransformerPatterns(), """
                graph @g(%x: f32[2, 8], %h: f32[2, 8], %w: f32[8]) weights(@beta: f32[8]) {
                  %0 = add(%x, %h) : f32[2, 8]
                  %1 = neg(%0) : f32[2, 8]
                  %2 = exp(%w) : f32[8]
                  %3 = layer_norm(%0, %2, @beta) {normalized_dims = 1} : f32[2, 8]
                  return(%1, %3)
                }
                """);
    }

    @Test
    void skipLayerNormNeedsTheLastDimAffineAndNoBroadcast() {
        unchanged(new FuseTransformerPatterns(), """
                graph @g(%x: f32[2, 4, 8], %h: f32[2, 4, 8], %r: f32[8]) weights(@gamma: f32[8], @beta: f32[8], @g2: f32[4, 8], @b2: f32[4, 8]) {
                  %0 = add(%x, %h) : f32[2, 4, 8]
                  %1 = layer_norm(%0, @gamma) {normalized_dims = 1} : f32[2, 4, 8]
                  %2 = add(%x, %h) : f32[2, 4, 8]
                  %3 = layer_norm(%2, @g2, @b2) {normalized_dims = 2} : f32[2, 4, 8]
                  %4 = add(%x, %r) : f32[2, 4, 8]
                  %5 = layer_norm(%4, @gamma, @beta) {normalized_dims = 1} : f32[2, 4, 8]
                  %6 = layer_norm(%x, @gamma, @beta) {normalized_dims = 1} : f32[2, 4, 8]
                  return(%1, %3, %5, %6)
                }
                """);
    }

    @Test
    void fusesInsideControlFlow() {
        golden(new FuseTransformerPatterns(), """
                graph @g(%x: f32[2, 8], %c: bool) weights(@b: f32[8]) {
                  %0 = if(%c) : f32[2, 8] {
                    %1 = add(%x, @b) : f32[2, 8]
                    %2 = gelu(%1) : f32[2, 8]
                    yield(%2)
                  } {
                    yield(%x)
                  }
                  return(%0)
                }
                """, """
                graph @g(%x: f32[2, 8], %c: bool) weights(@b: f32[8]) {
                  %0 = if(%c) : f32[2, 8] {
                    %1 = bias_gelu(%x, @b) {approximate = "none"} : f32[2, 8]
                    yield(%1)
                  } {
                    yield(%x)
                  }
                  return(%0)
                }
                """);
    }

    /** Attention as MultiheadAttention traces it (after O1): heads as permuted views, k^T a permute, scores / sqrt(d). */
    private static final String ATTENTION_IN = """
            graph @g(%x: f32[N, 5, 8], %y: f32[N, 5, 8], %z: f32[N, 5, 8]) {
              %0 = reshape(%x) {shape = [-1, 5, 2, 4]} : f32[N, 5, 2, 4]
              %1 = permute(%0) {perm = [0, 2, 1, 3]} : f32[N, 2, 5, 4]
              %2 = reshape(%y) {shape = [-1, 5, 2, 4]} : f32[N, 5, 2, 4]
              %3 = permute(%2) {perm = [0, 2, 3, 1]} : f32[N, 2, 4, 5]
              %4 = reshape(%z) {shape = [-1, 5, 2, 4]} : f32[N, 5, 2, 4]
              %5 = permute(%4) {perm = [0, 2, 1, 3]} : f32[N, 2, 5, 4]
              %6 = matmul(%1, %3) : f32[N, 2, 5, 5]
              %7 = constant() {value = dense<f32[]: [2.0]>} : f32[]
              %8 = div(%6, %7) : f32[N, 2, 5, 5]
              %9 = softmax(%8) {axis = -1} : f32[N, 2, 5, 5]
              %10 = matmul(%9, %5) : f32[N, 2, 5, 4]
              return(%10)
            }
            """;

    @Test
    void attentionFromMultiheadAttentionsOps() {
        FuseTransformerPatterns pass = new FuseTransformerPatterns();
        golden(pass, ATTENTION_IN, """
                graph @g(%x: f32[N, 5, 8], %y: f32[N, 5, 8], %z: f32[N, 5, 8]) {
                  %0 = reshape(%x) {shape = [-1, 5, 2, 4]} : f32[N, 5, 2, 4]
                  %1 = permute(%0) {perm = [0, 2, 1, 3]} : f32[N, 2, 5, 4]
                  %2 = reshape(%y) {shape = [-1, 5, 2, 4]} : f32[N, 5, 2, 4]
                  %3 = reshape(%z) {shape = [-1, 5, 2, 4]} : f32[N, 5, 2, 4]
                  %4 = permute(%3) {perm = [0, 2, 1, 3]} : f32[N, 2, 5, 4]
                  %5 = constant() {value = dense<f32[]: [2.0]>} : f32[]
                  %6 = permute(%2) {perm = [0, 2, 1, 3]} : f32[N, 2, 5, 4]
                  %7 = attention(%1, %6, %4) {scale = 0.5, causal = false} : f32[N, 2, 5, 4]
                  return(%7)
                }
                """);
        assertEquals(List.of("matmul + scale/mask + softmax + matmul -> attention"), pass.fusions());
        // scale 1/2 is exact, so the reference kernel (the unfused composition) gives the same bits
        GraphTesting.assertSameResults(7, IrParser.parse(ATTENTION_IN), fused(ATTENTION_IN), true);
    }

    private static final String MASKED_ATTENTION_IN = """
            graph @g(%q: f32[N, 3, 4], %k: f32[N, 3, 4], %v: f32[N, 3, 2], %m: bool[N, 1, 3], %f: f32[3, 3]) {
              %0 = permute(%k) {perm = [0, 2, 1]} : f32[N, 4, 3]
              %1 = matmul(%q, %0) : f32[N, 3, 3]
              %2 = constant() {value = dense<f32[]: [0.25]>} : f32[]
              %3 = mul(%1, %2) : f32[N, 3, 3]
              %4 = constant() {value = dense<bool[3, 3]: [true, false, false, true, true, false, true, true, true]>} : bool[3, 3]
              %5 = constant() {value = dense<f32[]: [-inf]>} : f32[]
              %6 = where(%4, %3, %5) : f32[N, 3, 3]
              %7 = where(%m, %6, %5) : f32[N, 3, 3]
              %8 = softmax(%7) {axis = 2} : f32[N, 3, 3]
              %9 = matmul(%8, %v) : f32[N, 3, 2]
              %10 = matmul(%q, %0) : f32[N, 3, 3]
              %11 = add(%f, %10) : f32[N, 3, 3]
              %12 = softmax(%11) {axis = -1} : f32[N, 3, 3]
              %13 = matmul(%12, %v) : f32[N, 3, 2]
              return(%9, %13)
            }
            """;

    @Test
    void attentionTakesACausalConstantABoolMaskOrAFloatMask() {
        FuseTransformerPatterns pass = new FuseTransformerPatterns();
        Graph g = fused(MASKED_ATTENTION_IN);
        String text = dev.kiln.ir.IrPrinter.print(g);
        assertTrue(text.contains("attention(%q, %k, %v, %m) {scale = 0.25, causal = true}"), text);
        assertTrue(text.contains("attention(%q, %k, %v, %f) {scale = 1.0, causal = false}"), text);
        assertFalse(text.contains("softmax"), text);
        GraphTesting.assertSameResults(3, IrParser.parse(MASKED_ATTENTION_IN), g, true);
    }

    @Test
    void attentionIsLeftAloneWhenThePatternDoesNotHold() {
        unchanged(new FuseTransformerPatterns(), """
                graph @g(%q: f32[N, 3, 4], %k: f32[4, 3], %v: f32[N, 3, 2], %w: f32[N, 4, 3]) {
                  %0 = matmul(%q, %k) : f32[N, 3, 3]
                  %1 = softmax(%0) {axis = -1} : f32[N, 3, 3]
                  %2 = matmul(%1, %v) : f32[N, 3, 2]
                  %3 = matmul(%q, %w) : f32[N, 3, 3]
                  %4 = softmax(%3) {axis = 1} : f32[N, 3, 3]
                  %5 = matmul(%4, %v) : f32[N, 3, 2]
                  %6 = matmul(%q, %w) : f32[N, 3, 3]
                  %7 = softmax(%6) {axis = -1} : f32[N, 3, 3]
                  %8 = matmul(%7, %v) : f32[N, 3, 2]
                  return(%2, %5, %8, %7)
                }
                """);
    }

    private static Graph fused(String text) {
        Graph g = IrParser.parse(text);
        new FuseTransformerPatterns().run(g);
        return g;
    }
}
