package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.IrParser;
import dev.kiln.runtime.Interpreter;
import dev.kiln.runtime.NDArray;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Folding preserves results within f32 rtol 1e-4 / atol 1e-5: random conv2d (shapes, stride, padding, groups,
 * bias or not) or 2-D linear, followed by batch_norm with random statistics (positive variance), gamma/beta
 * present or not. The folded graph runs with the pass's {@code weights()}; the pass always fires.
 */
class FoldConvBatchNormPropertyTest {

    @Property(tries = 150)
    void foldingPreservesResults(@ForAll boolean conv, @ForAll long seed) {
        Random r = new Random(seed);
        int n = 1 + r.nextInt(3), out = (1 + r.nextInt(3)) * 2, opt = r.nextInt(3);
        boolean bias = r.nextBoolean();
        String bnArgs = "@mean, @var" + (opt >= 1 ? ", @gamma" : "") + (opt == 2 ? ", @beta" : "");
        String stats = "@mean: f32[" + out + "], @var: f32[" + out + "], @gamma: f32[" + out + "], @beta: f32[" + out + "]";
        String text;
        if (conv) {
            int groups = r.nextBoolean() ? 2 : 1, c = groups * (1 + r.nextInt(2)), k = 1 + r.nextInt(3), s = 1 + r.nextInt(2);
            int p = r.nextInt(k), hw = k + r.nextInt(4);
            long o = (hw + 2L * p - k) / s + 1;
            String ty = "f32[" + n + ", " + out + ", " + o + ", " + o + "]";
            text = "graph @g(%x: f32[" + n + ", " + c + ", " + hw + ", " + hw + "]) weights(@w: f32[" + out + ", " + (c / groups) + ", " + k
                    + ", " + k + "], @b: f32[" + out + "], " + stats + ") {\n"
                    + "  %0 = conv2d(%x, @w" + (bias ? ", @b" : "") + ") {stride = [" + s + ", " + s + "], padding = [" + p + ", " + p
                    + "], groups = " + groups + "} : " + ty + "\n"
                    + "  %1 = batch_norm(%0, " + bnArgs + ") : " + ty + "\n  return(%1)\n}\n";
        } else {
            int in = 1 + r.nextInt(5);
            text = "graph @g(%x: f32[N, " + in + "]) weights(@w: f32[" + out + ", " + in + "], @b: f32[" + out + "], " + stats + ") {\n"
                    + "  %0 = linear(%x, @w" + (bias ? ", @b" : "") + ") : f32[N, " + out + "]\n"
                    + "  %1 = batch_norm(%0, " + bnArgs + ") {eps = 0.001} : f32[N, " + out + "]\n  return(%1)\n}\n";
        }
        Graph original = IrParser.parse(text);
        Graph folded = IrParser.parse(text);
        List<Object> inputs = GraphTesting.randomInputs(original, n, r);
        Map<String, NDArray> weights = new java.util.LinkedHashMap<>(GraphTesting.randomWeights(original, n, r));
        NDArray var = weights.get("var");
        for (long i = 0; i < var.numel(); i++) var.setFlat(i, 0.1 + Math.abs(var.getFlat(i)));

        FoldConvBatchNorm pass = new FoldConvBatchNorm(weights);
        assertTrue(new PassManager("fold").add(pass).verifyEach(true).run(folded).get(0).changed(), text);
        assertEquals(2, folded.body().ops().size(), "one conv/linear and the return are left");
        GraphTesting.assertClose(Interpreter.run(original, inputs, weights), Interpreter.run(folded, inputs, pass.weights()));
    }
}
