package dev.kiln.tests;

import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import dev.kiln.ir.Builder;
import dev.kiln.ir.DType;
import dev.kiln.ir.Graph;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;
import dev.kiln.onnx.ExportOptions;
import dev.kiln.onnx.ExternalData;
import dev.kiln.onnx.ExternalDataOptions;
import dev.kiln.onnx.OnnxChecker;
import dev.kiln.onnx.OnnxExporter;
import dev.kiln.onnx.OnnxFiles;
import dev.kiln.onnx.proto.OnnxProtos.ModelProto;
import dev.kiln.onnx.proto.OnnxProtos.TensorProto;
import dev.kiln.passes.Freeze;
import dev.kiln.samples.OrtReference;
import dev.kiln.samples.models.LeNet;
import dev.kiln.tracer.Kiln;
import dev.kiln.tracer.TraceOptions;
import dev.kiln.tracer.TracedFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.kiln.tests.ParityTest.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Models saved with their weights in an external data file pass the ONNX checker by path and run in
 * ONNX Runtime, loaded from their directory, with Kiln's outputs. The mechanics are tested with a
 * 1 KiB threshold; a real model over protobuf's 2 GiB limit is written and read back only with
 * {@code -Dkiln.bigTests=true} (about 7 GB of memory and 2.4 GB of disk, a minute or more).
 */
class ExternalDataOnnxTest {

    @TempDir
    Path dir;

    @Test
    void leNetWithExternalWeightsRunsInOnnxRuntimeFromItsDirectory() throws Exception {
        Generator.manualSeed(21);
        LeNet model = new LeNet();
        model.eval();
        TracedFunction traced = Kiln.trace(model, TraceOptions.defaults().dynamic(0, 0, "N"), Tensor.zeros(2, 1, 28, 28));
        Path file = dir.resolve("lenet.onnx");
        OnnxFiles.save(OnnxExporter.export(traced.graph(), traced.weightBuffers(), ExportOptions.defaults()), file,
                ExternalDataOptions.always(1024));
        assertExternalAndChecked(file);
        try (OrtReference ort = new OrtReference(file)) {
            for (int batch : new int[] {1, 5}) {
                Tensor x = Tensor.randn(new Generator(batch), batch, 1, 28, 28);
                float[] kiln = traced.call(x).toFloatArray();
                assertAllClose(model.forward(x).toFloatArray(), kiln, 0, 1e-6, "interpreter vs eager, batch " + batch);
                assertAllClose(kiln, ort.run(x).get(0), 1e-4, 1e-5, "ONNX Runtime vs Kiln, batch " + batch);
            }
        }
    }

    @Test
    void frozenLeNetKeepsItsConstantsInExternalDataToo() throws Exception {
        Generator.manualSeed(22);
        LeNet model = new LeNet();
        model.eval();
        Tensor x = Tensor.randn(new Generator(3), 3, 1, 28, 28);
        TracedFunction traced = Kiln.trace(model, x);
        float[] kiln = traced.call(x).toFloatArray();
        assertTrue(new Freeze(traced.weights()).run(traced.graph()));
        assertTrue(traced.graph().weights().isEmpty());
        Path file = dir.resolve("frozen.onnx");
        ModelProto m = OnnxExporter.export(traced.graph(), Map.of(), ExportOptions.defaults());
        assertEquals(0, m.getGraph().getInitializerCount(), "frozen weights are Constant nodes");
        OnnxFiles.save(m, file, ExternalDataOptions.always(1024));
        assertExternalAndChecked(file);
        try (OrtReference ort = new OrtReference(file)) {
            assertAllClose(kiln, ort.run(x).get(0), 1e-4, 1e-5, "ONNX Runtime vs Kiln");
        }
    }

    /** Over 2 GiB of weights: saved with the defaults, the weights go external by themselves. */
    @Test
    @EnabledIfSystemProperty(named = "kiln.bigTests", matches = "true")
    void aModelOver2GiBIsSavedWithExternalDataAndReadBack() throws Exception {
        int n = 300_000_000;                                       // 1.2 GB per weight, 2.4 GB in all
        Graph g = new Graph("big");
        Value x = g.addInput("x", TensorType.of(DType.F32, 1));
        Value w1 = g.addWeight("w1", TensorType.of(DType.F32, n));
        Value w2 = g.addWeight("w2", TensorType.of(DType.F32, n));
        Builder b = Builder.atEnd(g.body());
        b.ret(b.op("add", x, b.op("add", b.op("sum", w1), b.op("sum", w2))));
        // Exactly representable sums: w1 holds 1 at every 1000th element, w2 holds 2 at every 999th.
        ByteBuffer d1 = pattern(n, 1000, 1f), d2 = pattern(n, 999, 2f);
        Path file = dir.resolve("big.onnx");
        OnnxFiles.save(OnnxExporter.export(g, Map.of("w1", d1, "w2", d2), ExportOptions.defaults()), file, ExternalDataOptions.defaults());

        assertTrue(Files.size(file) < 4096, "model file " + Files.size(file) + " bytes");
        assertTrue(Files.size(dir.resolve("big.onnx.data")) > (2L << 30), "data file " + Files.size(dir.resolve("big.onnx.data")));
        ModelProto loaded = OnnxFiles.load(file);
        for (TensorProto t : loaded.getGraph().getInitializerList()) {
            assertTrue(ExternalData.isExternal(t), t.getName());
            MemorySegment seg = ExternalData.read(t, dir, 4L * n);
            ByteBuffer expected = t.getName().equals("w1") ? d1 : d2;
            assertEquals(-1, seg.mismatch(MemorySegment.ofBuffer(expected)), t.getName() + " read back");
        }
        OnnxChecker.check(file);
        double expectedSum = Math.ceilDiv(n, 1000) + 2.0 * Math.ceilDiv(n, 999);
        try (OrtReference ort = new OrtReference(file)) {
            float[] out = ort.run(Tensor.of(new float[] {0.5f}, 1)).get(0);
            assertEquals(expectedSum + 0.5, out[0], 0.0, "ONNX Runtime on the reloaded weights");
        }
    }

    private static ByteBuffer pattern(int n, int every, float value) {
        ByteBuffer buf = ByteBuffer.allocateDirect(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i += every) buf.putFloat(4 * i, value);
        return buf;
    }

    /** The file has external tensors, the data file is beside it, and the checker accepts it by path. */
    private static void assertExternalAndChecked(Path file) {
        ModelProto saved = OnnxFiles.load(file);
        List<TensorProto> external = new ArrayList<>();
        saved.getGraph().getInitializerList().stream().filter(ExternalData::isExternal).forEach(external::add);
        saved.getGraph().getNodeList().forEach(n -> n.getAttributeList().stream()
                .filter(a -> a.hasT() && ExternalData.isExternal(a.getT())).forEach(a -> external.add(a.getT())));
        assertTrue(external.size() >= 3, "LeNet's conv2 and fc weights go external: " + external.size());
        assertTrue(Files.isRegularFile(file.resolveSibling(file.getFileName() + ".data")));
        OnnxChecker.check(file);
    }
}
