package dev.kiln.tests;

import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.Module;
import dev.kiln.frontend.nn.TransformerEncoderLayer;
import dev.kiln.passes.Optimize;
import dev.kiln.runtime.Interpreter;
import dev.kiln.runtime.NDArray;
import dev.kiln.samples.models.LeNet;
import dev.kiln.samples.models.ResNet18;
import dev.kiln.tracer.Kiln;
import dev.kiln.tracer.TraceOptions;
import dev.kiln.tracer.TracedFunction;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Map;

import static dev.kiln.tests.ParityTest.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** O2 on real models (BatchNorm folded into convolutions, activations fused) keeps eager's outputs. */
class OptimizedModelsTest {

    @ParameterizedTest
    @ValueSource(strings = {"resnet18", "transformer", "lenet"})
    void o2KeepsOutputs(String name) {
        Generator.manualSeed(3);
        Module model = switch (name) {
            case "resnet18" -> new ResNet18();
            case "transformer" -> new TransformerEncoderLayer(32, 4, 64, 0.1, true, 1e-5, true, false);
            default -> new LeNet();
        };
        long[] shape = switch (name) {
            case "resnet18" -> new long[] {2, 3, 64, 64};
            case "transformer" -> new long[] {2, 12, 32};
            default -> new long[] {2, 1, 28, 28};
        };
        model.eval();
        Tensor x = Tensor.randn(new Generator(4), shape);
        // Non-trivial running statistics, so that folding BatchNorm changes the weights.
        model.namedBuffers().forEach((k, b) -> {
            if (k.endsWith("running_var")) b.data().assign(Tensor.uniform(new Generator(k.hashCode()), 0.5, 1.5, b.shape()).data());
            if (k.endsWith("running_mean")) b.data().assign(Tensor.uniform(new Generator(k.hashCode()), -0.2, 0.2, b.shape()).data());
        });
        TracedFunction traced = Kiln.trace(model, TraceOptions.defaults().dynamic(0, 0, "N"), x);
        Optimize.Result r = traced.optimize(Map.of("N", 2L));
        assertTrue(r.opsAfter() < r.opsBefore(), r.explain());
        List<NDArray> out = Interpreter.runTensors(r.graph(), List.of(x.data()), r.weights());
        assertAllClose(model.forward(x).toFloatArray(), out.get(0).toFloatArray(), 1e-4, 1e-4, name + " O2 vs eager");
    }
}
