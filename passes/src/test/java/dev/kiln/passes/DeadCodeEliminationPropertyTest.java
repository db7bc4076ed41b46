package dev.kiln.passes;

import dev.kiln.ir.Block;
import dev.kiln.ir.Graph;
import dev.kiln.ir.IrParser;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.Op;
import dev.kiln.ir.Trait;
import dev.kiln.ir.Value;
import dev.kiln.ir.Verifier;
import dev.kiln.ir.testing.RandomGraphs;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** DCE on random graphs: the result verifies, outputs survive, nothing dead is left, and it is idempotent. */
class DeadCodeEliminationPropertyTest {

    @Provide
    Arbitrary<Graph> graphs() { return RandomGraphs.graphs(); }

    @Property(tries = 300)
    void dceKeepsOutputsAndLeavesNoDeadOps(@ForAll("graphs") Graph g) {
        List<Value> outputs = new ArrayList<>(g.outputs());
        List<String> weights = new ArrayList<>(g.weights().keySet());
        int before = PassManager.countOps(g.body());

        boolean changed = new DeadCodeElimination().run(g);

        Verifier.verify(g);
        assertEquals(outputs.size(), g.outputs().size());
        for (int i = 0; i < outputs.size(); i++) assertSame(outputs.get(i), g.outputs().get(i), "output " + i);
        assertEquals(weights, new ArrayList<>(g.weights().keySet()), "weights are left alone");
        assertEquals(changed, PassManager.countOps(g.body()) < before, "run() reports a change exactly when ops went");
        assertNoDeadOps(g.body());
        assertFalse(new DeadCodeElimination().run(g), "a second run finds nothing");
        String text = IrPrinter.print(g);
        assertEquals(text, IrPrinter.print(IrParser.parse(text)));
    }

    /** Random graphs hold only pure ops besides control flow and terminators, so every other op must be used. */
    private static void assertNoDeadOps(Block block) {
        for (Op op : block.ops()) {
            if (!op.has(Trait.TERMINATOR)) {
                assertTrue(op.results().stream().anyMatch(Value::hasUses), () -> op.name() + " survived DCE unused");
            }
            for (Block region : op.regions()) assertNoDeadOps(region);
        }
    }
}
