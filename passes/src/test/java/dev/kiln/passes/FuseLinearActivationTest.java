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

    @Test
    void fusesResidualAddsIntoTheConvolutionEitherOrderWithOrWithoutActivation() {
        fuse("""
                graph @g(%x: f32[1, 2, 4, 4]) weights(@k: f32[2, 2, 3, 3], @kb: f32[2], @d: f32[2, 2, 1, 1]) {
                  %0 = conv2d(%x, @k, @kb) {padding = [1, 1]} : f32[1, 2, 4, 4]
                  %1 = relu(%0) : f32[1, 2, 4, 4]
                  %2 = conv2d(%1, @k) {padding = [1, 1]} : f32[1, 2, 4, 4]
                  %3 = add(%2, %x) : f32[1, 2, 4, 4]
                  %4 = relu(%3) : f32[1, 2, 4, 4]
                  %5 = conv2d(%4, @k, @kb) {padding = [1, 1]} : f32[1, 2, 4, 4]
                  %6 = conv2d(%4, @d) : f32[1, 2, 4, 4]
                  %7 = add(%5, %6) : f32[1, 2, 4, 4]
                  %8 = sigmoid(%7) : f32[1, 2, 4, 4]
                  %9 = conv2d(%8, @d) : f32[1, 2, 4, 4]
                  %10 = add(%8, %9) : f32[1, 2, 4, 4]
                  return(%10)
                }
                """, """
                graph @g(%x: f32[1, 2, 4, 4]) weights(@k: f32[2, 2, 3, 3], @kb: f32[2], @d: f32[2, 2, 1, 1]) {
                  %0 = conv2d_act(%x, @k, @kb) {padding = [1, 1], activation = "relu"} : f32[1, 2, 4, 4]
                  %1 = conv2d_act(%0, @k, %x) {padding = [1, 1], activation = "relu", residual = true} : f32[1, 2, 4, 4]
                  %2 = conv2d(%1, @d) : f32[1, 2, 4, 4]
                  %3 = conv2d_act(%1, @k, @kb, %2) {padding = [1, 1], activation = "sigmoid", residual = true} : f32[1, 2, 4, 4]
                  %4 = conv2d_act(%3, @d, %3) {activation = "none", residual = true} : f32[1, 2, 4, 4]
                  return(%4)
                }
                """);
    }

    @Test
    void aResidualAddWhoseSumIsUsedTwiceKeepsItsActivationApart() {
        fuse("""
                graph @g(%x: f32[1, 2, 4, 4]) weights(@k: f32[2, 2, 1, 1]) {
                  %0 = conv2d(%x, @k) : f32[1, 2, 4, 4]
                  %1 = add(%x, %0) : f32[1, 2, 4, 4]
                  %2 = relu(%1) : f32[1, 2, 4, 4]
                  return(%2, %1)
                }
                """, """
                graph @g(%x: f32[1, 2, 4, 4]) weights(@k: f32[2, 2, 1, 1]) {
                  %0 = conv2d_act(%x, @k, %x) {activation = "none", residual = true} : f32[1, 2, 4, 4]
                  %1 = relu(%0) : f32[1, 2, 4, 4]
                  return(%1, %0)
                }
                """);
    }

    @Test
    void leavesBroadcastResidualsAndSharedConvolutionsAlone() {
        String text = """
                graph @g(%x: f32[1, 2, 4, 4], %bias: f32[2, 1, 1], %wide: f32[3, 2, 4, 4]) weights(@k: f32[2, 2, 1, 1]) {
                  %0 = conv2d(%x, @k) : f32[1, 2, 4, 4]
                  %1 = add(%0, %bias) : f32[1, 2, 4, 4]
                  %2 = relu(%1) : f32[1, 2, 4, 4]
                  %3 = conv2d(%2, @k) : f32[1, 2, 4, 4]
                  %4 = add(%3, %x) : f32[1, 2, 4, 4]
                  %5 = relu(%4) : f32[1, 2, 4, 4]
                  %6 = conv2d(%5, @k) : f32[1, 2, 4, 4]
                  %7 = add(%6, %wide) : f32[3, 2, 4, 4]
                  return(%7, %3)
                }
                """;
        fuse(text, text);
    }
}
