package dev.kiln.onnx;

import dev.kiln.ir.Builder;
import dev.kiln.ir.DType;
import dev.kiln.ir.Dim;
import dev.kiln.ir.Graph;
import dev.kiln.ir.TensorType;
import dev.kiln.onnx.proto.OnnxProtos.ModelProto;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The checker helper accepts a valid export and really rejects broken models. */
class OnnxCheckerTest {

    private static ModelProto reluModel() {
        Graph g = new Graph("relu");
        var x = g.addInput("x", TensorType.of(DType.F32, Dim.sym("N"), Dim.of(4)));
        Builder b = Builder.atEnd(g.body());
        b.ret(b.op("relu", x));
        return OnnxExporter.export(g, Map.of(), ExportOptions.defaults());
    }

    @Test
    void acceptsAValidModel() {
        assertDoesNotThrow(() -> OnnxChecker.check(reluModel()));
    }

    @Test
    void rejectsANodeReadingAnUndefinedValue() {
        ModelProto m = reluModel();
        ModelProto broken = m.toBuilder().setGraph(m.getGraph().toBuilder()
                .setNode(0, m.getGraph().getNode(0).toBuilder().setInput(0, "nowhere"))).build();
        RuntimeException e = assertThrows(RuntimeException.class, () -> OnnxChecker.check(broken));
        assertTrue(e.getMessage().contains("nowhere"), e.getMessage());
    }

    @Test
    void rejectsAnUnknownOperator() {
        ModelProto m = reluModel();
        ModelProto broken = m.toBuilder().setGraph(m.getGraph().toBuilder()
                .setNode(0, m.getGraph().getNode(0).toBuilder().setOpType("NoSuchOp"))).build();
        assertThrows(RuntimeException.class, () -> OnnxChecker.check(broken));
    }

    @Test
    void rejectsAnOutputTypeThatContradictsInference() {
        ModelProto m = reluModel();
        var out = m.getGraph().getOutput(0).toBuilder();
        out.getTypeBuilder().getTensorTypeBuilder().setElemType(7); // int64, but Relu of f32 is f32
        ModelProto broken = m.toBuilder().setGraph(m.getGraph().toBuilder().setOutput(0, out)).build();
        assertThrows(RuntimeException.class, () -> OnnxChecker.check(broken));
    }

    @Test
    void checksSavedFilesByPath() throws Exception {
        Path dir = Files.createTempDirectory("kiln-onnx");
        Path good = dir.resolve("good.onnx"), bad = dir.resolve("bad.onnx");
        ModelProto m = reluModel();
        OnnxExporter.save(m, good);
        OnnxExporter.save(m.toBuilder().setIrVersion(99).build(), bad);
        assertDoesNotThrow(() -> OnnxChecker.check(good));
        assertThrows(RuntimeException.class, () -> OnnxChecker.check(bad));
    }
}
