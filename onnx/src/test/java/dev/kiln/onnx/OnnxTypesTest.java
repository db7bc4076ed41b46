package dev.kiln.onnx;

import dev.kiln.ir.Builder;
import dev.kiln.ir.DType;
import dev.kiln.ir.Graph;
import dev.kiln.ir.LowPrecision;
import dev.kiln.ir.Op;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;
import dev.kiln.onnx.proto.OnnxProtos.AttributeProto;
import dev.kiln.onnx.proto.OnnxProtos.ModelProto;
import dev.kiln.onnx.proto.OnnxProtos.TensorProto;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** dtype mapping in both directions, sub-byte packing, opset checks and Cast attributes of {@link OnnxTypes}. */
class OnnxTypesTest {

    private static final DType[] SUB_BYTE = {DType.I4, DType.U4, DType.F4E2M1, DType.I2, DType.U2};

    @Test
    void everyDTypeMapsBothWays() {
        for (DType t : DType.values()) {
            assertEquals(t, OnnxTypes.dtypeOf(OnnxTypes.elemType(t)));
            assertEquals(t, OnnxTypes.dtypeOf(OnnxTypes.elemType(t).getNumber()));
        }
        assertEquals(TensorProto.DataType.FLOAT8E4M3FNUZ, OnnxTypes.elemType(DType.F8E4M3FNUZ));
        assertEquals(TensorProto.DataType.INT2, OnnxTypes.elemType(DType.I2));
        assertEquals(TensorProto.DataType.UINT16, OnnxTypes.elemType(DType.U16));
        assertEquals(TensorProto.DataType.UINT32, OnnxTypes.elemType(DType.U32));
        assertEquals(TensorProto.DataType.UINT64, OnnxTypes.elemType(DType.U64));
    }

    @Test
    void unsupportedElementTypesAreImportErrors() {
        OnnxImportException s = assertThrows(ImportUnsupportedException.class, () -> OnnxTypes.dtypeOf(TensorProto.DataType.STRING));
        assertEquals("ONNX element type STRING: element type STRING has no Kiln dtype", s.getMessage());
        assertThrows(ImportUnsupportedException.class, () -> OnnxTypes.dtypeOf(TensorProto.DataType.COMPLEX64));
        assertEquals("input 'x': element type is missing (UNDEFINED)",
                assertThrows(OnnxImportException.class, () -> OnnxTypes.dtypeOf(0, "input 'x'")).getMessage());
        assertEquals("ONNX element type 99: unknown ONNX element type 99",
                assertThrows(OnnxImportException.class, () -> OnnxTypes.dtypeOf(99)).getMessage());
    }

    @Test
    void packsLowBitsFirst() {
        // the layout of the conformance data: int4 -9..16 wrapped, int2 -3..3 wrapped
        assertArrayEquals(new byte[] {(byte) 0x8F, 0x07}, OnnxTypes.packSubByte(DType.I4, new byte[] {-1, -8, 7}));
        assertArrayEquals(new byte[] {0x39, 0x39}, OnnxTypes.packSubByte(DType.I2, new byte[] {1, -2, -1, 0, 1, -2, -1}));
        assertArrayEquals(new byte[] {-1, -8, 7}, OnnxTypes.unpackSubByte(DType.I4, new byte[] {(byte) 0x8F, 0x07}, 3, "t"));
        assertArrayEquals(new byte[] {15, 8, 7}, OnnxTypes.unpackSubByte(DType.U4, new byte[] {(byte) 0x8F, 0x07}, 3, "t"));
        assertArrayEquals(new byte[] {0xF, 0x8}, OnnxTypes.unpackSubByte(DType.F4E2M1, new byte[] {(byte) 0x8F}, 2, "t"));
        assertArrayEquals(new byte[] {1, 2, 3, 0, 1}, OnnxTypes.unpackSubByte(DType.U2, new byte[] {0x39, 0x01}, 5, "t"));
        byte[] f8 = {1, 2, 3};
        assertArrayEquals(f8, OnnxTypes.packSubByte(DType.F8E5M2, f8), "whole-byte dtypes are unchanged");
        assertEquals(2, OnnxTypes.packedSize(DType.I2, 5));
        assertEquals(0, OnnxTypes.packedSize(DType.U4, 0));
    }

    @Test
    void unpackingTheWrongNumberOfBytesNamesTheTensor() {
        OnnxImportException e = assertThrows(OnnxImportException.class,
                () -> OnnxTypes.unpackSubByte(DType.I4, new byte[3], 4, "initializer 'w'"));
        assertEquals("initializer 'w': 4 elements of INT4 need 2 bytes, but the tensor holds 3", e.getMessage());
        assertThrows(OnnxImportException.class, () -> OnnxTypes.unpackSubByte(DType.F8E4M3FN, new byte[3], 4, "x"));
    }

    @Property(tries = 200)
    void packingRoundTrips(@ForAll @Size(max = 40) List<@IntRange(min = -128, max = 127) Integer> raw,
                           @ForAll @IntRange(min = 0, max = 4) int which) {
        DType t = SUB_BYTE[which];
        byte[] values = new byte[raw.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = t == DType.F4E2M1 ? (byte) (raw.get(i) & 0xF) : LowPrecision.wrapInt(t, raw.get(i));
        }
        byte[] packed = OnnxTypes.packSubByte(t, values);
        assertEquals(OnnxTypes.packedSize(t, values.length), packed.length);
        assertArrayEquals(values, OnnxTypes.unpackSubByte(t, packed, values.length, "t"));
    }

    @Test
    void opsetChecksNameTheValue() {
        OnnxExportException e = assertThrows(OnnxExportException.class, () -> OnnxTypes.requireOpset(DType.I4, 17, "weight 'w'"));
        assertEquals("weight 'w': ONNX has INT4 (Kiln i4) only from opset 21, but the export targets opset 17; "
                + "export with a newer opset or cast to a wider dtype first", e.getMessage());
        OnnxTypes.requireOpset(DType.I4, 21, "w");
        OnnxTypes.requireOpset(DType.F8E5M2, 19, "w");
        assertTrue(assertThrows(OnnxExportException.class, () -> OnnxTypes.requireOpset(DType.F4E2M1, 22, "x"))
                .getMessage().contains("Kiln exports at most opset 22"));

        Graph g = new Graph("g");
        Value x = g.addInput("x", TensorType.of(DType.F32, 4));
        Builder b = Builder.atEnd(g.body());
        Value y = b.op("cast", Builder.attrs("dtype", DType.F8E4M3FN), x);
        b.create("return", List.of(y), Map.of());
        e = assertThrows(OnnxExportException.class, () -> OnnxTypes.requireOpset(g, 18));
        assertTrue(e.getMessage().startsWith("cast result %"), e.getMessage());
        OnnxTypes.requireOpset(g, 19);
    }

    @Test
    void castAttributesOnlyWhenNotTheDefault() {
        Graph g = new Graph("g");
        Value x = g.addInput("x", TensorType.of(DType.F32, 4));
        Builder b = Builder.atEnd(g.body());
        Op plain = b.create("cast", List.of(x), Builder.attrs("dtype", DType.F8E4M3FN));
        Op noSat = b.create("cast", List.of(x), Builder.attrs("dtype", DType.F8E5M2, "saturate", false));
        Op intNoSat = b.create("cast", List.of(x), Builder.attrs("dtype", DType.I4, "saturate", false));
        Op down = b.create("cast", List.of(x), Builder.attrs("dtype", DType.F8E8M0, "round_mode", "down"));
        assertEquals(List.of(), OnnxTypes.castAttributes(plain, 19));
        List<AttributeProto> attrs = OnnxTypes.castAttributes(noSat, 19);
        assertEquals(1, attrs.size());
        assertEquals("saturate", attrs.get(0).getName());
        assertEquals(0, attrs.get(0).getI());
        assertEquals(List.of(), OnnxTypes.castAttributes(intNoSat, 21), "saturate only applies to float8 targets");
        assertThrows(OnnxExportException.class, () -> OnnxTypes.castAttributes(down, 22));
        assertEquals("down", OnnxTypes.castAttributes(down, 24).get(0).getS().toStringUtf8());
    }

    /** ONNX Runtime 1.22 has no CPU Cast from int4, so the packed initializer is checked by the ONNX checker and by its bytes. */
    @Test
    void subByteWeightsArePacked() {
        Graph g = new Graph("dequant");
        Value w = g.addWeight("w", TensorType.of(DType.I4, 5));
        Builder b = Builder.atEnd(g.body());
        b.create("return", List.of(b.op("cast", Builder.attrs("dtype", DType.F32), w)), Map.of());
        byte[] data = {-8, -1, 0, 5, 7};
        ModelProto m = Exports.checked(g, Map.of("w", ByteBuffer.wrap(data)), ExportOptions.defaults().withOpset(21));
        TensorProto init = m.getGraph().getInitializer(0);
        assertEquals(TensorProto.DataType.INT4_VALUE, init.getDataType());
        assertArrayEquals(new byte[] {(byte) 0xF8, 0x50, 0x07}, init.getRawData().toByteArray());
    }

    @Test
    void onnxRuntimeCastsToFloat8AsKilnDoes() {
        Graph g = new Graph("f8");
        Value x = g.addInput("x", TensorType.of(DType.F32, 12));
        Builder b = Builder.atEnd(g.body());
        List<Value> outs = new java.util.ArrayList<>();
        for (DType t : List.of(DType.F8E4M3FN, DType.F8E4M3FNUZ, DType.F8E5M2, DType.F8E5M2FNUZ)) {
            outs.add(b.op("cast", Builder.attrs("dtype", DType.F32), b.op("cast", Builder.attrs("dtype", t), x)));
        }
        b.create("return", outs, Map.of());
        double[] in = {0.3, -0.3, 464, 470, 1e6, -1e6, 1e-9, -0.0, 0.1, 2.2e-3, 3.14159, 61440};
        ModelProto m = Exports.checked(g, ExportOptions.defaults().withOpset(19));
        Map<String, Nd> got = OrtRunner.run(m, Map.of(m.getGraph().getInput(0).getName(), Nd.f32(new long[] {12}, in)));
        int k = 0;
        for (Nd out : got.values()) {
            DType t = List.of(DType.F8E4M3FN, DType.F8E4M3FNUZ, DType.F8E5M2, DType.F8E5M2FNUZ).get(k++);
            for (int i = 0; i < in.length; i++) {
                double want = LowPrecision.decode(t, LowPrecision.encodeFloat(t, (float) in[i], true, LowPrecision.RoundMode.UP));
                assertEquals(want, out.values()[i], t + " of " + in[i]);
            }
        }
    }
}
