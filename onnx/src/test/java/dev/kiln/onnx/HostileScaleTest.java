package dev.kiln.onnx;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Import of a 10^6-node chain, timed, with the heap it leaves in use. Slow (tens of seconds), so it runs only with
 * {@code -Dkiln.hostileScale=true} (see README, "Hostile model files").
 */
@EnabledIfSystemProperty(named = "kiln.hostileScale", matches = "true")
class HostileScaleTest {

    @Test
    void millionNodeChainImportsInLinearTime() {
        var model = HostileModels.chain(1_000_000, "Relu");
        for (int run = 0; run < 2; run++) {
            System.gc();
            long t0 = System.nanoTime();
            ImportedModel m = OnnxImporter.fromProto(model, Path.of("."));
            double s = (System.nanoTime() - t0) / 1e9;
            System.gc();
            long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
            System.out.printf("1e6-node Relu chain, run %d: imported in %.1f s; heap in use after import (model proto included): %d MiB%n",
                    run, s, heap >> 20);
            assertEquals(1_000_001, m.graph().body().ops().size());
            assertTrue(s < 60, "took " + s + " s");
        }
    }
}
