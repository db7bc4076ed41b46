package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.IrParser;
import dev.kiln.runtime.Interpreter;
import dev.kiln.runtime.NDArray;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Linear/conv + activation fusion preserves results within f32 rtol 1e-4 / atol 1e-5 on random instances of
 * each pattern (random shapes, activation, bias present or not, add operand order, conv geometry), and
 * always fires on them.
 */
class FuseLinearActivationPropertyTest {

    private static final String[] ACTS = {"relu", "sigmoid", "tanh", "gelu", "gelu {approximate = \"tanh\"}"};

    @Property(tries = 150)
    void fusionPreservesResults(@ForAll @IntRange(min = 0, max = 2) int pattern, @ForAll long seed) {
        Random r = new Random(seed);
        int n = 1 + r.nextInt(4), in = 1 + r.nextInt(6), out = 1 + r.nextInt(6);
        String act = ACTS[r.nextInt(ACTS.length)];
        String actName = act.split(" ")[0], actAttr = act.contains("{") ? " " + act.substring(act.indexOf('{')) : "";
        boolean bias = r.nextBoolean();
        String text = switch (pattern) {
            case 0 -> "graph @g(%x: f32[N, " + in + "]) weights(@w: f32[" + out + ", " + in + "], @b: f32[" + out + "]) {\n"
                    + "  %0 = linear(%x, @w" + (bias ? ", @b" : "") + ") : f32[N, " + out + "]\n"
                    + "  %1 = " + actName + "(%0)" + actAttr + " : f32[N, " + out + "]\n  return(%1)\n}\n";
            case 1 -> "graph @g(%x: f32[" + n + ", 2, " + in + "]) weights(@w: f32[" + in + ", " + out + "], @b: f32[" + out + "]) {\n"
                    + "  %0 = matmul(%x, @w) : f32[" + n + ", 2, " + out + "]\n"
                    + "  %1 = add(" + (bias ? "%0, @b" : "@b, %0") + ") : f32[" + n + ", 2, " + out + "]\n"
                    + "  %2 = " + actName + "(%1)" + actAttr + " : f32[" + n + ", 2, " + out + "]\n  return(%2)\n}\n";
            default -> {
                int c = 1 + r.nextInt(3), k = 1 + r.nextInt(3), s = 1 + r.nextInt(2), p = r.nextInt(k), hw = k + r.nextInt(5);
                long o = (hw + 2L * p - k) / s + 1;
                yield "graph @g(%x: f32[" + n + ", " + c + ", " + hw + ", " + hw + "]) weights(@w: f32[" + out + ", " + c + ", " + k + ", " + k
                        + "], @b: f32[" + out + "]) {\n"
                        + "  %0 = conv2d(%x, @w" + (bias ? ", @b" : "") + ") {stride = [" + s + ", " + s + "], padding = [" + p + ", " + p
                        + "]} : f32[" + n + ", " + out + ", " + o + ", " + o + "]\n"
                        + "  %1 = " + actName + "(%0)" + actAttr + " : f32[" + n + ", " + out + ", " + o + ", " + o + "]\n  return(%1)\n}\n";
            }
        };
        Graph original = IrParser.parse(text);
        Graph optimised = IrParser.parse(text);
        assertTrue(new PassManager("fuse").add(new FuseLinearActivation()).verifyEach(true).run(optimised).get(0).changed(), text);
        List<Object> inputs = GraphTesting.randomInputs(original, n, r);
        Map<String, NDArray> weights = GraphTesting.randomWeights(original, n, r);
        GraphTesting.assertClose(Interpreter.run(original, inputs, weights), Interpreter.run(optimised, inputs, weights));
    }
}
