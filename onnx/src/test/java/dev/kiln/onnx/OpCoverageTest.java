package dev.kiln.onnx;

import dev.kiln.ir.OpRegistry;
import dev.kiln.ir.OpSchema;
import dev.kiln.ir.Builder;
import dev.kiln.ir.DType;
import dev.kiln.ir.Graph;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every registry op either has an ONNX lowering or is on the one documented list of ops left out
 * ({@link OnnxOpTable#NOT_EXPORTED}, with reasons); the list is printed so a run shows what does not export.
 */
class OpCoverageTest {

    @Test
    void everyRegistryOpIsMappedOrDocumentedAsNotExported() {
        Map<String, String> notExported = new TreeMap<>(OnnxExporter.notExported());
        System.out.println("Registry ops with no ONNX export (" + notExported.size() + "):");
        notExported.forEach((op, reason) -> System.out.println("  " + op + ": " + reason));
        Set<String> unaccounted = new TreeSet<>();
        int mapped = 0;
        int builtIn = 0;
        for (OpSchema s : OpRegistry.all()) {
            if (OnnxExporterTest.CUSTOM_OPS.contains(s.name())) continue;
            builtIn++;
            if (OnnxOpTable.has(s.name())) mapped++;
            else if (!notExported.containsKey(s.name())) unaccounted.add(s.name());
        }
        System.out.println(mapped + " of " + builtIn + " registry ops export to ONNX");
        assertEquals(Set.of(), unaccounted, "ops with neither an ONNX mapping nor a documented reason");
    }

    @Test
    void exportingAnOpOnTheListNamesTheOpAndTheReason() {
        Graph g = new Graph("train");
        Value x = g.addInput("x", TensorType.of(DType.F32, 2, 3));
        Builder b = Builder.atEnd(g.body());
        b.ret(b.op("mul", x, b.op("dropout_mask", Builder.attrs("p", 0.5), x)));
        OnnxExportException e = assertThrows(OnnxExportException.class, () -> OnnxExporter.export(g, Map.of(), ExportOptions.defaults()));
        assertTrue(e.getMessage().startsWith("cannot export graph 'train': op 'dropout_mask' (1 use; draws a random mask"), e.getMessage());
    }

    @Test
    void theDocumentedListHoldsOnlyRealUnmappedOps() {
        for (String op : OnnxOpTable.NOT_EXPORTED.keySet()) {
            assertFalse(OnnxOpTable.has(op), op + " is mapped, so it must leave the not-exported list");
            assertFalse(!OpRegistry.contains(op), op + " is not a registry op");
        }
    }
}
