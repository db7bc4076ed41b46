package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.IrParser;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.Verifier;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** Golden tests: IR text in, linear/conv + activation fusion, IR text out. */
class FuseLinearActivationTest {

    private static void fuse(String in, String expected) {
        Graph g = IrParser.parse(in);
        boolean changed = new FuseLinearActivation().run(g);
        Verifier.verify(g);
        String out = IrPrinter.print(g);
        assertEquals(expected, out);
        assertEquals(!in.equals(expected), changed);
        assertEquals(out, IrPrinter.print(IrParser.parse(out)));
        assertFalse(new FuseLinearActivation().run(g));
    }

    @Test
    void fusesLinearAndConvWithActivations() {
        fuse("""
                graph @g(%x: f32[N, 4], %img: f32[1, 3, 8, 8]) weights(@w: f32[5, 4], @b: f32[5], @k: f32[6, 3, 3, 3]) {
                  %0 = linear(%x, @w, @b) : f32[N, 5]
                  %1 = relu(%0) : f32[N, 5]
                  %2 = linear(%x, @w) : f32[N, 5]
                  %3 = gelu(%2) {approximate = "tanh"} : f32[N, 5]
                  %4 = conv2d(%img, @k) {padding = [1, 1]} : f32[1, 6, 8, 8]
                  %5 = sigmoid(%4) : f32[1, 6, 8, 8]
                  return(%1, %3, %5)
                }
                """, """
                graph @g(%x: f32[N, 4], %img: f32[1, 3, 8, 8]) weights(@w: f32[5, 4], @b: f32[5], @k: f32[6, 3, 3, 3]) {
                  %0 = linear_act(%x, @w, @b) {activation = "relu"} : f32[N, 5]
                  %1 = linear_act(%x, @w) {activation = "gelu_tanh"} : f32[N, 5]
                  %2 = conv2d_act(%img, @k) {padding = [1, 1], activation = "sigmoid"} : f32[1, 6, 8, 8]
                  return(%0, %1, %2)
                }
                """);
    }

    @Test
    void fusesMatmulPlusBiasPlusActivation() {
        fuse("""
                graph @g(%x: f32[2, 3, 4]) weights(@w: f32[4, 5], @b: f32[5]) {
                  %0 = matmul(%x, @w) : f32[2, 3, 5]
                  %1 = add(@b, %0) : f32[2, 3, 5]
                  %2 = tanh(%1) : f32[2, 3, 5]
                  return(%2)
                }
                """, """
                graph @g(%x: f32[2, 3, 4]) weights(@w: f32[4, 5], @b: f32[5]) {
                  %0 = permute(@w) {perm = [1, 0]} : f32[5, 4]
                  %1 = linear_act(%x, %0, @b) {activation = "tanh"} : f32[2, 3, 5]
                  return(%1)
                }
                """);
    }

    @Test
    void leavesSharedIntermediatesAndOtherPatternsAlone() {
        String text = """
                graph @g(%x: f32[2, 4], %y: f32[2, 5]) weights(@w: f32[5, 4], @m: f32[4, 5]) {
                  %0 = linear(%x, @w) : f32[2, 5]
                  %1 = relu(%0) : f32[2, 5]
                  %2 = matmul(%x, @m) : f32[2, 5]
                  %3 = add(%2, %y) : f32[2, 5]
                  %4 = relu(%3) : f32[2, 5]
                  %5 = exp(%4) : f32[2, 5]
                  return(%1, %0, %5)
                }
                """;
        fuse(text, text);
    }
}
