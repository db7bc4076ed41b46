package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;
import dev.kiln.ir.testing.RandomGraphs;
import dev.kiln.runtime.Interpreter;
import dev.kiln.runtime.NDArray;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Arbitrary;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

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

        Random random = new Random(tape.hashCode());
        long batch = 1 + random.nextInt(3);
        List<Object> inputs = GraphTesting.randomInputs(original, batch, random);
        Map<String, NDArray> weights = GraphTesting.randomWeights(original, batch, random);

        List<Object> before = Interpreter.run(original, inputs, weights);
        List<Object> after = Interpreter.run(optimised, inputs, weights);
        assertEquals(before.size(), after.size());
        for (int i = 0; i < before.size(); i++) {
            if (before.get(i) instanceof NDArray a) {
                NDArray b = (NDArray) after.get(i);
                assertArrayEquals(a.shape(), b.shape(), "shape of output " + i);
                assertArrayEquals(a.toDoubleArray(), b.toDoubleArray(), "output " + i);
            } else {
                assertEquals(before.get(i), after.get(i), "scalar output " + i);
            }
        }
    }

}
