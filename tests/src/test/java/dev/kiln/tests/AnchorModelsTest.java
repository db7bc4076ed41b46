package dev.kiln.tests;

import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.autograd.Autograd;
import dev.kiln.frontend.nn.Module;
import dev.kiln.ir.Graph;
import dev.kiln.onnx.ExportOptions;
import dev.kiln.onnx.proto.OnnxProtos.ModelProto;
import dev.kiln.runtime.NDArray;
import dev.kiln.samples.models.DenseNet;
import dev.kiln.samples.models.ResNet50;
import dev.kiln.samples.models.ShuffleNetV1;
import dev.kiln.samples.models.ShuffleNetV2;
import dev.kiln.samples.models.SqueezeNet;
import dev.kiln.samples.models.Vgg11;
import dev.kiln.tracer.Kiln;
import dev.kiln.tracer.TraceOptions;
import dev.kiln.tracer.TracedFunction;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The CNN anchor models of AnchorBenchmark beyond ResNet-18 (ResNet-50, ShuffleNet v1 and v2, SqueezeNet 1.1, VGG-11-BN,
 * DenseNet-121) at a small image size: traced in eval mode with a dynamic batch N, each runs as generated code with
 * results equal to eager and to the interpreter at batch 1 and 2 ({@link CompiledPathsTest#assertClose}), and its ONNX
 * export passes the checker and matches the interpreter in ONNX Runtime ({@link OnnxParity}). The image sizes keep every
 * stage at least 1×1; SqueezeNet's 36×36 makes two of its ceil_mode max pools keep a partial window. VGG-11 runs with a
 * 64-wide, 10-class head (the full 4096-wide one is 123M parameters of the same code).
 */
class AnchorModelsTest {

    @ParameterizedTest
    @ValueSource(strings = {"resnet50", "shufflenet_v1", "shufflenet_v2", "squeezenet", "vgg11", "densenet121"})
    void tracesCompilesAndExportsWithOutputsEqualToEager(String name) {
        Generator.manualSeed(21);
        Module model = switch (name) {
            case "resnet50" -> new ResNet50();
            case "shufflenet_v1" -> new ShuffleNetV1();
            case "shufflenet_v2" -> new ShuffleNetV2();
            case "squeezenet" -> new SqueezeNet();
            case "vgg11" -> new Vgg11(64, 10);
            case "densenet121" -> new DenseNet();
            default -> throw new IllegalArgumentException(name);
        };
        model.eval();
        SampleModelsOnnxTest.randomizeBatchNormStatistics(model);
        long size = name.equals("squeezenet") ? 36 : 32;
        TracedFunction traced = Kiln.trace(model, TraceOptions.defaults().named(name).dynamic(0, 0, "N"), Tensor.zeros(2, 3, size, size));

        List<List<NDArray>> inputSets = new ArrayList<>();
        for (long batch : new long[] {1, 2}) {
            Tensor x = Tensor.randn(new Generator(batch), batch, 3, size, size);
            inputSets.add(List.of(x.data()));
            float[] eager;
            try (var _ = Autograd.noGrad()) {
                eager = model.forward(x).toFloatArray();
            }
            float[] interpreted = traced.interpret(x).toFloatArray();
            float[][] compiled = new float[1][];
            CompiledPathsTest.assertGeneratedCodeRan(() -> compiled[0] = traced.call(x).toFloatArray());
            CompiledPathsTest.assertClose(name + " interpreted vs eager at batch " + batch, eager, interpreted);
            CompiledPathsTest.assertClose(name + " compiled vs eager at batch " + batch, eager, compiled[0]);
        }

        Graph g = traced.graph();
        Map<String, NDArray> weights = OnnxParity.weights(traced);
        ModelProto m = OnnxParity.exportChecked(g, weights, ExportOptions.defaults());
        OnnxParity.assertMatches(name, g, m, weights, inputSets);
    }
}
