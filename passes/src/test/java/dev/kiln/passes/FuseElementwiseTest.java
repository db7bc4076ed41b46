package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.IrParser;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.Verifier;
import dev.kiln.runtime.Interpreter;
import dev.kiln.runtime.NDArray;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** Golden tests: IR text in, elementwise fusion, IR text out. */
class FuseElementwiseTest {

    private static FuseElementwise fuse(String in, String expected) {
        Graph g = IrParser.parse(in);
        FuseElementwise pass = new FuseElementwise();
        boolean changed = pass.run(g);
        Verifier.verify(g);
        String out = IrPrinter.print(g);
        assertEquals(expected, out);
        assertEquals(!in.equals(expected), changed);
        assertEquals(out, IrPrinter.print(IrParser.parse(out)), "the fused graph round-trips through the parser");
        assertFalse(new FuseElementwise().run(g), "a second run finds nothing");
        return pass;
    }

    @Test
    void fusesABroadcastingChain() {
        FuseElementwise pass = fuse("""
                graph @g(%x: f32[N, 4], %b: f32[4]) {
                  %0 = add(%x, %b) : f32[N, 4]
                  %1 = relu(%0) : f32[N, 4]
                  %2 = mul(%1, %1) : f32[N, 4]
                  %3 = tanh(%2) : f32[N, 4]
                  return(%3)
                }
                """, """
                graph @g(%x: f32[N, 4], %b: f32[4]) {
                  %0 = fused_elementwise(%x, %b) : f32[N, 4] {
                  ^(%1: f32[N, 4], %2: f32[4]):
                    %3 = add(%1, %2) : f32[N, 4]
                    %4 = relu(%3) : f32[N, 4]
                    %5 = mul(%4, %4) : f32[N, 4]
                    %6 = tanh(%5) : f32[N, 4]
                    yield(%6)
                  }
                  return(%0)
                }
                """);
        assertEquals(1, pass.groups().size());
        assertEquals(List.of("add", "relu", "mul", "tanh"), pass.groups().get(0).ops());
        assertEquals("@g: fused_elementwise[add, relu, mul, tanh] (2 inputs) -> f32[N, 4]", pass.groups().get(0).toString());
    }

    @Test
    void aValueUsedTwiceOutsideTheGroupBecomesAnInput() {
        fuse("""
                graph @g(%x: f32[3], %w: f32[3, 3]) {
                  %0 = exp(%x) : f32[3]
                  %1 = neg(%0) : f32[3]
                  %2 = sigmoid(%1) : f32[3]
                  %3 = matmul(%w, %2) : f32[3]
                  %4 = sub(%3, %0) : f32[3]
                  %5 = abs(%4) : f32[3]
                  return(%5)
                }
                """, """
                graph @g(%x: f32[3], %w: f32[3, 3]) {
                  %0 = exp(%x) : f32[3]
                  %1 = fused_elementwise(%0) : f32[3] {
                  ^(%2: f32[3]):
                    %3 = neg(%2) : f32[3]
                    %4 = sigmoid(%3) : f32[3]
                    yield(%4)
                  }
                  %5 = matmul(%w, %1) : f32[3]
                  %6 = fused_elementwise(%5, %0) : f32[3] {
                  ^(%7: f32[3], %8: f32[3]):
                    %9 = sub(%7, %8) : f32[3]
                    %10 = abs(%9) : f32[3]
                    yield(%10)
                  }
                  return(%6)
                }
                """);
    }

    @Test
    void fusesInsideControlFlowAndLeavesSingletonsAlone() {
        fuse("""
                graph @g(%x: f32[2], %c: bool) {
                  %0 = relu(%x) : f32[2]
                  %1 = if(%c) : f32[2] {
                    %2 = neg(%0) : f32[2]
                    %3 = exp(%2) : f32[2]
                    yield(%3)
                  } {
                    yield(%0)
                  }
                  return(%1)
                }
                """, """
                graph @g(%x: f32[2], %c: bool) {
                  %0 = relu(%x) : f32[2]
                  %1 = if(%c) : f32[2] {
                    %2 = fused_elementwise(%0) : f32[2] {
                    ^(%3: f32[2]):
                      %4 = neg(%3) : f32[2]
                      %5 = exp(%4) : f32[2]
                      yield(%5)
                    }
                    yield(%2)
                  } {
                    yield(%0)
                  }
                  return(%1)
                }
                """);
    }

    @Test
    void theInterpreterRunsTheFusedRegion() {
        String text = """
                graph @g(%x: f32[2, 3], %b: f32[3]) {
                  %0 = add(%x, %b) : f32[2, 3]
                  %1 = gt(%0, %b) : bool[2, 3]
                  %2 = where(%1, %0, %b) : f32[2, 3]
                  return(%2)
                }
                """;
        Graph g = IrParser.parse(text);
        new FuseElementwise().run(g);
        Verifier.verify(g);
        assertEquals(1, g.body().ops().size() - 1);
        NDArray x = NDArray.of(new float[] {1, -2, 3, -4, 5, -6}, 2, 3), b = NDArray.of(new float[] {0.5f, 1, -1}, 3);
        List<NDArray> expected = Interpreter.runTensors(IrParser.parse(text), List.of(x, b), Map.of());
        List<NDArray> actual = Interpreter.runTensors(g, List.of(x, b), Map.of());
        assertArrayEquals(expected.get(0).toDoubleArray(), actual.get(0).toDoubleArray());
    }

    @Test
    void aTrailingReductionJoinsTheGroupThatFeedsIt() {
        FuseElementwise pass = fuse("""
                graph @g(%x: f32[N, 4], %y: f32[N, 4], %b: f32[4]) {
                  %0 = mul(%x, %y) : f32[N, 4]
                  %1 = sum(%0) {axes = [1]} : f32[N]
                  %2 = sub(%x, %b) : f32[N, 4]
                  %3 = exp(%2) : f32[N, 4]
                  %4 = mean(%3) {axes = [0], keepdim = true} : f32[1, 4]
                  return(%1, %4)
                }
                """, """
                graph @g(%x: f32[N, 4], %y: f32[N, 4], %b: f32[4]) {
                  %0 = fused_elementwise(%x, %y) : f32[N] {
                  ^(%1: f32[N, 4], %2: f32[N, 4]):
                    %3 = mul(%1, %2) : f32[N, 4]
                    %4 = sum(%3) {axes = [1]} : f32[N]
                    yield(%4)
                  }
                  %5 = fused_elementwise(%x, %b) : f32[1, 4] {
                  ^(%6: f32[N, 4], %7: f32[4]):
                    %8 = sub(%6, %7) : f32[N, 4]
                    %9 = exp(%8) : f32[N, 4]
                    %10 = mean(%9) {axes = [0], keepdim = true} : f32[1, 4]
                    yield(%10)
                  }
                  return(%0, %5)
                }
                """);
        assertEquals(List.of("sub", "exp", "mean"), pass.groups().get(0).ops());
        assertEquals("@g: fused_elementwise[mul, sum] (2 inputs) -> f32[N]", pass.groups().get(1).toString());
    }

    @Test
    void aReductionThatReducesNothingOrWhoseInputIsSharedStaysOutside() {
        fuse("""
                graph @g(%x: f32[N, 1], %y: f32[3, 4]) {
                  %0 = exp(%x) : f32[N, 1]
                  %1 = neg(%0) : f32[N, 1]
                  %2 = sum(%1) {axes = [1]} : f32[N]
                  %3 = tanh(%y) : f32[3, 4]
                  %4 = amax(%3) : f32[]
                  %5 = relu(%y) : f32[3, 4]
                  return(%2, %4, %3, %5)
                }
                """, """
                graph @g(%x: f32[N, 1], %y: f32[3, 4]) {
                  %0 = fused_elementwise(%x) : f32[N, 1] {
                  ^(%1: f32[N, 1]):
                    %2 = exp(%1) : f32[N, 1]
                    %3 = neg(%2) : f32[N, 1]
                    yield(%3)
                  }
                  %4 = sum(%0) {axes = [1]} : f32[N]
                  %5 = tanh(%y) : f32[3, 4]
                  %6 = amax(%5) : f32[]
                  %7 = relu(%y) : f32[3, 4]
                  return(%4, %6, %5, %7)
                }
                """);
    }

    @Test
    void theInterpreterRunsTrailingReductions() {
        String text = """
                graph @g(%x: f32[2, 3, 4], %b: f32[4]) {
                  %0 = add(%x, %b) : f32[2, 3, 4]
                  %1 = exp(%0) : f32[2, 3, 4]
                  %2 = logsumexp(%1) {axes = [0, 2]} : f32[3]
                  %3 = mul(%x, %x) : f32[2, 3, 4]
                  %4 = argmax(%3) {axis = 1, keepdim = true} : i64[2, 1, 4]
                  %5 = sub(%x, %b) : f32[2, 3, 4]
                  %6 = amin(%5) {axes = [-1]} : f32[2, 3]
                  return(%2, %4, %6)
                }
                """;
        Graph g = IrParser.parse(text);
        new FuseElementwise().run(g);
        Verifier.verify(g);
        assertEquals(3, g.body().ops().stream().filter(op -> op.name().equals("fused_elementwise")).count(), IrPrinter.print(g));
        GraphTesting.assertSameResults(3, IrParser.parse(text), g, true);
    }
}
