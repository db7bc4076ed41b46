package dev.kiln.onnx;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.kiln.ir.Builder;
import dev.kiln.ir.DType;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;
import dev.kiln.ir.Verifier;
import dev.kiln.ir.testing.SharedData;
import dev.kiln.onnx.proto.OnnxProtos.AttributeProto;
import dev.kiln.onnx.proto.OnnxProtos.GraphProto;
import dev.kiln.onnx.proto.OnnxProtos.ModelProto;
import dev.kiln.onnx.proto.OnnxProtos.NodeProto;
import dev.kiln.onnx.proto.OnnxProtos.TensorProto;
import dev.kiln.onnx.proto.OnnxProtos.ValueInfoProto;
import dev.kiln.runtime.Elements;
import dev.kiln.runtime.Interpreter;
import dev.kiln.runtime.NDArray;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Kiln's {@code cast} against every Cast/CastLike case of the ONNX conformance suite
 * ({@code shared/onnx/backend-tests/node/test_cast*}): each model's one node becomes a Kiln graph
 * (input → cast with the node's target dtype, saturate and round_mode → return), run by the interpreter on
 * the case's input, and compared bit-exactly with the expected output (any NaN matches any NaN). The test
 * data is read with Kiln's own protobuf classes and {@link OnnxTypes}, including packed 4-bit/2-bit
 * raw_data and the int32_data form.
 */
class CastConformanceTest {

    private static final String NODE_DIR = "onnx/backend-tests/node";

    /** Outcome of one case: null when it matched, else what went wrong. */
    private record Outcome(String name, boolean storageDTypes, String failure) {}

    @Test
    void everyCastAndCastLikeCaseMatchesBitExactly() throws IOException {
        Path dir = SharedData.require(NODE_DIR);
        List<Path> cases;
        try (Stream<Path> s = Files.list(dir)) {
            cases = s.filter(p -> p.getFileName().toString().matches("test_cast(like)?_.*")).sorted().toList();
        }
        List<Outcome> outcomes = new ArrayList<>();
        for (Path c : cases) outcomes.add(run(c));

        long storage = outcomes.stream().filter(Outcome::storageDTypes).count();
        long storagePassed = outcomes.stream().filter(o -> o.storageDTypes() && o.failure() == null).count();
        long passed = outcomes.stream().filter(o -> o.failure() == null).count();
        List<String> failures = outcomes.stream().filter(o -> o.failure() != null).map(o -> o.name() + ": " + o.failure()).toList();
        System.out.printf("Cast/CastLike conformance: %d/%d cases pass (%d/%d with storage-only dtypes)%n",
                passed, outcomes.size(), storagePassed, storage);
        failures.forEach(f -> System.out.println("  FAIL " + f));
        assertTrue(storage >= 100, "expected about 100 cases with storage-only dtypes, found " + storage);
        assertEquals(List.of(), failures);
    }

    private static Outcome run(Path caseDir) throws IOException {
        String name = caseDir.getFileName().toString();
        GraphProto g = ModelProto.parseFrom(Files.readAllBytes(caseDir.resolve("model.onnx"))).getGraph();
        if (g.getNodeCount() != 1) return new Outcome(name, false, "expected one node, found " + g.getNodeCount());
        NodeProto node = g.getNode(0);
        Map<String, AttributeProto> attrs = new HashMap<>();
        for (AttributeProto a : node.getAttributeList()) attrs.put(a.getName(), a);
        int to = switch (node.getOpType()) {
            case "Cast" -> (int) attrs.get("to").getI();
            case "CastLike" -> elemTypeOf(g, node.getInput(1));
            default -> throw new AssertionError(name + ": unexpected op " + node.getOpType());
        };
        boolean saturate = !attrs.containsKey("saturate") || attrs.get("saturate").getI() != 0;
        String roundMode = attrs.containsKey("round_mode") ? attrs.get("round_mode").getS().toStringUtf8() : "up";

        Path data = caseDir.resolve("test_data_set_0");
        TensorProto inProto = readTensor(data.resolve("input_0.pb"));
        TensorProto outProto = readTensor(data.resolve("output_0.pb"));
        DType from = OnnxTypes.dtypeOf(inProto.getDataType()), target = OnnxTypes.dtypeOf(to);
        assertEquals(target, OnnxTypes.dtypeOf(outProto.getDataType()), name + ": output dtype");
        boolean storage = from.isStorageOnly() || target.isStorageOnly();
        try {
            NDArray input = Interpreter.fromBytes(typeOf(inProto, from), kilnBytes(inProto, from, name));
            NDArray got = castInKiln(input, target, saturate, roundMode);
            byte[] expected = kilnBytes(outProto, target, name);
            String mismatch = compare(target, bytesOf(got), expected);
            return new Outcome(name, storage, mismatch);
        } catch (RuntimeException e) {
            return new Outcome(name, storage, e.toString());
        }
    }

    /** input → cast → return as a verified Kiln graph, run by the reference interpreter. */
    private static NDArray castInKiln(NDArray input, DType target, boolean saturate, String roundMode) {
        Graph graph = new Graph("cast");
        Value x = graph.addInput("x", new TensorType(input.dtype(), Shape.of(input.shape())));
        Builder b = Builder.atEnd(graph.body());
        Value y = b.op("cast", Builder.attrs("dtype", target, "saturate", saturate, "round_mode", roundMode), x);
        b.create("return", List.of(y), Map.of());
        Verifier.verify(graph);
        return Interpreter.runTensors(graph, List.of(input), Map.of()).get(0);
    }

    /** Null when {@code got} and {@code expected} (Kiln bytes of {@code dtype}) agree element by element, NaN matching NaN. */
    static String compare(DType dtype, byte[] got, byte[] expected) {
        if (got.length != expected.length) return "got " + got.length + " bytes, expected " + expected.length;
        MemorySegment g = MemorySegment.ofArray(got), e = MemorySegment.ofArray(expected);
        int size = dtype.byteSize();
        for (int i = 0; i < got.length / size; i++) {
            double gv = Elements.getDouble(g, dtype, i), ev = Elements.getDouble(e, dtype, i);
            if (Double.isNaN(gv) && Double.isNaN(ev)) continue;
            for (int k = 0; k < size; k++) {
                if (got[i * size + k] != expected[i * size + k]) {
                    return "element " + i + ": got " + gv + " (" + hex(got, i * size, size) + "), expected " + ev
                            + " (" + hex(expected, i * size, size) + ")";
                }
            }
        }
        return null;
    }

    private static String hex(byte[] b, int at, int n) {
        StringBuilder sb = new StringBuilder("0x");
        for (int k = n - 1; k >= 0; k--) sb.append(String.format("%02x", b[at + k] & 0xFF));
        return sb.toString();
    }

    private static int elemTypeOf(GraphProto g, String valueName) {
        for (ValueInfoProto v : g.getInputList()) {
            if (v.getName().equals(valueName)) return v.getType().getTensorType().getElemType();
        }
        throw new AssertionError("no graph input named " + valueName);
    }

    private static TensorProto readTensor(Path file) throws IOException {
        try {
            return TensorProto.parseFrom(Files.readAllBytes(file));
        } catch (InvalidProtocolBufferException e) {
            throw new IOException(file + ": not a TensorProto", e);
        }
    }

    private static TensorType typeOf(TensorProto t, DType dtype) {
        long[] dims = t.getDimsList().stream().mapToLong(Long::longValue).toArray();
        return new TensorType(dtype, Shape.of(dims));
    }

    /**
     * The tensor's elements as Kiln stores them (little-endian, sub-byte dtypes one per byte), from raw_data or
     * from the typed field ONNX uses for the dtype: float_data, double_data, int64_data, or int32_data (one
     * element per entry, except for 4-bit and 2-bit dtypes, whose entries each hold one packed byte).
     */
    static byte[] kilnBytes(TensorProto t, DType dtype, String where) {
        long numel = t.getDimsList().stream().mapToLong(Long::longValue).reduce(1, Math::multiplyExact);
        if (t.hasRawData()) return OnnxTypes.unpackSubByte(dtype, t.getRawData().toByteArray(), numel, where);
        ByteBuffer buf;
        switch (dtype) {
            case F32 -> {
                buf = ByteBuffer.allocate(t.getFloatDataCount() * 4).order(ByteOrder.LITTLE_ENDIAN);
                t.getFloatDataList().forEach(buf::putFloat);
            }
            case F64 -> {
                buf = ByteBuffer.allocate(t.getDoubleDataCount() * 8).order(ByteOrder.LITTLE_ENDIAN);
                t.getDoubleDataList().forEach(buf::putDouble);
            }
            case I64 -> {
                buf = ByteBuffer.allocate(t.getInt64DataCount() * 8).order(ByteOrder.LITTLE_ENDIAN);
                t.getInt64DataList().forEach(buf::putLong);
            }
            default -> {
                int size = dtype.codecBits() < 8 ? 1 : dtype.byteSize();
                buf = ByteBuffer.allocate(t.getInt32DataCount() * size).order(ByteOrder.LITTLE_ENDIAN);
                for (int v : t.getInt32DataList()) {
                    switch (size) {
                        case 1 -> buf.put((byte) v);
                        case 2 -> buf.putShort((short) v);
                        default -> buf.putInt(v);
                    }
                }
            }
        }
        return OnnxTypes.unpackSubByte(dtype, buf.array(), numel, where);
    }

    private static byte[] bytesOf(NDArray a) {
        NDArray c = a.contiguous();
        long size = c.numel() * c.dtype().byteSize();
        byte[] out = new byte[Math.toIntExact(size)];
        MemorySegment.copy(c.segment(), c.offset() * c.dtype().byteSize(), MemorySegment.ofArray(out), 0, size);
        return out;
    }

    @Test
    void int32DataFormsDecodeLikeRawData() {
        // four i4 values packed two per int32_data entry, and two f8e4m3fn values one per entry
        TensorProto i4 = TensorProto.newBuilder().addDims(3).setDataType(TensorProto.DataType.INT4_VALUE)
                .addInt32Data(0x8F).addInt32Data(0x07).build();
        assertEquals(List.of((byte) -1, (byte) -8, (byte) 7), toList(kilnBytes(i4, DType.I4, "i4")));
        TensorProto f8 = TensorProto.newBuilder().addDims(2).setDataType(TensorProto.DataType.FLOAT8E4M3FN_VALUE)
                .addInt32Data(0x38).addInt32Data(0x7F).build();
        assertEquals(List.of((byte) 0x38, (byte) 0x7F), toList(kilnBytes(f8, DType.F8E4M3FN, "f8")));
    }

    private static List<Byte> toList(byte[] b) {
        List<Byte> out = new ArrayList<>();
        for (byte v : b) out.add(v);
        return out;
    }
}
