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
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** Golden tests: ShuffleNet v2's cat + channel shuffle becomes one interleaving cat; near misses are left alone. */
class InterleaveCatShuffleTest {

    private static final String SHUFFLE = """
            graph @g(%a: f32[N, 3, 4, 5], %b: f32[N, 3, 4, 5]) {
              %0 = cat(%a, %b) {axis = 1} : f32[N, 6, 4, 5]
              %1 = reshape(%0) {shape = [-1, 2, 3, 4, 5]} : f32[N, 2, 3, 4, 5]
              %2 = permute(%1) {perm = [0, 2, 1, 3, 4]} : f32[N, 3, 2, 4, 5]
              %3 = reshape(%2) {shape = [-1, 6, 4, 5]} : f32[N, 6, 4, 5]
              return(%3)
            }
            """;

    private static boolean rewrite(Graph g) {
        boolean changed = new InterleaveCatShuffle().run(g);
        Verifier.verify(g);
        return changed;
    }

    @Test
    void catThenShuffleBecomesOneInterleavingCat() {
        Graph g = IrParser.parse(SHUFFLE);
        assertEquals(true, rewrite(g));
        assertEquals("""
                graph @g(%a: f32[N, 3, 4, 5], %b: f32[N, 3, 4, 5]) {
                  %0 = reshape(%a) {shape = [-1, 3, 1, 4, 5]} : f32[N, 3, 1, 4, 5]
                  %1 = reshape(%b) {shape = [-1, 3, 1, 4, 5]} : f32[N, 3, 1, 4, 5]
                  %2 = cat(%0, %1) {axis = 2} : f32[N, 3, 2, 4, 5]
                  %3 = reshape(%2) {shape = [-1, 6, 4, 5]} : f32[N, 6, 4, 5]
                  return(%3)
                }
                """, IrPrinter.print(g));
        assertFalse(rewrite(g));
    }

    @Test
    void theRewrittenGraphComputesTheSameTensor() {
        Graph before = IrParser.parse(SHUFFLE), after = IrParser.parse(SHUFFLE);
        rewrite(after);
        for (long n : new long[] {1, 3}) {
            List<Object> inputs = GraphTesting.randomInputs(before, n, new Random(n));
            NDArray expected = (NDArray) Interpreter.run(before, inputs, Map.of()).get(0);
            NDArray got = (NDArray) Interpreter.run(after, inputs, Map.of()).get(0);
            assertEquals(-1L, expected.contiguous().segment().mismatch(got.contiguous().segment()), "batch " + n);
        }
    }

    @Test
    void otherPermutationsSizesAndSharedResultsAreLeftAlone() {
        String[] unchanged = {
                SHUFFLE.replace("perm = [0, 2, 1, 3, 4]", "perm = [0, 1, 2, 4, 3]").replace("f32[N, 3, 2, 4, 5]", "f32[N, 2, 3, 5, 4]")
                        .replace("{shape = [-1, 6, 4, 5]} : f32[N, 6, 4, 5]", "{shape = [-1, 6, 5, 4]} : f32[N, 6, 5, 4]"),
                SHUFFLE.replace("return(%3)", "return(%3, %0)"),
                """
                graph @g(%a: f32[N, 2, 4, 5], %b: f32[N, 4, 4, 5]) {
                  %0 = cat(%a, %b) {axis = 1} : f32[N, 6, 4, 5]
                  %1 = reshape(%0) {shape = [-1, 2, 3, 4, 5]} : f32[N, 2, 3, 4, 5]
                  %2 = permute(%1) {perm = [0, 2, 1, 3, 4]} : f32[N, 3, 2, 4, 5]
                  %3 = reshape(%2) {shape = [-1, 6, 4, 5]} : f32[N, 6, 4, 5]
                  return(%3)
                }
                """};
        for (String ir : unchanged) {
            Graph g = IrParser.parse(ir);
            String printed = IrPrinter.print(g);
            assertFalse(rewrite(g), ir);
            assertEquals(printed, IrPrinter.print(g));
        }
    }
}
