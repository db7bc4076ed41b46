package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.IrParser;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.testing.RandomGraphs;
import dev.kiln.runtime.Interpreter;
import dev.kiln.runtime.NDArray;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * Elementwise fusion preserves results on random graphs (if/loop included): interpreter outputs agree within
 * f32 rtol 1e-4 / atol 1e-5 (in fact they are identical: the region runs the same kernels); the graph verifies
 * after the pass, round-trips through the printer and parser, and a second run changes nothing.
 */
class FuseElementwisePropertyTest {

    @Provide
    Arbitrary<List<Integer>> tapes() { return RandomGraphs.tapes(); }

    @Property(tries = 200)
    void fusionPreservesResults(@ForAll("tapes") List<Integer> tape) {
        Graph original = RandomGraphs.fromTape(tape);
        Graph optimised = RandomGraphs.fromTape(tape);
        FuseElementwise pass = new FuseElementwise();
        new PassManager("fuse").add(pass).verifyEach(true).run(optimised);
        String text = IrPrinter.print(optimised);
        assertEquals(text, IrPrinter.print(IrParser.parse(text)));
        assertFalse(new FuseElementwise().run(optimised));

        Random random = new Random(tape.hashCode());
        long batch = 1 + random.nextInt(3);
        List<Object> inputs = GraphTesting.randomInputs(original, batch, random);
        Map<String, NDArray> weights = GraphTesting.randomWeights(original, batch, random);
        GraphTesting.assertClose(Interpreter.run(original, inputs, weights), Interpreter.run(optimised, inputs, weights));
    }
}
