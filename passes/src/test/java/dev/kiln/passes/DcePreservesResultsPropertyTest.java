package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.testing.RandomGraphs;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Arbitrary;

import java.util.List;

/**
 * Dead-code elimination changes no result: the interpreter gives bit-identical outputs on the graph
 * before and after the pass, on random graphs (if/loop included) with random inputs and weights.
 */
class DcePreservesResultsPropertyTest {

    @Provide
    Arbitrary<List<Integer>> tapes() { return RandomGraphs.tapes(); }

    @Property(tries = 200)
    void interpreterOutputsAreUnchanged(@ForAll("tapes") List<Integer> tape) {
        Graph original = RandomGraphs.fromTape(tape);
        Graph optimised = RandomGraphs.fromTape(tape);
        new PassManager("dce-only").add(new DeadCodeElimination()).verifyEach(true).run(optimised);

        GraphTesting.assertSameResults(tape.hashCode(), original, optimised, true);
    }

}
