package dev.kiln.frontend.nn;

import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModuleTest {

    static final class Net extends Module {
        final Conv2d conv = new Conv2d(1, 2, 3);
        final List<Module> heads = List.of(new Linear(8, 4), new Linear(4, 2, false));
        final Parameter scale = new Parameter(Tensor.ones(1));
        int notAModule = 3;

        @Override
        public Tensor forward(Tensor x) { return x; }
    }

    @Test
    void parametersAndSubmodulesAreFoundByFieldName() {
        Net net = new Net();
        assertEquals(List.of("scale", "conv.weight", "conv.bias", "heads.0.weight", "heads.0.bias", "heads.1.weight"),
                List.copyOf(net.namedParameters().keySet()));
        assertEquals(1 + 2 * 9 + 2 + 32 + 4 + 8, net.parameterCount());
    }

    @Test
    void trainAndEvalReachEverySubmodule() {
        Net net = new Net();
        net.eval();
        assertFalse(net.isTraining());
        assertTrue(net.namedChildren().values().stream().noneMatch(Module::isTraining));
        net.train();
        assertTrue(net.namedChildren().get("heads.1").isTraining());
    }

    @Test
    void defaultInitIsUniformWithinOneOverSqrtFanIn() {
        Generator.manualSeed(1);
        float[] w = new Linear(100, 50).weight().toFloatArray();
        double bound = 1 / Math.sqrt(100), mean = 0;
        for (float v : w) {
            assertTrue(Math.abs(v) <= bound, "weight " + v + " outside ±" + bound);
            mean += v;
        }
        assertEquals(0, mean / w.length, 0.01);
    }

    @Test
    void seedMakesInitRepeatable() {
        Generator.manualSeed(9);
        float[] a = new Linear(5, 5).weight().toFloatArray();
        Generator.manualSeed(9);
        assertArrayEquals(a, new Linear(5, 5).weight().toFloatArray());
    }

    @Test
    void summaryShowsTheTree() {
        assertEquals("""
                Sequential(
                  (0): Linear(in_features=3, out_features=4, bias=true)
                  (1): ReLU()
                )""", new Sequential(new Linear(3, 4), new ReLU()).toString());
    }
}
