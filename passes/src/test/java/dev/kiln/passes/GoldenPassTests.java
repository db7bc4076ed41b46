package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.IrParser;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.Verifier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** Golden-test helper: IR text in, one pass, verified IR text out; the pass reports the change and is idempotent. */
final class GoldenPassTests {

    private GoldenPassTests() {}

    static void golden(Pass pass, String in, String expected) {
        Graph g = IrParser.parse(in);
        boolean changed = pass.run(g);
        Verifier.verify(g);
        assertEquals(expected, IrPrinter.print(g));
        assertEquals(!IrPrinter.print(IrParser.parse(in)).equals(expected), changed, "run() must report whether it changed the graph");
        assertFalse(pass.run(g), "a second run must find nothing to do");
        assertEquals(expected, IrPrinter.print(g));
    }

    /** The pass leaves {@code text} exactly as it is and reports no change. */
    static void unchanged(Pass pass, String text) { golden(pass, text, text); }
}
