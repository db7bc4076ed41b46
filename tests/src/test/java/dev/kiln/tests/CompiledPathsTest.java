package dev.kiln.tests;

import dev.kiln.codegen.CodegenStats;
import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.autograd.Autograd;
import dev.kiln.frontend.nn.Module;
import dev.kiln.frontend.nn.TransformerEncoderLayer;
import dev.kiln.onnx.ExportOptions;
import dev.kiln.onnx.ImportedModel;
import dev.kiln.onnx.OnnxExporter;
import dev.kiln.onnx.OnnxImporter;
import dev.kiln.runtime.Interpreter;
import dev.kiln.runtime.NDArray;
import dev.kiln.samples.models.LeNet;
import dev.kiln.samples.models.Mlp;
import dev.kiln.samples.models.ResNet18;
import dev.kiln.tracer.CompileOptions;
import dev.kiln.tracer.Compiled;
import dev.kiln.tracer.Kiln;
import dev.kiln.tracer.TraceOptions;
import dev.kiln.tracer.TracedFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every user path runs generated code by default, and the interpreter only when asked (O0): for each path the
 * generated-run and interpreter-run counters are compared around one call. Eager, interpreted and compiled results
 * of the sample models agree (rtol 1e-4, atol 1e-4 scaled by the output's magnitude).
 */
class CompiledPathsTest {

    static void assertGeneratedCodeRan(Runnable call) {
        long generated = CodegenStats.generatedRuns(), interpreted = Interpreter.runs();
        call.run();
        assertEquals(generated + 1, CodegenStats.generatedRuns(), "runs of generated code");
        assertEquals(interpreted, Interpreter.runs(), "interpreter runs");
    }

    private static void assertInterpreterRan(Runnable call) {
        long generated = CodegenStats.generatedRuns(), interpreted = Interpreter.runs();
        call.run();
        assertEquals(generated, CodegenStats.generatedRuns(), "runs of generated code");
        assertEquals(interpreted + 1, Interpreter.runs(), "interpreter runs");
    }

    @Test
    void tracedFunctionsRunGeneratedCodeAndInterpretOnRequest() {
        Generator.manualSeed(3);
        LeNet model = new LeNet();
        model.eval();
        TracedFunction traced = Kiln.trace(model, TraceOptions.defaults().dynamic(0, 0, "N"), Tensor.zeros(2, 1, 28, 28));
        Tensor x = Tensor.randn(new Generator(1), 3, 1, 28, 28);
        assertGeneratedCodeRan(() -> traced.call(x));
        assertInterpreterRan(() -> traced.interpret(x));
        String explain = traced.compiled().explain();
        assertTrue(explain.contains("generated code for {N=3}"), explain);
    }

    @Test
    void compiledMethodsRunGeneratedCode() {
        Compiled f = Kiln.compile((Tensor t) -> t.relu().mul(2.0), CompileOptions.defaults());
        Tensor x = Tensor.randn(new Generator(2), 4, 5);
        f.call(x); // first call captures
        assertGeneratedCodeRan(() -> f.call(x));
        assertClose("compiled lambda", x.relu().mul(2.0).toFloatArray(), f.call(x).toFloatArray());
    }

    @Test
    void importedModelsRunGeneratedCodeAndInterpretOnRequest() {
        Generator.manualSeed(4);
        Mlp model = new Mlp();
        model.eval();
        TracedFunction traced = Kiln.trace(model, TraceOptions.defaults().dynamic(0, 0, "N"), Tensor.zeros(2, 784));
        ImportedModel imported = OnnxImporter.fromProto(OnnxExporter.export(traced.graph(), traced.weightBuffers(), ExportOptions.defaults()), null);
        List<NDArray> x = List.of(Tensor.randn(new Generator(5), 2, 784).data());
        assertGeneratedCodeRan(() -> imported.run(x));
        assertInterpreterRan(() -> imported.interpret(x));
        assertClose("imported MLP", imported.interpret(x).get(0).toFloatArray(), imported.run(x).get(0).toFloatArray());
    }

    @ParameterizedTest
    @ValueSource(strings = {"mlp", "lenet", "resnet18", "transformer"})
    void eagerInterpretedAndCompiledAgree(String name) {
        Generator.manualSeed(11);
        Supplier<Module> factory = switch (name) {
            case "mlp" -> Mlp::new;
            case "lenet" -> LeNet::new;
            case "resnet18" -> ResNet18::new;
            default -> () -> new TransformerEncoderLayer(32, 4, 64, 0.1, true, 1e-5, true, false);
        };
        Module model = factory.get();
        model.eval();
        TracedFunction traced = Kiln.trace(model, TraceOptions.defaults().dynamic(0, 0, "N"), Tensor.zeros(SampleModelsOnnxTest.shape(name, 2)));
        for (long batch : new long[] {1, 3}) {
            Tensor x = Tensor.randn(new Generator(batch), SampleModelsOnnxTest.shape(name, batch));
            float[] eager;
            try (var _ = Autograd.noGrad()) {
                eager = model.forward(x).toFloatArray();
            }
            float[] interpreted = traced.interpret(x).toFloatArray();
            float[] compiled = traced.call(x).toFloatArray();
            assertClose(name + " interpreted vs eager at batch " + batch, eager, interpreted);
            assertClose(name + " compiled vs eager at batch " + batch, eager, compiled);
        }
    }


    /** Equal within rtol 1e-4 of each element plus atol 1e-4 scaled by the largest |want| (at least 1). */
    static void assertClose(String what, float[] want, float[] got) {
        assertEquals(want.length, got.length, what);
        double scale = 0;
        for (float v : want) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < want.length; i++) {
            double tol = 1e-4 * Math.abs(want[i]) + 1e-4 * Math.max(1, scale);
            int k = i;
            assertTrue(Math.abs(want[i] - got[i]) <= tol, () -> what + ": element " + k + " " + want[k] + " vs " + got[k]);
        }
    }
}
