package dev.kiln.passes;

import dev.kiln.ir.Builder;
import dev.kiln.ir.Graph;
import dev.kiln.ir.IrParser;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.VerificationException;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PassManagerTest {

    private static final String TEXT = """
            graph @g(%x: f32[2, 3]) {
              %a = relu(%x) : f32[2, 3]
              %dead = neg(%a) : f32[2, 3]
              return(%a)
            }
            """;

    @Test
    void o0RunsNothingAndO1RunsDce() {
        Graph g = IrParser.parse(TEXT);
        assertTrue(PassManager.pipeline("O0").run(g).isEmpty());
        assertEquals(TEXT, IrPrinter.print(g));

        // O1 = canonicalize, constant-fold, dedupe-constants, cse, dce, repeated until a round changes nothing
        List<PassSummary> summary = PassManager.pipeline("O1").verifyEach(true).run(g);
        assertEquals(List.of("canonicalize", "constant-fold", "dedupe-constants", "cse", "dce",
                "canonicalize", "constant-fold", "dedupe-constants", "cse", "dce"),
                summary.stream().map(PassSummary::pass).toList());
        assertTrue(summary.stream().filter(PassSummary::changed).map(PassSummary::pass).toList().equals(List.of("dce")));
        PassSummary dce = summary.get(4);
        assertEquals("dce", dce.pass());
        assertTrue(dce.changed());
        assertEquals(3, dce.opsBefore());
        assertEquals(2, dce.opsAfter());
        assertFalse(dce.time().isNegative());
        assertTrue(dce.toString().contains("ops 3 -> 2"), dce.toString());
    }

    @Test
    void unknownPipelineListsTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PassManager.pipeline("O9"));
        assertEquals("unknown pipeline 'O9'; known: [O0, O1, O2]", e.getMessage());
    }

    @Test
    void dumpsParseableIrAfterEachPass() {
        List<String> dumps = new ArrayList<>();
        new PassManager("custom").add(new DeadCodeElimination()).add(new DeadCodeElimination())
                .dumpEach(dumps::add).run(IrParser.parse(TEXT));
        assertEquals(2, dumps.size());
        assertTrue(dumps.get(0).startsWith("// after dce\ngraph @g"), dumps.get(0));
        assertTrue(dumps.get(1).startsWith("// after dce (unchanged)\n"), dumps.get(1));
        assertFalse(dumps.get(0).contains("neg"));
        assertEquals(dumps.get(0).substring(dumps.get(0).indexOf('\n') + 1), IrPrinter.print(IrParser.parse(dumps.get(0))));
    }

    @Test
    void verifyEachNamesThePassThatBrokeTheGraph() {
        Pass breaker = new Pass() {
            public String name() { return "breaker"; }

            public boolean run(Graph graph) {
                graph.body().erase(graph.returnOp());
                return true;
            }
        };
        PassManager pm = new PassManager("custom").add(new DeadCodeElimination()).add(breaker).verifyEach(true);
        VerificationException e = assertThrows(VerificationException.class, () -> pm.run(IrParser.parse(TEXT)));
        assertTrue(e.getMessage().startsWith("the graph after pass 'breaker' in pipeline custom is invalid: graph @g: "
                + "the graph body does not end in return"), e.getMessage());
    }

    @Test
    void verifyEachRejectsAnInvalidInput() {
        Graph g = IrParser.parse(TEXT);
        Builder.before(g.returnOp()).ret(g.inputs().get(0));
        VerificationException e = assertThrows(VerificationException.class,
                () -> PassManager.pipeline("O1").verifyEach(true).run(g));
        assertTrue(e.getMessage().startsWith("the input to pipeline O1 is invalid: "), e.getMessage());
    }
}
