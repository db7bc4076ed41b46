package dev.kiln.onnx;

import dev.kiln.ir.Attribute;
import dev.kiln.ir.Builder;
import dev.kiln.ir.DType;
import dev.kiln.ir.Dim;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpRegistry;
import dev.kiln.ir.OpSchema;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;
import dev.kiln.onnx.proto.OnnxProtos.GraphProto;
import dev.kiln.onnx.proto.OnnxProtos.ModelProto;
import dev.kiln.onnx.proto.OnnxProtos.NodeProto;
import dev.kiln.onnx.proto.OnnxProtos.TensorShapeProto;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;

import static dev.kiln.onnx.Nd.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The exporter's contract: errors, names, types, weights, metadata, opsets and files. */
class OnnxExporterTest {

    /** User ops this test registers (never built in; the coverage test leaves them out). */
    static final List<String> CUSTOM_OPS = List.of("my_custom_op", "my_other_custom_op");

    @BeforeAll
    static void registerCustomOps() {
        for (String name : CUSTOM_OPS) {
            if (!OpRegistry.contains(name)) {
                OpRegistry.register(OpSchema.define(name).summary("a user's op with no ONNX mapping").tensor("x")
                        .infer(ctx -> List.of(ctx.tensor(0))).build());
            }
        }
    }

    private static Graph mlp() {
        Graph g = new Graph("mlp");
        Value x = g.addInput("x", TensorType.of(DType.F32, Dim.sym("N"), Dim.of(4)));
        Value w = g.addWeight("fc.weight", TensorType.of(DType.F32, 2, 4));
        Value bias = g.addWeight("fc.bias", TensorType.of(DType.F32, 2));
        Builder b = Builder.atEnd(g.body());
        b.ret(b.op("relu", b.op("linear", x, w, bias)));
        return g;
    }

    private static final Nd W = Nd.random(1, 2, 4), B = Nd.random(2, 2);

    private static Map<String, ByteBuffer> mlpWeights() { return Map.of("fc.weight", W.bytes(), "fc.bias", B.bytes()); }

    @Test
    void unmappedCustomOpsAreAllNamedInOneError() {
        Graph g = new Graph("custom");
        Value x = g.addInput("x", TensorType.of(DType.F32, 3));
        Builder b = Builder.atEnd(g.body());
        Value y = b.op("my_custom_op", x);
        Value cond = b.op("item", b.op("gt", b.op("sum", y), b.op("sum", x)));
        Op ifOp = b.ifOp(cond, List.of(x.type()));
        Builder t = Builder.atEnd(ifOp.region(0));
        t.yield(t.op("my_other_custom_op", t.op("my_other_custom_op", x)));
        Builder e = Builder.atEnd(ifOp.region(1));
        e.yield(x);
        b.ret(ifOp.result());
        OnnxExportException ex = assertThrows(OnnxExportException.class, () -> OnnxExporter.export(g, Map.of(), ExportOptions.defaults()));
        assertEquals("cannot export graph 'custom': ops 'my_custom_op' (1 use), 'my_other_custom_op' (2 uses) have no ONNX mapping",
                ex.getMessage());
    }

    @Test
    void missingOrWronglySizedWeightDataNamesTheWeight() {
        OnnxExportException missing = assertThrows(OnnxExportException.class,
                () -> OnnxExporter.export(mlp(), Map.of("fc.weight", W.bytes()), ExportOptions.defaults()));
        assertTrue(missing.getMessage().contains("'fc.bias'"), missing.getMessage());
        OnnxExportException size = assertThrows(OnnxExportException.class,
                () -> OnnxExporter.export(mlp(), Map.of("fc.weight", W.bytes(), "fc.bias", ByteBuffer.allocate(4)), ExportOptions.defaults()));
        assertTrue(size.getMessage().contains("'fc.bias'") && size.getMessage().contains("needs 8 bytes") && size.getMessage().contains("has 4"),
                size.getMessage());
    }

    @Test
    void weightsBecomeRawDataInitializersAndBuffersAreLeftAlone() {
        ByteBuffer wb = W.bytes();
        int position = wb.position();
        ModelProto m = Exports.checked(mlp(), Map.of("fc.weight", wb, "fc.bias", B.bytes(), "unused", ByteBuffer.allocate(3)));
        assertEquals(position, wb.position());
        var init = m.getGraph().getInitializer(0);
        assertEquals("fc.weight", init.getName());
        assertEquals(List.of(2L, 4L), init.getDimsList());
        assertEquals(1, init.getDataType());
        assertArrayEquals(W.bytes().array(), init.getRawData().toByteArray());
        assertEquals(1, m.getGraph().getInputCount(), "initializers are not graph inputs");
        for (long n : new long[] {1, 3}) {
            Nd x = Nd.random(n, n, 4);
            assertClose(Ref.map(Ref.linear(x, W, B), v -> Math.max(v, 0)), OrtRunner.runOne(m, Map.of("x", x)), "mlp");
        }
    }

    @Test
    void optionsSetNamesAndMetadata() {
        ExportOptions o = ExportOptions.builder().opset(13).inputNames("features").outputNames("scores")
                .producerName("tester").producerVersion("9.9").docString("a small MLP").graphName("main_graph").modelVersion(3).build();
        ModelProto m = Exports.checked(mlp(), mlpWeights(), o);
        assertEquals(7, m.getIrVersion());
        assertEquals(13, m.getOpsetImport(0).getVersion());
        assertEquals("", m.getOpsetImport(0).getDomain());
        assertEquals("tester", m.getProducerName());
        assertEquals("9.9", m.getProducerVersion());
        assertEquals("a small MLP", m.getDocString());
        assertEquals("a small MLP", m.getGraph().getDocString());
        assertEquals(3, m.getModelVersion());
        // Each node names the Kiln op it was lowered from, so a node of the ONNX graph can be traced back.
        for (var node : m.getGraph().getNodeList()) {
            assertTrue(node.getDocString().startsWith("kiln op "), node.getOpType() + ": '" + node.getDocString() + "'");
        }
        assertTrue(m.getGraph().getNodeList().stream().anyMatch(n -> n.getDocString().equals("kiln op linear")),
                m.getGraph().getNodeList().toString());
        assertEquals("main_graph", m.getGraph().getName());
        assertEquals("features", m.getGraph().getInput(0).getName());
        assertEquals("scores", m.getGraph().getOutput(0).getName());
        Nd x = Nd.random(5, 2, 4);
        assertEquals(List.of("scores"), List.copyOf(OrtRunner.run(m, Map.of("features", x)).keySet()));

        ModelProto d = OnnxExporter.export(mlp(), mlpWeights(), ExportOptions.defaults());
        assertEquals("kiln", d.getProducerName());
        assertFalse(d.getProducerVersion().isEmpty() || d.getProducerVersion().contains("${"), d.getProducerVersion());
        assertEquals(8, d.getIrVersion());
        assertEquals(17, d.getOpsetImport(0).getVersion());
        assertEquals("mlp", d.getGraph().getName());
        assertEquals("x", d.getGraph().getInput(0).getName());
        assertEquals("output", d.getGraph().getOutput(0).getName());
    }

    @Test
    void irVersionFollowsOpsetAndEverySupportedOpsetPassesTheCheckerAndRuns() {
        Map<Integer, Integer> ir = Map.of(13, 7, 14, 7, 15, 8, 16, 8, 17, 8, 18, 8, 19, 9, 20, 9, 21, 10, 22, 10);
        for (int opset = ExportOptions.MIN_OPSET; opset <= ExportOptions.MAX_OPSET; opset++) {
            ModelProto m = Exports.checked(mlp(), mlpWeights(), ExportOptions.defaults().withOpset(opset));
            assertEquals((long) ir.get(opset), m.getIrVersion(), "IR version for opset " + opset);
            Nd x = Nd.random(opset, 2, 4);
            assertClose(Ref.map(Ref.linear(x, W, B), v -> Math.max(v, 0)), OrtRunner.runOne(m, Map.of("x", x)), "mlp at opset " + opset);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ExportOptions.defaults().withOpset(12));
        assertTrue(e.getMessage().contains("13 to 22"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ExportOptions.builder().opset(23).build());
    }

    @Test
    void inputAndOutputTypesCarrySymbolicStaticAndUnknownDims() {
        Graph g = new Graph("dims");
        Value x = g.addInput("x", TensorType.of(DType.F32, Dim.sym("N"), Dim.of(2), Dim.of(3)));
        Builder b = Builder.atEnd(g.body());
        Value flat = b.op("flatten", Builder.attrs("start_dim", 0L, "end_dim", 1L), x);
        assertEquals(Dim.UNKNOWN, flat.tensorType().shape().dim(0));
        b.ret(flat);
        ModelProto m = Exports.checked(g);
        List<TensorShapeProto.Dimension> in = m.getGraph().getInput(0).getType().getTensorType().getShape().getDimList();
        assertEquals("N", in.get(0).getDimParam());
        assertEquals(2, in.get(1).getDimValue());
        assertEquals(3, in.get(2).getDimValue());
        List<TensorShapeProto.Dimension> out = m.getGraph().getOutput(0).getType().getTensorType().getShape().getDimList();
        assertEquals(2, out.size());
        assertEquals(TensorShapeProto.Dimension.ValueCase.VALUE_NOT_SET, out.get(0).getValueCase());
        assertEquals(3, out.get(1).getDimValue());
    }

    @Test
    void outputsThatAreInputsWeightsOrRepeatsAreCopiedByIdentity() {
        Graph g = mlp();
        Value x = g.inputs().get(0);
        Value relu = g.outputs().get(0);
        g.body().erase(g.returnOp());
        Builder b = Builder.atEnd(g.body());
        b.ret(relu, x, g.weights().get("fc.bias"), relu);
        ModelProto m = Exports.checked(g, mlpWeights());
        assertEquals(List.of("output", "output_1", "output_2", "output_3"),
                m.getGraph().getOutputList().stream().map(o -> o.getName()).toList());
        assertEquals(3, m.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("Identity")).count());
        Nd xv = Nd.random(9, 2, 4);
        List<Nd> out = List.copyOf(OrtRunner.run(m, Map.of("x", xv)).values());
        Nd expected = Ref.map(Ref.linear(xv, W, B), v -> Math.max(v, 0));
        assertClose(expected, out.get(0), "relu");
        assertClose(xv, out.get(1), "input passed through");
        assertClose(B, out.get(2), "weight passed through");
        assertClose(expected, out.get(3), "repeated output");
    }

    @Test
    void namesComeFromHintsAndAreUniqueAcrossSubgraphsAndDeterministic() {
        Graph g = new Graph("names");
        Value x = g.addInput("x", TensorType.of(DType.F32, 2));
        Builder b = Builder.atEnd(g.body());
        Value h = b.op("relu", x);
        h.setName("hidden");
        Value clash = b.op("neg", h);
        clash.setName("x");
        Value cond = b.op("item", b.op("gt", b.op("sum", clash), b.op("sum", x)));
        Op ifOp = b.ifOp(cond, List.of(x.type()));
        Builder t = Builder.atEnd(ifOp.region(0));
        Value inner = t.op("tanh", clash);
        inner.setName("hidden");
        t.yield(inner);
        Builder e = Builder.atEnd(ifOp.region(1));
        e.yield(e.op("sigmoid", h));
        b.ret(ifOp.result());
        ModelProto m = Exports.checked(g);

        List<String> defined = new ArrayList<>();
        collectDefinitions(m.getGraph(), defined);
        assertEquals(defined.size(), new HashSet<>(defined).size(), "names defined twice: " + defined);
        assertTrue(defined.containsAll(List.of("x", "hidden", "x_1", "hidden_1")), defined.toString());
        assertArrayEquals(m.toByteArray(), OnnxExporter.export(g, Map.of(), ExportOptions.defaults()).toByteArray());
    }

    private static void collectDefinitions(GraphProto g, List<String> out) {
        g.getInputList().forEach(i -> out.add(i.getName()));
        g.getInitializerList().forEach(i -> out.add(i.getName()));
        for (NodeProto n : g.getNodeList()) {
            out.addAll(n.getOutputList());
            n.getAttributeList().stream().filter(a -> a.hasG()).forEach(a -> collectDefinitions(a.getG(), out));
        }
    }

    @Test
    void clashingOrMiscountedNamesAreClearErrors() {
        OnnxExportException clash = assertThrows(OnnxExportException.class,
                () -> OnnxExporter.export(mlp(), mlpWeights(), ExportOptions.builder().inputNames("fc.bias").build()));
        assertTrue(clash.getMessage().contains("'fc.bias'") && clash.getMessage().contains("unique"), clash.getMessage());
        OnnxExportException count = assertThrows(OnnxExportException.class,
                () -> OnnxExporter.export(mlp(), mlpWeights(), ExportOptions.builder().outputNames("a", "b").build()));
        assertTrue(count.getMessage().contains("returns 1 values") && count.getMessage().contains("[a, b]"), count.getMessage());
    }

    @Test
    void defaultNamesAvoidClashesWithInputsAndWeights() {
        Graph g = new Graph("defaults");
        Value a = g.addInput("output", TensorType.of(DType.F32, 2));
        Value c = g.addInput("output", TensorType.of(DType.F32, 2));
        Value w = g.addWeight("output_1", TensorType.of(DType.F32, 2));
        Builder b = Builder.atEnd(g.body());
        b.ret(b.op("add", a, w), b.op("sub", c, w));
        ModelProto m = Exports.checked(g, Map.of("output_1", Nd.f32(new long[] {2}, 1, 2).bytes()));
        assertEquals(List.of("output", "output_2"), m.getGraph().getInputList().stream().map(i -> i.getName()).toList());
        assertEquals(List.of("output_3", "output_4"), m.getGraph().getOutputList().stream().map(o -> o.getName()).toList());
        List<Nd> out = List.copyOf(OrtRunner.run(m, Map.of("output", Nd.f32(new long[] {2}, 5, 6),
                "output_2", Nd.f32(new long[] {2}, 7, 8))).values());
        assertClose(Nd.f32(new long[] {2}, 6, 8), out.get(0), "first input + weight");
        assertClose(Nd.f32(new long[] {2}, 6, 6), out.get(1), "second input - weight");
    }

    @Test
    void savedFileParsesBackAndPassesTheCheckerByPath(@TempDir Path dir) throws Exception {
        ModelProto m = OnnxExporter.export(mlp(), mlpWeights(), ExportOptions.defaults());
        Path file = dir.resolve("mlp.onnx");
        OnnxExporter.save(m, file);
        ModelProto back = ModelProto.parseFrom(Files.readAllBytes(file));
        assertEquals(m, back);
        OnnxChecker.check(file);
        Nd x = Nd.random(4, 1, 4);
        assertClose(OrtRunner.runOne(m, Map.of("x", x)), OrtRunner.runOne(back, Map.of("x", x)), "reloaded model");
    }

    @Test
    void hostScalarInputsAreZeroDimTensors() {
        Graph g = new Graph("scalars");
        g.addInput("n", dev.kiln.ir.ScalarType.INT);
        Value f = g.addInput("f", dev.kiln.ir.ScalarType.FLOAT);
        Builder b = Builder.atEnd(g.body());
        b.ret(f, b.constant(Attribute.of(false)));
        ModelProto m = Exports.checked(g);
        var n = m.getGraph().getInput(0).getType().getTensorType();
        assertEquals(7, n.getElemType());
        assertEquals(0, n.getShape().getDimCount());
        assertEquals(11, m.getGraph().getInput(1).getType().getTensorType().getElemType());
        List<Nd> out = List.copyOf(OrtRunner.run(m, Map.of("n", Nd.scalar(DType.I64, 3), "f", Nd.scalar(DType.F64, 0.5))).values());
        assertClose(Nd.scalar(DType.F64, 0.5), out.get(0), "float input passed through");
        assertClose(Nd.scalar(DType.BOOL, 0), out.get(1), "bool constant");
    }
}
