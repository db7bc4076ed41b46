package dev.kiln.tests;

import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.Module;
import dev.kiln.onnx.ExportOptions;
import dev.kiln.onnx.OnnxChecker;
import dev.kiln.onnx.OnnxExporter;
import dev.kiln.samples.OrtReference;
import dev.kiln.samples.models.LeNet;
import dev.kiln.samples.models.Mlp;
import dev.kiln.tracer.Kiln;
import dev.kiln.tracer.TraceOptions;
import dev.kiln.tracer.TracedFunction;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One semantics, three executions: for the MLP and LeNet-5 with seeded random weights, eager output
 * equals the interpreter's on the traced graph (within 1e-6), and ONNX Runtime on the exported file
 * equals eager (rtol 1e-4, atol 1e-5). Exports pass the official ONNX checker with full check.
 */
class ParityTest {

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} at batch {1}")
    @CsvSource({"mlp, 1", "mlp, 32", "lenet, 1", "lenet, 32"})
    void eagerInterpreterAndOnnxRuntimeAgree(String modelName, int batch) throws Exception {
        Generator.manualSeed(1234);
        Module model = models(modelName).get();
        model.eval();
        Tensor x = Tensor.randn(new Generator(batch), inputShape(modelName, batch));
        Tensor eager = model.forward(x);

        TracedFunction traced = Kiln.trace(model, x);
        assertAllClose(eager.toFloatArray(), traced.call(x).toFloatArray(), 0, 1e-6, "interpreter vs eager");

        Path file = dir.resolve(modelName + "-" + batch + ".onnx");
        OnnxExporter.save(OnnxExporter.export(traced.graph(), traced.weightBuffers(), ExportOptions.defaults()), file);
        OnnxChecker.check(file);
        try (OrtReference ort = new OrtReference(file)) {
            assertAllClose(eager.toFloatArray(), ort.run(x).get(0), 1e-4, 1e-5, "ONNX Runtime vs eager");
        }
    }

    @ParameterizedTest(name = "{0} with a dynamic batch")
    @CsvSource({"mlp", "lenet"})
    void dynamicBatchExportRunsAtEveryBatchSize(String modelName) throws Exception {
        Generator.manualSeed(99);
        Module model = models(modelName).get();
        TracedFunction traced = Kiln.trace(model, TraceOptions.defaults().dynamic(0, 0, "N"),
                Tensor.zeros(inputShape(modelName, 2)));
        Path file = dir.resolve(modelName + "-dynamic.onnx");
        OnnxExporter.save(OnnxExporter.export(traced.graph(), traced.weightBuffers(), ExportOptions.defaults()), file);
        OnnxChecker.check(file);
        try (OrtReference ort = new OrtReference(file)) {
            for (int batch : new int[] {1, 7, 64}) {
                Tensor x = Tensor.randn(new Generator(batch), inputShape(modelName, batch));
                float[] eager = model.forward(x).toFloatArray();
                assertAllClose(eager, traced.call(x).toFloatArray(), 0, 1e-6, "interpreter at batch " + batch);
                assertAllClose(eager, ort.run(x).get(0), 1e-4, 1e-5, "ONNX Runtime at batch " + batch);
            }
        }
    }

    private static Supplier<Module> models(String name) {
        return switch (name) {
            case "mlp" -> Mlp::new;
            case "lenet" -> LeNet::new;
            default -> throw new IllegalArgumentException(name);
        };
    }

    private static long[] inputShape(String model, int batch) {
        return model.equals("mlp") ? new long[] {batch, 784} : new long[] {batch, 1, 28, 28};
    }

    /** |actual - expected| <= atol + rtol * |expected| for every element, as numpy.allclose. */
    static void assertAllClose(float[] expected, float[] actual, double rtol, double atol, String what) {
        assertTrue(expected.length == actual.length, what + ": " + actual.length + " values, expected " + expected.length);
        for (int i = 0; i < expected.length; i++) {
            double diff = Math.abs((double) actual[i] - expected[i]);
            int at = i;
            assertTrue(diff <= atol + rtol * Math.abs(expected[i]),
                    () -> what + ": element " + at + " is " + actual[at] + ", expected " + expected[at] + " (|diff| " + diff + ")");
        }
    }
}
