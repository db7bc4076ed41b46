package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.IrParser;
import dev.kiln.ir.IrPrinter;
import dev.kiln.runtime.NDArray;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class FreezeTest {

    @Test
    void weightsBecomeConstantsAndThenFold() {
        Graph g = IrParser.parse("""
                graph @g(%x: f32[2]) weights(@a: f32[2], @b: f32[2]) {
                  %0 = add(@a, @b) : f32[2]
                  %1 = mul(%x, %0) : f32[2]
                  return(%1)
                }
                """);
        Map<String, NDArray> w = Map.of("a", NDArray.of(new float[] {1, 2}, 2), "b", NDArray.of(new float[] {10, 20}, 2));
        new PassManager("freeze+O1").add(new Freeze(w)).add(new ConstantFolding()).add(new DeadCodeElimination()).verifyEach(true).run(g);
        assertEquals("""
                graph @g(%x: f32[2]) {
                  %0 = constant() {value = dense<f32[2]: [11.0, 22.0]>} : f32[2]
                  %1 = mul(%x, %0) : f32[2]
                  return(%1)
                }
                """, IrPrinter.print(g));
    }

    @Test
    void mismatchedDataIsAnError() {
        Graph g = IrParser.parse("""
                graph @g(%x: f32[2]) weights(@a: f32[2]) {
                  %0 = add(%x, @a) : f32[2]
                  return(%0)
                }
                """);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Freeze(Map.of("a", NDArray.of(new float[] {1, 2, 3}, 3))).run(g));
        assertEquals("freeze: data for weight 'a' is f32[3], but the graph declares f32[2]", e.getMessage());
    }
}
