package dev.kiln.codegen;

import dev.kiln.ir.Graph;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;
import dev.kiln.ir.testing.RandomGraphs;
import dev.kiln.passes.GraphTesting;
import dev.kiln.runtime.Interpreter;
import dev.kiln.runtime.NDArray;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Compiled equals interpreted: on the random registry graphs (every dtype they produce, control flow included),
 * generated code gives the O0 interpreter's outputs within f32 tolerance (rtol 1e-4, atol 1e-5; integer and
 * boolean outputs exactly), at two sizes of the symbolic dim from one {@link CompiledModel}, and the generated
 * classes pass the JVM's verifier (they are defined with verification on).
 */
class CompiledPropertyTest {

    @Provide
    Arbitrary<List<Integer>> tapes() { return RandomGraphs.tapes(); }

    @Property(tries = 200)
    void compiledEqualsInterpreter(@ForAll("tapes") List<Integer> tape) {
        Graph g = RandomGraphs.fromTape(tape);
        Assume.that(g.inputs().stream().allMatch(v -> v.type() instanceof TensorType)
                && g.body().terminator().operands().stream().allMatch(v -> v.type() instanceof TensorType));
        Random random = new Random(tape.hashCode());
        Map<String, NDArray> weights = GraphTesting.randomWeights(g, 2, random);
        CompiledModel model = CompiledModel.compile(g, weights);
        for (long n : new long[] {2, 3}) {
            List<Object> inputs = GraphTesting.randomInputs(g, n, random);
            List<NDArray> arrays = inputs.stream().map(o -> (NDArray) o).toList();
            if (n != 2 && hasSymbolicWeights(g)) continue; // weights sized by N were made for N = 2
            long before = CodegenStats.generatedRuns();
            List<Object> compiled = new ArrayList<>(model.run(arrays));
            assertEquals(before + 1, CodegenStats.generatedRuns());
            GraphTesting.assertClose(Interpreter.run(g, inputs, weights), compiled);
        }
    }

    private static boolean hasSymbolicWeights(Graph g) {
        for (Value w : g.weights().values()) if (!w.tensorType().shape().isStatic()) return true;
        return false;
    }
}
