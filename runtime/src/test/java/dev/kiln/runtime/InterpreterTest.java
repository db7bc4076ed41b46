package dev.kiln.runtime;

import dev.kiln.ir.Graph;
import dev.kiln.ir.IrParser;
import dev.kiln.ir.Verifier;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InterpreterTest {

    /** Doubles x until its sum exceeds the limit (at most 10 times), then returns relu or neg by the sign of x[0]. */
    private static final String DOUBLING = """
            graph @doubling(%x: f32[N], %limit: f32[]) {
              %trip = constant() {value = 10} : int
              %go = constant() {value = true} : bool
              %r = loop(%trip, %go, %x) : f32[N] {
              ^(%i: int, %acc: f32[N]):
                %two = constant() {value = dense<f32[]: [2.0]>} : f32[]
                %next = mul(%acc, %two) : f32[N]
                %s = sum(%next) : f32[]
                %below = lt(%s, %limit) : bool[]
                %c = item(%below) : bool
                yield(%c, %next)
              }
              %first = reshape(%x) {shape = [-1]} : f32[N]
              %total = sum(%first) : f32[]
              %zero = constant() {value = dense<f32[]: [0.0]>} : f32[]
              %pos = gt(%total, %zero) : bool[]
              %p = item(%pos) : bool
              %out = if(%p) : f32[N] {
                %a = relu(%r) : f32[N]
                yield(%a)
              } {
                %b = neg(%r) : f32[N]
                yield(%b)
              }
              return(%out)
            }
            """;

    @Test
    void runsDataDependentLoopsAndBranches() {
        Graph g = IrParser.parse(DOUBLING);
        Verifier.verify(g);
        // sum 3 -> 6 -> 12 -> 24 -> 48: the loop stops after the first doubling whose sum reaches 40.
        assertArrayEquals(new float[] {16, 32}, run(g, new float[] {1, 2}, 40f));
        // Negative sum: the else branch negates; the limit is never reached, so all 10 iterations run.
        assertArrayEquals(new float[] {-1024, 3072}, run(g, new float[] {1, -3}, 40f));
        // A limit already exceeded still runs the body once, as a do-while with a trip count.
        assertArrayEquals(new float[] {2}, run(g, new float[] {1}, -5f));
    }

    @Test
    void symbolicDimsMustBindConsistently() {
        Graph g = IrParser.parse("""
                graph @pair(%a: f32[N], %b: f32[N]) {
                  %c = add(%a, %b) : f32[N]
                  return(%c)
                }
                """);
        InputMismatchException e = assertThrows(InputMismatchException.class,
                () -> Interpreter.run(g, List.of(NDArray.zeros(dev.kiln.ir.DType.F32, 2), NDArray.zeros(dev.kiln.ir.DType.F32, 3)), Map.of()));
        assertTrue(e.getMessage().contains("input 1 expected f32[N], got f32[3] (bound sizes {N=2})"), e.getMessage());
    }

    @Test
    void symbolicSizeEntriesTakeTheBoundSizes() {
        Graph g = IrParser.parse("""
                graph @flat(%x: f32[N, 2, 3], %y: f32[B, 1, 2]) {
                  %f = reshape(%x) {shape = [N, -1]} : f32[N, 6]
                  %e = expand(%y) {shape = [B, 3, 2]} : f32[B, 3, 2]
                  return(%f, %e)
                }
                """);
        Verifier.verify(g);
        for (int n : new int[] {1, 4}) {
            float[] data = new float[n * 6];
            for (int i = 0; i < data.length; i++) data[i] = i;
            List<Object> out = Interpreter.run(g, List.of(NDArray.of(data, n, 2, 3), NDArray.of(new float[] {1, 2, 3, 4}, 2, 1, 2)), Map.of());
            assertArrayEquals(new long[] {n, 6}, ((NDArray) out.get(0)).shape());
            assertArrayEquals(data, ((NDArray) out.get(0)).toFloatArray());
            assertArrayEquals(new long[] {2, 3, 2}, ((NDArray) out.get(1)).shape());
            assertArrayEquals(new float[] {1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4}, ((NDArray) out.get(1)).toFloatArray());
        }
    }

    @Test
    void anUnboundSizeSymbolIsAClearError() {
        Graph g = IrParser.parse("""
                graph @unbound(%x: f32[N, 4]) {
                  %f = reshape(%x) {shape = [M, -1]} : f32[M, ?]
                  return(%f)
                }
                """);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Interpreter.run(g, List.of(NDArray.zeros(dev.kiln.ir.DType.F32, 2, 4)), Map.of()));
        assertTrue(e.getMessage().contains("reshape attribute 'shape': size entry 0 of [M, -1] is the symbol 'M', which no input binds"),
                e.getMessage());
        assertTrue(e.getMessage().contains("(bound sizes {N=2})"), e.getMessage());
    }

    @Test
    void missingWeightsAndWrongInputCountsAreReported() {
        Graph g = IrParser.parse("""
                graph @w(%x: f32[2]) weights(@scale: f32[2]) {
                  %y = mul(%x, @scale) : f32[2]
                  return(%y)
                }
                """);
        NDArray x = NDArray.of(new float[] {1, 2}, 2);
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> Interpreter.run(g, List.of(x), Map.of()));
        assertEquals("graph w: no data bound for weight 'scale'", missing.getMessage());
        IllegalArgumentException count = assertThrows(IllegalArgumentException.class, () -> Interpreter.run(g, List.of(), Map.of()));
        assertEquals("graph w takes 1 inputs, got 0", count.getMessage());
        assertArrayEquals(new float[] {3, 8}, ((NDArray) Interpreter.run(g, List.of(x), Map.of("scale", NDArray.of(new float[] {3, 4}, 2))).get(0)).toFloatArray());
    }

    private static float[] run(Graph g, float[] x, float limit) {
        List<Object> out = Interpreter.run(g, List.of(NDArray.of(x, x.length), NDArray.full(dev.kiln.ir.DType.F32, limit)), Map.of());
        return ((NDArray) out.get(0)).toFloatArray();
    }
}
