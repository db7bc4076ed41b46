package dev.kiln.tests;

import dev.kiln.frontend.Compile;
import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.Linear;
import dev.kiln.frontend.nn.Module;
import dev.kiln.ir.DType;
import dev.kiln.ir.Dim;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.TensorType;
import dev.kiln.onnx.ExportOptions;
import dev.kiln.onnx.OnnxChecker;
import dev.kiln.onnx.OnnxExporter;
import dev.kiln.samples.OrtReference;
import dev.kiln.tracer.capture.Capture;
import dev.kiln.tracer.capture.CompiledFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static dev.kiln.tests.ParityTest.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Captured control flow exports to ONNX If and Loop and runs in ONNX Runtime as eager does. */
class CapturedOnnxTest {

    @TempDir
    Path dir;

    static final class Gate extends Module {
        final Linear fc = new Linear(4, 4);

        @Compile
        public Tensor forward(Tensor x) {
            Tensor h = fc.forward(x);
            if (h.mean().item() > 0) return h.relu().mul(2.0);   // early return in a data-dependent branch
            return h.neg().sigmoid();
        }
    }

    static final class Halve extends Module {
        @Compile
        public Tensor forward(Tensor x) {
            Tensor y = x;
            while (y.abs().sum().item() > 1.0) y = y.div(2.0);     // data-dependent trip count
            return y;
        }
    }

    @Test
    void dataDependentIfBecomesOnnxIf() throws Exception {
        Generator.manualSeed(1);
        Gate model = new Gate();
        CompiledFunction f = Capture.compile(model, TensorType.of(DType.F32, Dim.sym("N"), Dim.of(4)));
        assertTrue(IrPrinter.print(f.graph()).contains(" = if("), IrPrinter.print(f.graph()));
        Path file = export(f, "gate.onnx");
        try (OrtReference ort = new OrtReference(file)) {
            int positive = 0;
            for (long n : new long[] {1, 7, 64}) {
                for (int seed = 0; seed < 6; seed++) {
                    Tensor x = Tensor.randn(new Generator(seed * 100 + n), n, 4).mul(seed % 2 == 0 ? 1.0 : -3.0);
                    float[] eager = model.forward(x).toFloatArray();
                    positive += model.fc.forward(x).mean().item() > 0 ? 1 : 0;
                    assertAllClose(eager, f.call(x).toFloatArray(), 0, 1e-6, "interpreter, batch " + n);
                    assertAllClose(eager, ort.run(x).get(0), 1e-4, 1e-5, "ONNX Runtime, batch " + n);
                }
            }
            assertTrue(positive > 0 && positive < 18, "both arms must be exercised, positive means: " + positive);
        }
    }

    @Test
    void dataDependentWhileBecomesOnnxLoop() throws Exception {
        Halve model = new Halve();
        CompiledFunction f = Capture.compile(model, TensorType.of(DType.F32, 3));
        assertTrue(IrPrinter.print(f.graph()).contains(" = loop("), IrPrinter.print(f.graph()));
        Path file = export(f, "halve.onnx");
        try (OrtReference ort = new OrtReference(file)) {
            for (double scale : new double[] {0.1, 1, 10, 1000}) {
                Tensor x = Tensor.randn(new Generator((long) scale), 3).mul(scale);
                float[] eager = model.forward(x).toFloatArray();
                assertAllClose(eager, f.call(x).toFloatArray(), 0, 0, "interpreter, scale " + scale);
                assertAllClose(eager, ort.run(x).get(0), 1e-6, 0, "ONNX Runtime, scale " + scale);
            }
        }
    }

    private Path export(CompiledFunction f, String name) {
        Path file = dir.resolve(name);
        OnnxExporter.save(OnnxExporter.export(f.graph(), f.weightBuffers(), ExportOptions.defaults()), file);
        OnnxChecker.check(file);
        return file;
    }
}
