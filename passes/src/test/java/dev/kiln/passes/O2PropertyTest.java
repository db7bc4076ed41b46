package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.IrParser;
import dev.kiln.ir.testing.RandomGraphs;
import dev.kiln.runtime.Interpreter;
import dev.kiln.runtime.NDArray;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * O2 keeps meaning: on random graphs with random inputs and weights, the O2 graph run with O2's
 * weights gives the O0 result within f32 tolerance (rtol 1e-4, atol 1e-5: folding reassociates
 * arithmetic). The memory plan of every result checks.
 */
class O2PropertyTest {

    @Provide
    Arbitrary<List<Integer>> tapes() { return RandomGraphs.tapes(); }

    @Property(tries = 150)
    void o2EqualsO0(@ForAll("tapes") List<Integer> tape) {
        Graph original = RandomGraphs.fromTape(tape);
        Graph optimised = RandomGraphs.fromTape(tape);
        Random random = new Random(tape.hashCode());
        long n = 1 + random.nextInt(3);
        List<Object> inputs = GraphTesting.randomInputs(original, n, random);
        Map<String, NDArray> weights = GraphTesting.randomWeights(original, n, random);
        Optimize.Result r = Optimize.o2(optimised, weights, Map.of("N", n), true);
        GraphTesting.assertClose(Interpreter.run(original, inputs, weights), Interpreter.run(r.graph(), inputs, r.weights()));
        if (r.plan() != null) MemoryPlanChecker.check(r.graph(), Map.of("N", n), r.plan());
    }

    @Test
    void explainShowsFoldsFusionsAndMemory() {
        Graph g = IrParser.parse("""
                graph @block(%x: f32[2, 3, 8, 8]) weights(@w: f32[4, 3, 3, 3], @mean: f32[4], @var: f32[4], @gamma: f32[4], @beta: f32[4]) {
                  %0 = conv2d(%x, @w) {padding = [1, 1]} : f32[2, 4, 8, 8]
                  %1 = batch_norm(%0, @mean, @var, @gamma, @beta) : f32[2, 4, 8, 8]
                  %2 = relu(%1) : f32[2, 4, 8, 8]
                  %3 = mul(%2, %2) : f32[2, 4, 8, 8]
                  %4 = sigmoid(%3) : f32[2, 4, 8, 8]
                  %5 = add(%4, %2) : f32[2, 4, 8, 8]
                  return(%5)
                }
                """);
        Random random = new Random(1);
        Map<String, NDArray> weights = GraphTesting.randomWeights(g, 1, random);
        weights.put("var", NDArray.full(dev.kiln.ir.DType.F32, 0.5, 4));
        Optimize.Result r = Optimize.o2(g, weights, Map.of(), true);
        String report = r.explain();
        assertTrue(report.contains("fold-conv-bn"), report);
        assertTrue(r.graph().body().ops().stream().anyMatch(op -> op.name().equals("conv2d_act")), report);
        assertTrue(report.contains("fused_elementwise[mul, sigmoid, add]"), report);
        assertTrue(report.contains("memory: planned peak"), report);
        assertTrue(r.opsAfter() < r.opsBefore(), report);
    }
}
