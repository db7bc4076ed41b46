package dev.kiln.tests;

import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.Module;
import dev.kiln.ir.DType;
import dev.kiln.ir.Dim;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.TensorType;
import dev.kiln.onnx.ExportOptions;
import dev.kiln.onnx.ImportedModel;
import dev.kiln.onnx.OnnxExporter;
import dev.kiln.onnx.OnnxImporter;
import dev.kiln.passes.Optimize;
import dev.kiln.runtime.Interpreter;
import dev.kiln.samples.models.LeNet;
import dev.kiln.samples.models.Mlp;
import dev.kiln.tracer.Kiln;
import dev.kiln.tracer.TraceOptions;
import dev.kiln.tracer.Weights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static dev.kiln.tests.ParityTest.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Kiln's own exports with a symbolic batch {@code N} import back and run at every batch size: the
 * exporter computes symbolic Reshape/Expand targets with Shape → Gather → Concat, and the importer
 * turns them back into size lists naming {@code N} ({@code reshape {shape = [N, -1]}}), so the
 * imported graph matches eager Kiln and the interpreter on the original O2 graph at batches 1, 3 and 7.
 */
class DynamicBatchImportTest {

    @TempDir
    Path dir;

    /** PyTorch's {@code x.view(x.size(0), -1)} in front of the MNIST MLP. */
    static final class FlattenByDimMlp extends Module {
        final Mlp mlp = new Mlp(784, 64, 10);

        @Override
        public Tensor forward(Tensor x) { return mlp.forward(x.reshape(x.dim(0), -1)); }
    }

    /** An expand to {@code [N, 3, 5]} and a reshape by the batch size read into Java. */
    static final class ExpandByDim extends Module {
        @Override
        public Tensor forward(Tensor x) { return x.expand(x.dim(0), 3, 5).mul(2.0).reshape(x.dim(0), 3, -1).sum(2, false); }
    }

    @Test
    void optimisedLeNetImportsAndRunsAtEveryBatch() {
        Generator.manualSeed(31);
        LeNet model = new LeNet();
        model.eval();
        ImportedModel m = roundTrip(model, "lenet", 1, 28, 28);
        String ir = IrPrinter.print(m.graph());
        assertTrue(ir.contains(" : f32[N, 400]") && !ir.contains("shape_of"), ir);
    }

    @Test
    void optimisedMlpWithAFlattenByTheBatchSizeImportsAndRunsAtEveryBatch() {
        Generator.manualSeed(32);
        FlattenByDimMlp model = new FlattenByDimMlp();
        model.eval();
        ImportedModel m = roundTrip(model, "mlp", 1, 28, 28);
        String ir = IrPrinter.print(m.graph());
        assertTrue(ir.contains("{shape = [N, -1]} : f32[N, 784]"), ir);
    }

    @Test
    void anExpandByTheBatchSizeImportsAndRunsAtEveryBatch() {
        ImportedModel m = roundTrip(new ExpandByDim(), "expand", 1, 5);
        // the N entry meets the input's own N, so the importer keeps that dim (-1) and the type stays symbolic
        String ir = IrPrinter.print(m.graph());
        assertTrue(ir.contains("expand(%x) {shape = [-1, 3, -1]} : f32[N, 3, 5]"), ir);
    }

    /**
     * Traces {@code model} with a dynamic batch, optimises it with O2, exports it to a file and loads it
     * with {@link OnnxImporter#load}; then compares the imported graph with eager and with the
     * interpreter on the O2 graph at batches 1, 3 and 7.
     */
    private ImportedModel roundTrip(Module model, String name, long... rest) {
        Tensor example = Tensor.randn(new Generator(2), shape(2, rest));
        Optimize.Result r = Kiln.trace(model, TraceOptions.defaults().dynamic(0, 0, "N"), example).optimize(Map.of("N", 2L));
        Path file = dir.resolve(name + ".onnx");
        OnnxExporter.save(OnnxExporter.export(r.graph(), Weights.asBuffers(r.weights()), ExportOptions.defaults()), file);
        ImportedModel m = OnnxImporter.load(file);
        assertEquals(TensorType.of(DType.F32, shapeDims(rest)), m.graph().inputs().get(0).type());
        for (int batch : new int[] {1, 3, 7}) {
            Tensor x = Tensor.randn(new Generator(100 + batch), shape(batch, rest));
            float[] imported = m.run(List.of(x.data())).get(0).toFloatArray();
            float[] o2 = Interpreter.runTensors(r.graph(), List.of(x.data()), r.weights()).get(0).toFloatArray();
            assertAllClose(o2, imported, 1e-5, 1e-6, name + ": imported vs the O2 graph at batch " + batch);
            assertAllClose(model.forward(x).toFloatArray(), imported, 1e-5, 1e-6, name + ": imported vs eager at batch " + batch);
        }
        return m;
    }

    private static long[] shape(long batch, long... rest) {
        long[] s = new long[rest.length + 1];
        s[0] = batch;
        System.arraycopy(rest, 0, s, 1, rest.length);
        return s;
    }

    private static Dim[] shapeDims(long... rest) {
        Dim[] d = new Dim[rest.length + 1];
        d[0] = Dim.sym("N");
        for (int i = 0; i < rest.length; i++) d[i + 1] = Dim.of(rest[i]);
        return d;
    }
}
