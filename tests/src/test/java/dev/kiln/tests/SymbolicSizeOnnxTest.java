package dev.kiln.tests;

import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.Conv2d;
import dev.kiln.frontend.nn.Linear;
import dev.kiln.frontend.nn.Module;
import dev.kiln.ir.IrPrinter;
import dev.kiln.onnx.ExportOptions;
import dev.kiln.onnx.OnnxChecker;
import dev.kiln.onnx.OnnxExporter;
import dev.kiln.samples.OrtReference;
import dev.kiln.tracer.Kiln;
import dev.kiln.tracer.TraceOptions;
import dev.kiln.tracer.TracedFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sizes read with {@code x.dim(0)} from a dynamic batch stay symbolic through tracing
 * ({@code reshape {shape = [N, -1]}}) and ONNX export (Shape, Gather, Concat), so one exported
 * model runs at every batch size.
 */
class SymbolicSizeOnnxTest {

    @TempDir
    Path dir;

    /** PyTorch's classic {@code x.view(x.size(0), -1)} between convolutions and a classifier. */
    static final class ConvThenFlattenByDim extends Module {
        final Conv2d conv = new Conv2d(1, 4, 3);
        final Linear fc = new Linear(4 * 6 * 6, 10);

        @Override
        public Tensor forward(Tensor x) {
            Tensor h = conv.forward(x).relu();
            return fc.forward(h.reshape(h.dim(0), -1));
        }
    }

    /** Expands [N, 1, 5] to [N, 3, 5] with the batch size read into Java, then flattens by it. */
    static final class ExpandByDim extends Module {
        @Override
        public Tensor forward(Tensor x) { return x.expand(x.dim(0), 3, 5).mul(2.0).reshape(x.dim(0), 3, -1).sum(2, false); }
    }

    @Test
    void aReshapeByTheBatchSizeExportsAndRunsAtEveryBatch() throws Exception {
        Generator.manualSeed(21);
        ConvThenFlattenByDim model = new ConvThenFlattenByDim();
        TracedFunction traced = Kiln.trace(model, TraceOptions.defaults().dynamic(0, 0, "N"), Tensor.zeros(2, 1, 8, 8));
        String ir = IrPrinter.print(traced.graph());
        assertTrue(ir.contains("{shape = [N, -1]} : f32[N, 144]"), ir);
        checkAtBatches(model, traced, "conv-flatten.onnx", 1, 8, 8);
    }

    @Test
    void anExpandByTheBatchSizeExportsAndRunsAtEveryBatch() throws Exception {
        ExpandByDim model = new ExpandByDim();
        TracedFunction traced = Kiln.trace(model, TraceOptions.defaults().dynamic(0, 0, "N"), Tensor.zeros(2, 1, 5));
        String ir = IrPrinter.print(traced.graph());
        assertTrue(ir.contains("expand(%x) {shape = [N, 3, 5]}"), ir);
        checkAtBatches(model, traced, "expand.onnx", 1, 5);
    }

    private void checkAtBatches(Module model, TracedFunction traced, String name, long... rest) throws Exception {
        Path file = dir.resolve(name);
        OnnxExporter.save(OnnxExporter.export(traced.graph(), traced.weightBuffers(), ExportOptions.defaults()), file);
        OnnxChecker.check(file);
        try (OrtReference ort = new OrtReference(file)) {
            for (int batch : new int[] {1, 7, 64}) {
                long[] shape = new long[rest.length + 1];
                shape[0] = batch;
                System.arraycopy(rest, 0, shape, 1, rest.length);
                Tensor x = Tensor.randn(new Generator(batch), shape);
                float[] eager = model.forward(x).toFloatArray();
                ParityTest.assertAllClose(eager, traced.call(x).toFloatArray(), 0, 1e-6, "interpreter at batch " + batch);
                ParityTest.assertAllClose(eager, ort.run(x).get(0), 1e-4, 1e-5, "ONNX Runtime at batch " + batch);
            }
        }
    }
}
