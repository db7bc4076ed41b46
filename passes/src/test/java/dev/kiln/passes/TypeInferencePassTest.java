package dev.kiln.passes;

import dev.kiln.ir.DType;
import dev.kiln.ir.Graph;
import dev.kiln.ir.IrException;
import dev.kiln.ir.IrParser;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;
import dev.kiln.ir.VerificationException;
import dev.kiln.ir.Verifier;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Golden tests for {@link TypeInferencePass}. The parser rejects stale types, so each test parses a
 * valid graph, rewires the uses of a symbolic input to a new, static input (what specialising a
 * graph to concrete shapes does), and checks the re-inferred text.
 */
class TypeInferencePassTest {

    /** Adds input {@code %s} of {@code type} and moves every use of input 0 to it. */
    private static Graph specialise(String text, TensorType type) {
        Graph g = IrParser.parse(text);
        Value fresh = g.addInput("s", type);
        g.inputs().get(0).replaceAllUsesWith(fresh);
        assertThrows(VerificationException.class, () -> Verifier.verify(g), "the types are stale before the pass");
        return g;
    }

    @Test
    void propagatesAConcreteShapeDownstream() {
        Graph g = specialise("""
                graph @g(%x: f32[N, 3, 4]) weights(@w: f32[5, 12]) {
                  %a = relu(%x) : f32[N, 3, 4]
                  %b = flatten(%a) {start_dim = 1} : f32[N, 12]
                  %c = linear(%b, @w) : f32[N, 5]
                  %d = sum(%c) {axes = [1]} : f32[N]
                  %e = reshape(%x) {shape = [N, -1]} : f32[N, 12]
                  return(%d, %e)
                }
                """, TensorType.of(DType.F32, 2, 3, 4));
        TypeInferencePass pass = new TypeInferencePass();
        assertTrue(pass.run(g));
        Verifier.verify(g);
        assertEquals("""
                graph @g(%x: f32[N, 3, 4], %s: f32[2, 3, 4]) weights(@w: f32[5, 12]) {
                  %0 = relu(%s) : f32[2, 3, 4]
                  %1 = flatten(%0) {start_dim = 1} : f32[2, 12]
                  %2 = linear(%1, @w) : f32[2, 5]
                  %3 = sum(%2) {axes = [1]} : f32[2]
                  %4 = reshape(%s) {shape = [N, -1]} : f32[N, ?]
                  return(%3, %4)
                }
                """, IrPrinter.print(g));
        assertEquals(List.of("relu: f32[N, 3, 4] -> f32[2, 3, 4]", "flatten: f32[N, 12] -> f32[2, 12]",
                "linear: f32[N, 5] -> f32[2, 5]", "sum: f32[N] -> f32[2]",
                // the symbol N no longer names a dim of the operand, so -1 cannot be solved statically
                "reshape: f32[N, 12] -> f32[N, ?]"), pass.changes());
        assertFalse(pass.run(g));
        assertTrue(pass.changes().isEmpty());
        assertEquals("infer-types", pass.name());
    }

    @Test
    void reportsNothingOnAConsistentGraph() {
        String text = """
                graph @g(%x: f32[N, 4]) {
                  %a = relu(%x) : f32[N, 4]
                  return(%a)
                }
                """;
        Graph g = IrParser.parse(text);
        assertFalse(new TypeInferencePass().run(g));
        assertEquals(text, IrPrinter.print(g));
    }

    @Test
    void retypesInsideRegionsButNotTheRegionOpItself() {
        Graph g = specialise("""
                graph @g(%x: f32[N], %c: bool) {
                  %r = if(%c) : f32[N] {
                    %a = neg(%x) : f32[N]
                    yield(%a)
                  } {
                    yield(%x)
                  }
                  return(%r)
                }
                """, TensorType.of(DType.F32, 3));
        IrException e = assertThrows(IrException.class, () -> new TypeInferencePass().run(g));
        assertTrue(e.getMessage().startsWith("infer-types: if would change from [f32[N]] to [f32[3]]"), e.getMessage());
    }

    @Test
    void anIncompatibleChangeIsAnInferenceError() {
        Graph g = specialise("""
                graph @g(%x: f32[N, 4]) weights(@w: f32[5, 4]) {
                  %c = linear(%x, @w) : f32[N, 5]
                  return(%c)
                }
                """, TensorType.of(DType.F32, 2, 7));
        assertThrows(IrException.class, () -> new TypeInferencePass().run(g));
    }
}
