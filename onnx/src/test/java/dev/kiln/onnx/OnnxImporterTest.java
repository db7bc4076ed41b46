package dev.kiln.onnx;

import com.google.protobuf.ByteString;
import dev.kiln.ir.Builder;
import dev.kiln.ir.DType;
import dev.kiln.ir.Dim;
import dev.kiln.ir.Graph;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;
import dev.kiln.onnx.proto.OnnxProtos.AttributeProto;
import dev.kiln.onnx.proto.OnnxProtos.GraphProto;
import dev.kiln.onnx.proto.OnnxProtos.ModelProto;
import dev.kiln.onnx.proto.OnnxProtos.NodeProto;
import dev.kiln.onnx.proto.OnnxProtos.OperatorSetIdProto;
import dev.kiln.onnx.proto.OnnxProtos.TensorProto;
import dev.kiln.onnx.proto.OnnxProtos.TypeProto;
import dev.kiln.onnx.proto.OnnxProtos.ValueInfoProto;
import dev.kiln.runtime.Interpreter;
import dev.kiln.runtime.NDArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The importer's contract: round trips through the exporter, dynamic dims, error reports and tensor decoding. */
class OnnxImporterTest {

    private static NDArray random(long seed, long... shape) {
        Random r = new Random(seed);
        long n = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
        return NDArray.of(v, shape);
    }

    private static Map<String, ByteBuffer> buffers(Map<String, NDArray> weights) {
        Map<String, ByteBuffer> out = new LinkedHashMap<>();
        weights.forEach((k, v) -> out.put(k, ByteBuffer.wrap(v.toLittleEndianBytes()).order(ByteOrder.LITTLE_ENDIAN)));
        return out;
    }

    private static void assertSame(NDArray want, NDArray got) {
        assertEquals(want.dtype(), got.dtype());
        assertArrayEquals(want.shape(), got.shape());
        assertNull(OnnxConformanceTest.compare(got, want));
    }

    /** Exports {@code g}, imports it back and checks both run to the same outputs on {@code inputs}. */
    private static ImportedModel roundTrip(Graph g, Map<String, NDArray> weights, Path dir, List<List<NDArray>> inputSets) throws Exception {
        Path file = dir.resolve(g.name() + ".onnx");
        OnnxExporter.save(OnnxExporter.export(g, buffers(weights), ExportOptions.defaults()), file);
        ImportedModel m = OnnxImporter.load(file);
        for (List<NDArray> inputs : inputSets) {
            List<NDArray> want = Interpreter.runTensors(g, inputs, weights);
            List<NDArray> got = m.run(inputs);
            assertEquals(want.size(), got.size());
            for (int i = 0; i < want.size(); i++) assertSame(want.get(i), got.get(i));
        }
        return m;
    }

    @Test
    void mlpRoundTripsWithADynamicBatch(@TempDir Path dir) throws Exception {
        Graph g = new Graph("mlp");
        Value x = g.addInput("x", TensorType.of(DType.F32, Dim.sym("N"), Dim.of(4)));
        Value w1 = g.addWeight("fc1.weight", TensorType.of(DType.F32, 8, 4));
        Value b1 = g.addWeight("fc1.bias", TensorType.of(DType.F32, 8));
        Value w2 = g.addWeight("fc2.weight", TensorType.of(DType.F32, 3, 8));
        Builder b = Builder.atEnd(g.body());
        b.ret(b.op("softmax", b.op("linear", b.op("relu", b.op("linear", x, w1, b1)), w2)));
        Map<String, NDArray> weights = Map.of("fc1.weight", random(1, 8, 4), "fc1.bias", random(2, 8), "fc2.weight", random(3, 3, 8));
        ImportedModel m = roundTrip(g, weights, dir, List.of(List.of(random(4, 1, 4)), List.of(random(5, 3, 4)), List.of(random(6, 7, 4))));
        assertEquals(TensorType.of(DType.F32, Dim.sym("N"), Dim.of(4)), m.graph().inputs().get(0).type());
        assertEquals(List.of("x"), m.info().inputNames());
        assertEquals("kiln", m.info().producerName());
        assertEquals(Long.valueOf(ExportOptions.defaults().opset()), m.info().opsetImports().get(""));
        assertEquals(weights.keySet(), m.weights().keySet());
    }

    @Test
    void leNetRoundTrips(@TempDir Path dir) throws Exception {
        Graph g = new Graph("lenet");
        Value x = g.addInput("x", TensorType.of(DType.F32, Dim.sym("N"), Dim.of(1), Dim.of(12), Dim.of(12)));
        Value cw = g.addWeight("conv.weight", TensorType.of(DType.F32, 4, 1, 3, 3));
        Value cb = g.addWeight("conv.bias", TensorType.of(DType.F32, 4));
        Value fw = g.addWeight("fc.weight", TensorType.of(DType.F32, 10, 100));
        Value fb = g.addWeight("fc.bias", TensorType.of(DType.F32, 10));
        Builder b = Builder.atEnd(g.body());
        Value c = b.op("relu", b.op("conv2d", Builder.attrs("padding", new long[] {0, 0}), x, cw, cb));
        Value p = b.op("max_pool2d", Builder.attrs("kernel_size", new long[] {2, 2}, "stride", new long[] {2, 2}), c);
        b.ret(b.op("log_softmax", b.op("linear", b.op("flatten", Builder.attrs("start_dim", 1L), p), fw, fb)));
        Map<String, NDArray> weights = Map.of("conv.weight", random(1, 4, 1, 3, 3), "conv.bias", random(2, 4),
                "fc.weight", random(3, 10, 100), "fc.bias", random(4, 10));
        roundTrip(g, weights, dir, List.of(List.of(random(5, 2, 1, 12, 12)), List.of(random(6, 5, 1, 12, 12))));
    }

    // ---- hand-built models

    private static ValueInfoProto info(String name, int elemType, Object... dims) {
        var shape = dev.kiln.onnx.proto.OnnxProtos.TensorShapeProto.newBuilder();
        for (Object d : dims) {
            if (d instanceof String s) shape.addDimBuilder().setDimParam(s);
            else shape.addDimBuilder().setDimValue(((Number) d).longValue());
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(shape))).build();
    }

    private static NodeProto node(String op, List<String> in, List<String> out) {
        return NodeProto.newBuilder().setOpType(op).setName(op.toLowerCase() + "_node").addAllInput(in).addAllOutput(out).build();
    }

    private static ModelProto model(GraphProto g) {
        return ModelProto.newBuilder().setIrVersion(8).addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(17)).setGraph(g).build();
    }

    private static final int FLOAT = TensorProto.DataType.FLOAT.getNumber(), INT64 = TensorProto.DataType.INT64.getNumber();

    @Test
    void everyUnsupportedOpIsListedInOneError() {
        GraphProto branch = GraphProto.newBuilder().setName("b").addNode(node("Frobnicate", List.of("x"), List.of("y")))
                .addOutput(info("y", FLOAT, 3)).build();
        NodeProto ifNode = node("If", List.of("c"), List.of("z")).toBuilder()
                .addAttribute(AttributeProto.newBuilder().setName("then_branch").setType(AttributeProto.AttributeType.GRAPH).setG(branch))
                .addAttribute(AttributeProto.newBuilder().setName("else_branch").setType(AttributeProto.AttributeType.GRAPH).setG(branch))
                .build();
        GraphProto g = GraphProto.newBuilder().setName("g")
                .addInput(info("x", FLOAT, 3)).addInput(info("c", TensorProto.DataType.BOOL.getNumber()))
                .addNode(node("Relu", List.of("x"), List.of("r")))
                .addNode(node("Zorp", List.of("r"), List.of("s")))
                .addNode(node("Custom", List.of("s"), List.of("t")).toBuilder().setDomain("com.example").build())
                .addNode(ifNode)
                .addOutput(info("z", FLOAT, 3)).build();
        ImportUnsupportedException e = assertThrows(ImportUnsupportedException.class, () -> OnnxImporter.fromProto(model(g), null));
        assertTrue(e.getMessage().startsWith("the model uses 3 unsupported ops:"), e.getMessage());
        assertTrue(e.getMessage().contains("Zorp [domain '', opset 17] (first at node 1 'zorp_node')"), e.getMessage());
        assertTrue(e.getMessage().contains("com.example:Custom [domain 'com.example', opset -1]"), e.getMessage());
        assertTrue(e.getMessage().contains("Frobnicate [domain '', opset 17] (first at node 3 'if_node' If.then_branch > node 0 'frobnicate_node')"), e.getMessage());
    }

    @Test
    void malformedFilesAreImportErrors(@TempDir Path dir) throws Exception {
        GraphProto g = GraphProto.newBuilder().setName("g").addInput(info("x", FLOAT, 3))
                .addNode(node("Relu", List.of("x"), List.of("y"))).addOutput(info("y", FLOAT, 3)).build();
        byte[] good = model(g).toByteArray();
        Path truncated = dir.resolve("truncated.onnx");
        Files.write(truncated, Arrays.copyOf(good, good.length - 5));
        assertThrows(OnnxImportException.class, () -> OnnxImporter.load(truncated));
        Path garbage = dir.resolve("garbage.onnx");
        Files.write(garbage, new byte[] {(byte) 0xff, (byte) 0xff, 0x12, 0x7f, 0x00, 0x01});
        assertThrows(OnnxImportException.class, () -> OnnxImporter.load(garbage));
        OnnxImportException missing = assertThrows(OnnxImportException.class,
                () -> OnnxImporter.fromProto(model(g).toBuilder().clearGraph().build(), dir));
        assertTrue(missing.getMessage().contains("no graph"), missing.getMessage());
        OnnxImportException noFile = assertThrows(OnnxImportException.class, () -> OnnxImporter.load(dir.resolve("absent.onnx")));
        assertTrue(noFile.getMessage().contains("absent.onnx"), noFile.getMessage());

        GraphProto badType = g.toBuilder().setInput(0, info("x", 99, 3)).build();
        OnnxImportException dtype = assertThrows(OnnxImportException.class, () -> OnnxImporter.fromProto(model(badType), dir));
        assertTrue(dtype.getMessage().contains("unknown ONNX element type 99"), dtype.getMessage());

        GraphProto dangling = g.toBuilder().setNode(0, node("Relu", List.of("nope"), List.of("y"))).build();
        OnnxImportException undefined = assertThrows(OnnxImportException.class, () -> OnnxImporter.fromProto(model(dangling), dir));
        assertTrue(undefined.getMessage().contains("node 0 'relu_node' (Relu): input 'nope' is not defined"), undefined.getMessage());

        GraphProto wrongArity = g.toBuilder().setNode(0, node("Add", List.of("x"), List.of("y"))).build();
        OnnxImportException arity = assertThrows(OnnxImportException.class, () -> OnnxImporter.fromProto(model(wrongArity), dir));
        assertTrue(arity.getMessage().contains("node 0 'add_node' (Add): input 1 is required but missing"), arity.getMessage());

        ImportedModel ok = OnnxImporter.fromProto(model(g), dir);
        assertThrows(IllegalArgumentException.class, () -> ok.run(List.of()));
    }

    @Test
    void shapeInputsMustBeKnownAtImportTimeOrBoundAsConstants() {
        GraphProto g = GraphProto.newBuilder().setName("g").addInput(info("x", FLOAT, "N", 6)).addInput(info("shape", INT64, 2))
                .addNode(node("Reshape", List.of("x", "shape"), List.of("y"))).addOutput(info("y", FLOAT)).build();
        ImportNeedsConstantException e = assertThrows(ImportNeedsConstantException.class, () -> OnnxImporter.fromProto(model(g), null));
        assertEquals(java.util.Set.of("shape"), e.graphInputs());
        assertTrue(e.getMessage().contains("node 0 'reshape_node' (Reshape): input 1 ('shape') must be known at import time"), e.getMessage());

        ImportedModel m = OnnxImporter.fromProto(model(g), null,
                ImportOptions.defaults().withConstantInputs(Map.of("shape", NDArray.of(new long[] {0, -1, 2}, 3))));
        assertEquals(List.of("x"), m.info().inputNames());
        NDArray x = random(1, 2, 6);
        NDArray y = m.run(List.of(x)).get(0);
        assertArrayEquals(new long[] {2, 3, 2}, y.shape());
        assertArrayEquals(x.toFloatArray(), y.toFloatArray());
    }

    @Test
    void shapeComputedFromAStaticShapeFoldsAtImportTime() {
        GraphProto g = GraphProto.newBuilder().setName("g").addInput(info("x", FLOAT, 2, 3, 4))
                .addNode(node("Shape", List.of("x"), List.of("s")))
                .addNode(node("ReduceProd", List.of("s"), List.of("n")).toBuilder()
                        .addAttribute(AttributeProto.newBuilder().setName("keepdims").setType(AttributeProto.AttributeType.INT).setI(1)).build())
                .addNode(node("Reshape", List.of("x", "n"), List.of("y")))
                .addOutput(info("y", FLOAT, 24)).build();
        ImportedModel m = OnnxImporter.fromProto(model(g), null);
        NDArray x = random(2, 2, 3, 4);
        assertArrayEquals(x.toFloatArray(), m.run(List.of(x)).get(0).toFloatArray());
        assertArrayEquals(new long[] {24}, m.run(List.of(x)).get(0).shape());
    }

    private static AttributeProto floatAttr(String name, float v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(v).build();
    }

    private static AttributeProto intAttr(String name, long v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
    }

    @Test
    void batchNormalizationInTrainingModeUsesBatchStatisticsAndUpdatesRunningOnes() {
        long n = 2, c = 3, h = 2, w = 3;
        float momentum = 0.8f, eps = 1e-3f;
        GraphProto g = GraphProto.newBuilder().setName("g").addInput(info("x", FLOAT, n, c, h, w))
                .addInput(info("scale", FLOAT, c)).addInput(info("b", FLOAT, c))
                .addInput(info("mean", FLOAT, c)).addInput(info("var", FLOAT, c))
                .addNode(node("BatchNormalization", List.of("x", "scale", "b", "mean", "var"), List.of("y", "rm", "rv")).toBuilder()
                        .addAttribute(intAttr("training_mode", 1)).addAttribute(floatAttr("momentum", momentum))
                        .addAttribute(floatAttr("epsilon", eps)).build())
                .addOutput(info("y", FLOAT, n, c, h, w)).addOutput(info("rm", FLOAT, c)).addOutput(info("rv", FLOAT, c)).build();
        ImportedModel m = OnnxImporter.fromProto(model(g), null);
        NDArray x = random(3, n, c, h, w), scale = random(4, c), bias = random(5, c), mean = random(6, c);
        NDArray var = NDArray.of(new float[] {0.5f, 1.5f, 2f}, c);
        List<NDArray> got = m.run(List.of(x, scale, bias, mean, var));

        // plain-Java reference in double: population statistics per channel over N, H, W
        float[] xs = x.toFloatArray();
        float[] y = new float[xs.length], rm = new float[(int) c], rv = new float[(int) c];
        for (int ch = 0; ch < c; ch++) {
            double sum = 0, sq = 0;
            int count = 0;
            for (int i = 0; i < xs.length; i++) if ((i / (h * w)) % c == ch) { sum += xs[i]; count++; }
            double mu = sum / count;
            for (int i = 0; i < xs.length; i++) if ((i / (h * w)) % c == ch) sq += (xs[i] - mu) * (xs[i] - mu);
            double sigma2 = sq / count;
            for (int i = 0; i < xs.length; i++) {
                if ((i / (h * w)) % c == ch) {
                    y[i] = (float) ((xs[i] - mu) / Math.sqrt(sigma2 + eps) * scale.getFlat(ch) + bias.getFlat(ch));
                }
            }
            rm[ch] = (float) (mean.getFlat(ch) * momentum + mu * (1 - momentum));
            rv[ch] = (float) (var.getFlat(ch) * momentum + sigma2 * (1 - momentum));
        }
        assertEquals(3, got.size());
        assertSame(NDArray.of(y, n, c, h, w), got.get(0));
        assertSame(NDArray.of(rm, c), got.get(1));
        assertSame(NDArray.of(rv, c), got.get(2));

        GraphProto ints = g.toBuilder().setInput(0, info("x", INT64, n, c, h, w)).build();
        OnnxImportException e = assertThrows(OnnxImportException.class, () -> OnnxImporter.fromProto(model(ints), null));
        assertTrue(e.getMessage().contains("X must be floating point"), e.getMessage());
    }

    private static AttributeProto intsAttr(String name, long... v) {
        var a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long x : v) a.addInts(x);
        return a.build();
    }

    @Test
    void maxPoolIndicesPointAtEachWindowsFirstMaximumInEitherStorageOrder() {
        long n = 2, c = 2, h = 5, w = 4, kh = 3, kw = 2, sh = 2, sw = 1, ph0 = 1, pw0 = 0, ph1 = 1, pw1 = 1;
        long oh = (h + ph0 + ph1 - kh) / sh + 1, ow = (w + pw0 + pw1 - kw) / sw + 1;
        NDArray x = random(7, n, c, h, w);
        float[] xs = x.toFloatArray();
        for (long order = 0; order <= 1; order++) {
            GraphProto g = GraphProto.newBuilder().setName("g").addInput(info("x", FLOAT, n, c, h, w))
                    .addNode(node("MaxPool", List.of("x"), List.of("y", "i")).toBuilder()
                            .addAttribute(intsAttr("kernel_shape", kh, kw)).addAttribute(intsAttr("strides", sh, sw))
                            .addAttribute(intsAttr("pads", ph0, pw0, ph1, pw1)).addAttribute(intAttr("storage_order", order)).build())
                    .addOutput(info("y", FLOAT, n, c, oh, ow)).addOutput(info("i", INT64, n, c, oh, ow)).build();
            List<NDArray> got = OnnxImporter.fromProto(model(g), null).run(List.of(x));
            float[] y = new float[(int) (n * c * oh * ow)];
            long[] idx = new long[y.length];
            int o = 0;
            for (long plane = 0; plane < n * c; plane++) {
                for (long i = 0; i < oh; i++) {
                    for (long j = 0; j < ow; j++, o++) {
                        float best = Float.NEGATIVE_INFINITY;
                        long at = -1;
                        for (long a = 0; a < kh; a++) {
                            for (long b = 0; b < kw; b++) {
                                long r = i * sh - ph0 + a, q = j * sw - pw0 + b;
                                if (r < 0 || r >= h || q < 0 || q >= w) continue;
                                float v = xs[(int) (plane * h * w + r * w + q)];
                                if (at < 0 || v > best) {
                                    best = v;
                                    at = plane * h * w + (order == 0 ? r * w + q : q * h + r);
                                }
                            }
                        }
                        y[o] = best;
                        idx[o] = at;
                    }
                }
            }
            assertSame(NDArray.of(y, n, c, oh, ow), got.get(0));
            assertSame(NDArray.of(idx, n, c, oh, ow), got.get(1));
        }
    }

    @Test
    void tensorsDecodeFromRawAndTypedFields() {
        NDArray a = NDArray.of(new int[] {1, -2, 3, 4, 5, 6}, 2, 3);
        NDArray back = OnnxTensors.toArray(OnnxTensors.fromArray("a", a), null);
        assertArrayEquals(a.toLongArray(), back.toLongArray());
        assertArrayEquals(new long[] {2, 3}, back.shape());

        TensorProto floats = TensorProto.newBuilder().setDataType(FLOAT).addDims(2).addFloatData(1.5f).addFloatData(-2f).build();
        assertArrayEquals(new float[] {1.5f, -2f}, OnnxTensors.toArray(floats, null).toFloatArray());
        TensorProto halves = TensorProto.newBuilder().setDataType(TensorProto.DataType.FLOAT16.getNumber()).addDims(1)
                .addInt32Data(Float.floatToFloat16(0.5f)).build();
        assertEquals(0.5, OnnxTensors.toArray(halves, null).getFlat(0));
        TensorProto bools = TensorProto.newBuilder().setDataType(TensorProto.DataType.BOOL.getNumber()).addDims(3)
                .addInt32Data(1).addInt32Data(0).addInt32Data(1).build();
        assertArrayEquals(new boolean[] {true, false, true}, OnnxTensors.toArray(bools, null).toBooleanArray());
        TensorProto longs = TensorProto.newBuilder().setDataType(INT64).addDims(2).addInt64Data(Long.MAX_VALUE).addInt64Data(-7).build();
        assertArrayEquals(new long[] {Long.MAX_VALUE, -7}, OnnxTensors.toArray(longs, null).toLongArray());

        TensorProto shortRaw = TensorProto.newBuilder().setName("w").setDataType(FLOAT).addDims(4).setRawData(ByteString.copyFrom(new byte[12])).build();
        OnnxImportException e = assertThrows(OnnxImportException.class, () -> OnnxTensors.toArray(shortRaw, null));
        assertEquals("tensor 'w': raw_data has 12 bytes but f32 [4] needs 16", e.getMessage());
        TensorProto huge = TensorProto.newBuilder().setDataType(FLOAT).addDims(1L << 40).addDims(1L << 40).build();
        assertEquals("tensor '': shape [1099511627776, 1099511627776] has more elements than a 64-bit count holds",
                assertThrows(OnnxImportException.class, () -> OnnxTensors.toArray(huge, null)).getMessage());
        TensorProto fewer = TensorProto.newBuilder().setDataType(FLOAT).addDims(3).addFloatData(1f).build();
        assertThrows(OnnxImportException.class, () -> OnnxTensors.toArray(fewer, null));
        TensorProto external = floats.toBuilder().setDataLocation(TensorProto.DataLocation.EXTERNAL).build();
        assertThrows(OnnxImportException.class, () -> OnnxTensors.toArray(external, Path.of("no-such-model-dir").toAbsolutePath()));
        TensorProto strings = TensorProto.newBuilder().setDataType(TensorProto.DataType.STRING.getNumber()).addDims(1)
                .addStringData(ByteString.copyFromUtf8("x")).build();
        assertThrows(ImportUnsupportedException.class, () -> OnnxTensors.toArray(strings, null));
    }

    @Test
    void unsignedAndPackedTensorsDecodeFromEveryField() {
        // uint32 and uint64 live in uint64_data, uint16 in int32_data
        TensorProto u64 = TensorProto.newBuilder().setDataType(TensorProto.DataType.UINT64.getNumber()).addDims(2)
                .addUint64Data(-1L).addUint64Data(Long.MIN_VALUE + 5).build();
        NDArray a = OnnxTensors.toArray(u64, null);
        assertEquals(DType.U64, a.dtype());
        assertArrayEquals(new long[] {-1L, Long.MIN_VALUE + 5}, a.toLongArray());
        assertEquals(0x1p64, a.getFlat(0));
        TensorProto u32 = TensorProto.newBuilder().setDataType(TensorProto.DataType.UINT32.getNumber()).addDims(1).addUint64Data(4294967295L).build();
        assertArrayEquals(new long[] {4294967295L}, OnnxTensors.toArray(u32, null).toLongArray());
        TensorProto u16 = TensorProto.newBuilder().setDataType(TensorProto.DataType.UINT16.getNumber()).addDims(1).addInt32Data(65535).build();
        assertArrayEquals(new long[] {65535}, OnnxTensors.toArray(u16, null).toLongArray());
        // raw_data round trip, u64 past the signed range
        assertArrayEquals(a.toLongArray(), OnnxTensors.toArray(OnnxTensors.fromArray("a", a), null).toLongArray());

        // int4: packed two per byte in raw_data, and one packed byte per int32_data entry
        TensorProto packedRaw = TensorProto.newBuilder().setDataType(TensorProto.DataType.INT4.getNumber()).addDims(3)
                .setRawData(ByteString.copyFrom(new byte[] {(byte) 0x8F, 0x07})).build();
        NDArray q = OnnxTensors.toArray(packedRaw, null);
        assertEquals(DType.I4, q.dtype());
        assertArrayEquals(new long[] {-1, -8, 7}, q.toLongArray());
        TensorProto packedInts = TensorProto.newBuilder().setDataType(TensorProto.DataType.UINT2.getNumber()).addDims(5)
                .addInt32Data(0b11100100).addInt32Data(0b10).build();
        assertArrayEquals(new long[] {0, 1, 2, 3, 2}, OnnxTensors.toArray(packedInts, null).toLongArray());
        assertArrayEquals(q.toLongArray(), OnnxTensors.toArray(OnnxTensors.fromArray("q", q), null).toLongArray());
        TensorProto tooFew = packedRaw.toBuilder().clearDims().addDims(5).build();
        assertEquals("tensor '': raw_data has 2 bytes but i4 [5] needs 3",
                assertThrows(OnnxImportException.class, () -> OnnxTensors.toArray(tooFew, null)).getMessage());
        // float8 codes, one per int32_data entry
        TensorProto f8 = TensorProto.newBuilder().setDataType(TensorProto.DataType.FLOAT8E4M3FN.getNumber()).addDims(2)
                .addInt32Data(0x7E).addInt32Data(0x38).build();
        assertArrayEquals(new double[] {448, 1}, OnnxTensors.toArray(f8, null).toDoubleArray());
    }
}
