package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.IrParser;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.Verifier;
import dev.kiln.runtime.Interpreter;
import dev.kiln.runtime.NDArray;
import dev.kiln.ir.DType;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A dequantising cast from a storage-only dtype fuses with the arithmetic after it and still runs. */
class StorageDTypeFusionTest {

    @Test
    void castFromFloat8FusesWithItsConsumers() {
        Graph g = IrParser.parse("""
                graph @dequant(%q: f8e4m3fn[4], %s: f32[4]) {
                  %0 = cast(%q) {dtype = f32} : f32[4]
                  %1 = mul(%0, %s) : f32[4]
                  %2 = relu(%1) : f32[4]
                  return(%2)
                }
                """);
        NDArray q = NDArray.of(new float[] {0.5f, -1.5f, 448f, 3f}).to(DType.F8E4M3FN);
        NDArray s = NDArray.of(new float[] {2f, 2f, 0.5f, -1f});
        List<NDArray> before = Interpreter.runTensors(g, List.of(q, s), Map.of());
        new FuseElementwise().run(g);
        Verifier.verify(g);
        assertTrue(IrPrinter.print(g).contains("fused_elementwise(%q, %s)"), IrPrinter.print(g));
        List<NDArray> after = Interpreter.runTensors(g, List.of(q, s), Map.of());
        assertArrayEquals(new double[] {1, 0, 224, 0}, before.get(0).toDoubleArray());
        assertArrayEquals(before.get(0).toDoubleArray(), after.get(0).toDoubleArray());
    }
}
