package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.IrParser;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.testing.RandomGraphs;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;

import java.util.List;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each new pass, and the O1 pipeline, changes no result: on random graphs (if/loop included) with
 * random inputs and weights the interpreter gives the same outputs before and after, the verifier
 * accepts the graph after every pass, a second run changes nothing, and the text round-trips.
 * Outputs are compared bit for bit, except after canonicalization, where {@code x + 0 -> x} may turn
 * a {@code +0.0} into the {@code -0.0} that x held, so zeros compare equal regardless of sign there.
 */
class OptimisedEqualsUnoptimisedPropertyTest {

    @Provide
    Arbitrary<List<Integer>> tapes() { return RandomGraphs.tapes(); }

    @Property(tries = 200)
    void canonicalize(@ForAll("tapes") List<Integer> tape) { check(tape, Canonicalize::new, false); }

    @Property(tries = 200)
    void constantFolding(@ForAll("tapes") List<Integer> tape) { check(tape, ConstantFolding::new, true); }

    @Property(tries = 200)
    void constantDeduplication(@ForAll("tapes") List<Integer> tape) { check(tape, ConstantDeduplication::new, true); }

    @Property(tries = 200)
    void cse(@ForAll("tapes") List<Integer> tape) { check(tape, CommonSubexpressionElimination::new, true); }

    @Property(tries = 200)
    void typeInferenceIsANoOpOnConsistentGraphs(@ForAll("tapes") List<Integer> tape) {
        Graph g = RandomGraphs.fromTape(tape);
        String before = IrPrinter.print(g);
        assertFalse(new TypeInferencePass().run(g));
        assertEquals(before, IrPrinter.print(g));
    }

    @Property(tries = 200)
    void o1Pipeline(@ForAll("tapes") List<Integer> tape) {
        Graph original = RandomGraphs.fromTape(tape);
        Graph optimised = RandomGraphs.fromTape(tape);
        PassManager.pipeline("O1").verifyEach(true).run(optimised);
        assertTrue(PassManager.countOps(optimised.body()) <= PassManager.countOps(original.body()));
        for (Pass p : PassManager.o1Passes()) assertFalse(p.run(optimised), p.name() + " finds more after O1's fixed point");
        GraphTesting.assertSameResults(tape.hashCode(), original, optimised, false);
    }

    private static void check(List<Integer> tape, Supplier<Pass> pass, boolean bitExact) {
        Graph original = RandomGraphs.fromTape(tape);
        Graph optimised = RandomGraphs.fromTape(tape);
        boolean changed = new PassManager("one").add(pass.get()).verifyEach(true).run(optimised).get(0).changed();
        Statistics.collect(changed ? "changed" : "unchanged");
        assertFalse(pass.get().run(optimised), "a second run finds nothing");
        String text = IrPrinter.print(optimised);
        assertEquals(text, IrPrinter.print(IrParser.parse(text)));
        GraphTesting.assertSameResults(tape.hashCode(), original, optimised, bitExact);
    }
}
