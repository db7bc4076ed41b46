package dev.kiln.tests;

import dev.kiln.frontend.Compile;
import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.Module;
import dev.kiln.ir.DType;
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
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static dev.kiln.tests.ParityTest.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Captured host-scalar code (counted loops on data, Java conversions) exports to ONNX and runs as eager does. */
class CapturedScalarOnnxTest {

    @TempDir
    Path dir;

    static final TensorType X = TensorType.of(DType.F32, 2, 4);

    static final class Counted extends Module {
        @Compile
        public Tensor forward(Tensor x) {
            int n = (int) x.sum().item();                     // d2i: a host int
            Tensor y = x;
            for (int i = 0; i < n; i++) y = y.mul(2.0);        // data-dependent trip count, host int counter
            return y.add((double) n);
        }
    }

    static final class Conversions extends Module {
        @Compile
        public Tensor[] outputs(Tensor x) {
            double s = x.sum().item();
            int a = (int) (s * 1e9);        // saturates beyond the int range
            long b = (long) (s * 1e19);     // saturates beyond the long range
            int w = a * 7;                  // wraps
            double z = s - s;
            int nan = (int) (z / z) + (int) (long) (z / z);   // NaN converts to 0
            int k = s > 1 ? 2 : 3;          // merged from the two arms
            return new Tensor[] {x.add((double) a * 1e-9), x.add((double) b * 1e-19), x.add((double) w * 1e-9),
                    x.add((double) nan), x.mul(k)};
        }
    }

    static Tensor input(long seed, double sum) { return Tensor.randn(new Generator(seed), 2, 4).mul(0.01).add(sum / 8); }

    @Test
    void dataDependentCountedLoopBecomesOnnxLoop() throws Exception {
        Counted model = new Counted();
        CompiledFunction f = Capture.compile(model, X);
        String ir = IrPrinter.print(f.graph());
        assertTrue(ir.contains(" = loop(") && ir.contains("scalar_lt"), ir);
        Path file = export(f, "counted.onnx");
        Set<Integer> trips = new HashSet<>();
        try (OrtReference ort = new OrtReference(file)) {
            for (double sum : new double[] {-2, 0.5, 1.2, 2.5, 3.5, 5.2}) {
                Tensor x = input(3, sum);
                trips.add(Math.max(0, (int) x.sum().item()));
                float[] eager = model.forward(x).toFloatArray();
                assertAllClose(eager, f.call(x).toFloatArray(), 0, 0, "interpreter, sum " + sum);
                assertAllClose(eager, ort.run(x).get(0), 1e-6, 0, "ONNX Runtime, sum " + sum);
            }
        }
        assertTrue(trips.size() >= 5, "trip counts: " + trips);
    }

    @Test
    void javaConversionsMatchInOnnxRuntime() throws Exception {
        Conversions model = new Conversions();
        CompiledFunction f = Capture.compile(model, "outputs", X);
        Path file = export(f, "conversions.onnx");
        try (OrtReference ort = new OrtReference(file)) {
            for (double sum : new double[] {-50, -3, -0.95, 0.3, 0.9, 1.5, 3, 50}) {
                Tensor x = input(5, sum);
                Tensor[] eager = model.outputs(x);
                List<Tensor> interp = f.callAll(x);
                List<float[]> onnx = ort.run(x);
                assertEquals(eager.length, onnx.size());
                for (int i = 0; i < eager.length; i++) {
                    assertAllClose(eager[i].toFloatArray(), interp.get(i).toFloatArray(), 0, 0, "interpreter output " + i + ", sum " + sum);
                    assertAllClose(eager[i].toFloatArray(), onnx.get(i), 0, 0, "ONNX Runtime output " + i + ", sum " + sum);
                }
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
