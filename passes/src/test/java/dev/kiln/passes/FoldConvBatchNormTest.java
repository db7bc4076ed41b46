package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.IrParser;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.Verifier;
import dev.kiln.runtime.NDArray;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Golden tests: IR text in, conv/linear + batch_norm folding, IR text out, and the folded weight data. */
class FoldConvBatchNormTest {

    @Test
    void foldsBatchNormIntoConvAndHandsBackNewWeights() {
        Graph g = IrParser.parse("""
                graph @g(%x: f32[N, 1, 3, 3]) weights(@conv.weight: f32[2, 1, 1, 1], @bn.mean: f32[2], @bn.var: f32[2], @bn.weight: f32[2], @bn.bias: f32[2]) {
                  %0 = conv2d(%x, @conv.weight) : f32[N, 2, 3, 3]
                  %1 = batch_norm(%0, @bn.mean, @bn.var, @bn.weight, @bn.bias) {eps = 0.0} : f32[N, 2, 3, 3]
                  return(%1)
                }
                """);
        Map<String, NDArray> data = Map.of(
                "conv.weight", NDArray.of(new float[] {2, 3}, 2, 1, 1, 1),
                "bn.mean", NDArray.of(new float[] {1, -1}, 2),
                "bn.var", NDArray.of(new float[] {4, 1}, 2),
                "bn.weight", NDArray.of(new float[] {1, 2}, 2),
                "bn.bias", NDArray.of(new float[] {0.5f, 0}, 2));
        FoldConvBatchNorm pass = new FoldConvBatchNorm(data);
        assertTrue(pass.run(g));
        Verifier.verify(g);
        assertEquals("""
                graph @g(%x: f32[N, 1, 3, 3]) weights(@conv.weight.bn_folded: f32[2, 1, 1, 1], @conv.bias.bn_folded: f32[2]) {
                  %0 = conv2d(%x, @conv.weight.bn_folded, @conv.bias.bn_folded) : f32[N, 2, 3, 3]
                  return(%0)
                }
                """, IrPrinter.print(g));
        // scale = gamma / sqrt(var) = [0.5, 2]; w' = [1, 6]; b' = (0 - mean) * scale + beta = [0, 2]
        assertArrayEquals(new double[] {1, 6}, pass.weights().get("conv.weight.bn_folded").toDoubleArray());
        assertArrayEquals(new double[] {0, 2}, pass.weights().get("conv.bias.bn_folded").toDoubleArray());
        assertFalse(pass.weights().containsKey("bn.mean"), "weights the graph no longer declares are dropped");
        assertEquals(1, pass.folds().size());
        assertEquals(2, data.get("conv.weight").toDoubleArray()[0], "the caller's arrays are untouched");
    }

    @Test
    void foldsIntoLinearWithConstantStatistics() {
        Graph g = IrParser.parse("""
                graph @g(%x: f32[N, 2]) weights(@fc.weight: f32[2, 2], @fc.bias: f32[2]) {
                  %m = constant() {value = dense<f32[2]: [1.0, 0.0]>} : f32[2]
                  %v = constant() {value = dense<f32[2]: [1.0, 3.0]>} : f32[2]
                  %0 = linear(%x, @fc.weight, @fc.bias) : f32[N, 2]
                  %1 = batch_norm(%0, %m, %v) {eps = 1.0} : f32[N, 2]
                  return(%1)
                }
                """);
        FoldConvBatchNorm pass = new FoldConvBatchNorm(Map.of(
                "fc.weight", NDArray.of(new float[] {1, 2, 3, 4}, 2, 2), "fc.bias", NDArray.of(new float[] {3, 2}, 2)));
        assertTrue(pass.run(g));
        Verifier.verify(g);
        assertEquals("""
                graph @g(%x: f32[N, 2]) weights(@fc.weight.bn_folded: f32[2, 2], @fc.bias.bn_folded: f32[2]) {
                  %m = constant() {value = dense<f32[2]: [1.0, 0.0]>} : f32[2]
                  %v = constant() {value = dense<f32[2]: [1.0, 3.0]>} : f32[2]
                  %0 = linear(%x, @fc.weight.bn_folded, @fc.bias.bn_folded) : f32[N, 2]
                  return(%0)
                }
                """, IrPrinter.print(g));
        // scale = 1 / sqrt(v + 1) = [1/sqrt2, 1/2]
        double s = 1 / Math.sqrt(2);
        assertArrayEquals(new double[] {s, 2 * s, 1.5, 2}, pass.weights().get("fc.weight.bn_folded").toDoubleArray(), 1e-6);
        assertArrayEquals(new double[] {2 * s, 1}, pass.weights().get("fc.bias.bn_folded").toDoubleArray(), 1e-6);
    }

    @Test
    void leavesUnknownStatisticsAloneAndTurnsUnfoldableOnesIntoPerChannelMulAdd() {
        String text = """
                graph @g(%x: f32[1, 1, 2, 2], %mean: f32[2]) weights(@w: f32[2, 1, 1, 1], @var: f32[2]) {
                  %0 = conv2d(%x, @w) : f32[1, 2, 2, 2]
                  %1 = batch_norm(%0, %mean, @var) : f32[1, 2, 2, 2]
                  %2 = conv2d(%x, @w) : f32[1, 2, 2, 2]
                  %3 = batch_norm(%2, @var, @var) {eps = 0.0} : f32[1, 2, 2, 2]
                  return(%1, %2, %3)
                }
                """;
        Graph g = IrParser.parse(text);
        Map<String, NDArray> data = Map.of("w", NDArray.of(new float[] {1, 2}, 2, 1, 1, 1), "var", NDArray.of(new float[] {4, 16}, 2));
        FoldConvBatchNorm fold = new FoldConvBatchNorm(data);
        assertTrue(fold.run(g));
        Verifier.verify(g);
        // the unknown mean stays; the shared conv cannot absorb %3, which becomes x * scale + shift per channel
        assertEquals("""
                graph @g(%x: f32[1, 1, 2, 2], %mean: f32[2]) weights(@w: f32[2, 1, 1, 1], @var: f32[2], @var.bn_scale: f32[2, 1, 1], @var.bn_shift: f32[2, 1, 1]) {
                  %0 = conv2d(%x, @w) : f32[1, 2, 2, 2]
                  %1 = batch_norm(%0, %mean, @var) : f32[1, 2, 2, 2]
                  %2 = conv2d(%x, @w) : f32[1, 2, 2, 2]
                  %3 = mul(%2, @var.bn_scale) : f32[1, 2, 2, 2]
                  %4 = add(%3, @var.bn_shift) : f32[1, 2, 2, 2]
                  return(%1, %2, %4)
                }
                """, IrPrinter.print(g));
        // scale = 1 / sqrt(var), shift = -mean * scale with mean = var here
        assertArrayEquals(new float[] {0.5f, 0.25f}, fold.weights().get("var.bn_scale").toFloatArray());
        assertArrayEquals(new float[] {-2f, -4f}, fold.weights().get("var.bn_shift").toFloatArray());
    }
}
