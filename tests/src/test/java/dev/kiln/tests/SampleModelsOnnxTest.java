package dev.kiln.tests;

import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.Module;
import dev.kiln.frontend.nn.TransformerEncoderLayer;
import dev.kiln.ir.Graph;
import dev.kiln.onnx.ExportOptions;
import dev.kiln.onnx.proto.OnnxProtos.ModelProto;
import dev.kiln.runtime.NDArray;
import dev.kiln.samples.models.LeNet;
import dev.kiln.samples.models.Mlp;
import dev.kiln.samples.models.ResNet18;
import dev.kiln.tracer.Kiln;
import dev.kiln.tracer.TraceOptions;
import dev.kiln.tracer.TracedFunction;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The sample models (MLP, LeNet-5, ResNet-18) and a TransformerEncoderLayer, traced with a dynamic
 * batch N in eval mode, export at the default opset and at 13 and 21, pass the official checker and
 * run in ONNX Runtime at two batch sizes with outputs equal to eager (rtol 1e-4, atol 1e-5) and to the
 * interpreter ({@link OnnxParity}).
 */
class SampleModelsOnnxTest {

    @ParameterizedTest(name = "{0} at opset {1}")
    @CsvSource({"mlp, 17", "lenet, 13", "lenet, 17", "lenet, 21", "resnet18, 17", "transformer, 13", "transformer, 17",
            "transformer, 21"})
    void exportMatchesEagerAtEveryBatch(String name, int opset) {
        Generator.manualSeed(7);
        Module model = switch (name) {
            case "mlp" -> new Mlp();
            case "lenet" -> new LeNet();
            case "resnet18" -> new ResNet18();
            default -> new TransformerEncoderLayer(32, 4, 64, 0.1, true, 1e-5, true, false);
        };
        model.eval();
        randomizeBatchNormStatistics(model);
        TracedFunction traced = Kiln.trace(model, TraceOptions.defaults().dynamic(0, 0, "N"), Tensor.zeros(shape(name, 2)));
        Graph g = traced.graph();
        Map<String, NDArray> weights = OnnxParity.weights(traced);
        ModelProto m = OnnxParity.exportChecked(g, weights, ExportOptions.defaults().withOpset(opset).toBuilder()
                .inputNames("images").outputNames("scores").build());
        for (int batch : new int[] {1, 3}) {
            Tensor x = Tensor.randn(new Generator(batch), shape(name, batch));
            float[] eager = model.forward(x).toFloatArray();
            OnnxParity.assertMatches(name + " at batch " + batch, g, m, weights, List.of(List.of(x.data())));
            float[] ort = OnnxParity.runFloats(m, x.data());
            assertEquals(eager.length, ort.length);
            double[] e = new double[eager.length], o = new double[ort.length];
            for (int i = 0; i < e.length; i++) { e[i] = eager[i]; o[i] = ort[i]; }
            OnnxParity.assertClose(name + " ONNX Runtime vs eager at batch " + batch, e, o);
        }
    }

    /**
     * Running statistics other than the fresh 0 and 1 (variance in [0.5, 1.5], mean in [-0.2, 0.2], seeded by
     * buffer name), so that eval-mode batch norm does real work in the comparisons.
     */
    static void randomizeBatchNormStatistics(Module model) {
        model.namedBuffers().forEach((k, b) -> {
            if (k.endsWith("running_var")) b.data().assign(Tensor.uniform(new Generator(k.hashCode()), 0.5, 1.5, b.shape()).data());
            if (k.endsWith("running_mean")) b.data().assign(Tensor.uniform(new Generator(k.hashCode()), -0.2, 0.2, b.shape()).data());
        });
    }

    /** The input shape of sample model {@code name} at {@code batch}. */
    static long[] shape(String name, long batch) {
        return switch (name) {
            case "mlp" -> new long[] {batch, 784};
            case "lenet" -> new long[] {batch, 1, 28, 28};
            case "resnet18" -> new long[] {batch, 3, 32, 32};
            default -> new long[] {batch, 7, 32};
        };
    }
}
