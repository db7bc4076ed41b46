package dev.kiln.onnx;

import com.google.protobuf.ByteString;
import dev.kiln.ir.Attribute;
import dev.kiln.ir.Block;
import dev.kiln.ir.DType;
import dev.kiln.ir.Dim;
import dev.kiln.ir.Graph;
import dev.kiln.ir.LowPrecision;
import dev.kiln.ir.Op;
import dev.kiln.ir.ScalarType;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Type;
import dev.kiln.ir.Value;
import dev.kiln.onnx.proto.OnnxProtos.AttributeProto;
import dev.kiln.onnx.proto.OnnxProtos.TensorProto;
import dev.kiln.onnx.proto.OnnxProtos.TensorShapeProto;
import dev.kiln.onnx.proto.OnnxProtos.TypeProto;
import dev.kiln.onnx.proto.OnnxProtos.ValueInfoProto;

import java.util.ArrayList;
import java.util.List;

/**
 * Kiln types as ONNX protos: dtypes to and from {@code TensorProto.DataType} (with the opset each first
 * appears in), tensor and host-scalar types to {@code TypeProto} (host scalars are 0-d tensors of
 * int64/double/bool), raw-data tensors, and the packing of 4-bit and 2-bit elements (low bits first).
 */
final class OnnxTypes {

    private OnnxTypes() {}

    /** The ONNX element type of a Kiln dtype. */
    static TensorProto.DataType elemType(DType dtype) {
        return switch (dtype) {
            case F32 -> TensorProto.DataType.FLOAT;
            case F64 -> TensorProto.DataType.DOUBLE;
            case F16 -> TensorProto.DataType.FLOAT16;
            case BF16 -> TensorProto.DataType.BFLOAT16;
            case I64 -> TensorProto.DataType.INT64;
            case I32 -> TensorProto.DataType.INT32;
            case I16 -> TensorProto.DataType.INT16;
            case I8 -> TensorProto.DataType.INT8;
            case U8 -> TensorProto.DataType.UINT8;
            case U16 -> TensorProto.DataType.UINT16;
            case U32 -> TensorProto.DataType.UINT32;
            case U64 -> TensorProto.DataType.UINT64;
            case BOOL -> TensorProto.DataType.BOOL;
            case F8E4M3FN -> TensorProto.DataType.FLOAT8E4M3FN;
            case F8E4M3FNUZ -> TensorProto.DataType.FLOAT8E4M3FNUZ;
            case F8E5M2 -> TensorProto.DataType.FLOAT8E5M2;
            case F8E5M2FNUZ -> TensorProto.DataType.FLOAT8E5M2FNUZ;
            case F4E2M1 -> TensorProto.DataType.FLOAT4E2M1;
            case F8E8M0 -> TensorProto.DataType.FLOAT8E8M0;
            case I4 -> TensorProto.DataType.INT4;
            case U4 -> TensorProto.DataType.UINT4;
            case I2 -> TensorProto.DataType.INT2;
            case U2 -> TensorProto.DataType.UINT2;
        };
    }

    /**
     * The Kiln dtype of an ONNX element type. UNDEFINED is an {@link OnnxImportException}; the types Kiln has no
     * dtype for (string, complex) are an {@link ImportUnsupportedException} naming the type.
     */
    static DType dtypeOf(TensorProto.DataType t) {
        return dtypeOf(t.getNumber(), "ONNX element type " + t);
    }

    /** The Kiln dtype of an ONNX {@code elem_type}/{@code data_type} number; unknown numbers are an import error. */
    static DType dtypeOf(int elemType) {
        return dtypeOf(elemType, "ONNX element type " + elemType);
    }

    /**
     * The one table from ONNX element types to Kiln dtypes; errors start with {@code what} (the tensor, input or
     * attribute that has the type): unknown numbers and UNDEFINED are an {@link OnnxImportException}, string and
     * complex types an {@link ImportUnsupportedException}.
     */
    static DType dtypeOf(int elemType, String what) {
        TensorProto.DataType t = TensorProto.DataType.forNumber(elemType);
        if (t == null) throw new OnnxImportException(what + ": unknown ONNX element type " + elemType);
        return switch (t) {
            case FLOAT -> DType.F32;
            case DOUBLE -> DType.F64;
            case FLOAT16 -> DType.F16;
            case BFLOAT16 -> DType.BF16;
            case INT64 -> DType.I64;
            case INT32 -> DType.I32;
            case INT16 -> DType.I16;
            case INT8 -> DType.I8;
            case UINT8 -> DType.U8;
            case UINT16 -> DType.U16;
            case UINT32 -> DType.U32;
            case UINT64 -> DType.U64;
            case BOOL -> DType.BOOL;
            case FLOAT8E4M3FN -> DType.F8E4M3FN;
            case FLOAT8E4M3FNUZ -> DType.F8E4M3FNUZ;
            case FLOAT8E5M2 -> DType.F8E5M2;
            case FLOAT8E5M2FNUZ -> DType.F8E5M2FNUZ;
            case FLOAT4E2M1 -> DType.F4E2M1;
            case FLOAT8E8M0 -> DType.F8E8M0;
            case INT4 -> DType.I4;
            case UINT4 -> DType.U4;
            case INT2 -> DType.I2;
            case UINT2 -> DType.U2;
            case UNDEFINED -> throw new OnnxImportException(what + ": element type is missing (UNDEFINED)");
            case STRING, COMPLEX64, COMPLEX128 -> throw new ImportUnsupportedException(what + ": element type " + t + " has no Kiln dtype");
        };
    }

    /**
     * The first default-domain opset whose Cast (and other ops) accept {@code dtype}: float8 from 19, int4/uint4
     * from 21, float4e2m1 from 23, float8e8m0 from 24, int2/uint2 from 25; 1 for the other dtypes.
     */
    static int minOpset(DType dtype) {
        return switch (dtype) {
            case F8E4M3FN, F8E4M3FNUZ, F8E5M2, F8E5M2FNUZ -> 19;
            case I4, U4 -> 21;
            case F4E2M1 -> 23;
            case F8E8M0 -> 24;
            case I2, U2 -> 25;
            default -> 1;
        };
    }

    /** Throws an {@link OnnxExportException} naming {@code where} when ONNX at {@code opset} lacks {@code dtype}. */
    static void requireOpset(DType dtype, int opset, String where) {
        int min = minOpset(dtype);
        if (opset < min) {
            throw new OnnxExportException(where + ": ONNX has " + elemType(dtype) + " (Kiln " + dtype + ") only from opset "
                    + min + ", but the export targets opset " + opset
                    + (min > ExportOptions.MAX_OPSET ? ", and Kiln exports at most opset " + ExportOptions.MAX_OPSET + "; cast to a wider dtype first"
                       : "; export with a newer opset or cast to a wider dtype first"));
        }
    }

    /**
     * Checks every value of {@code graph} (inputs, weights, op results in all regions) against {@link #requireOpset},
     * so a storage-only dtype the opset lacks is reported with the value or op that has it.
     */
    static void requireOpset(Graph graph, int opset) {
        for (Value v : graph.inputs()) requireOpset(asTensor(v.type()).dtype(), opset, "input " + v);
        graph.weights().forEach((name, w) -> requireOpset(w.tensorType().dtype(), opset, "weight '" + name + "'"));
        requireOpset(graph.body(), opset);
    }

    private static void requireOpset(Block block, int opset) {
        for (Op op : block.ops()) {
            for (Value r : op.results()) {
                if (r.type() instanceof TensorType t) requireOpset(t.dtype(), opset, op.name() + " result " + r);
            }
            for (Block region : op.regions()) requireOpset(region, opset);
        }
    }

    /**
     * The ONNX Cast attributes besides {@code to} that a Kiln {@code cast} op needs: {@code saturate = 0} when it
     * turns saturation off for a float8 or f8e8m0 target, {@code round_mode} when it rounds an f8e8m0 target other
     * than up. Empty for ONNX's defaults; an {@link OnnxExportException} when {@code opset} lacks the attribute.
     */
    static List<AttributeProto> castAttributes(Op cast, int opset) {
        DType to = cast.result().tensorType().dtype();
        boolean saturate = !(cast.attributes().get("saturate") instanceof Attribute.Bool b) || b.value();
        Attribute mode = cast.attributes().get("round_mode");
        String roundMode = mode instanceof Attribute.Str str ? str.value() : "up";
        List<AttributeProto> attrs = new ArrayList<>();
        boolean float8 = to.isStorageOnly() && to.isFloatingPoint() && to != DType.F4E2M1;
        if (!saturate && float8) attrs.add(Attrs.i("saturate", 0));
        if (!roundMode.equals("up") && to == DType.F8E8M0) {
            if (opset < 24) {
                throw new OnnxExportException("cast: ONNX Cast has round_mode only from opset 24, but the export targets opset " + opset);
            }
            attrs.add(Attrs.s("round_mode", roundMode));
        }
        return attrs;
    }

    /** Bytes ONNX uses for {@code numel} packed elements of {@code dtype} (two 4-bit or four 2-bit ones per byte). */
    static long packedSize(DType dtype, long numel) {
        int perByte = 8 / dtype.codecBits();
        return perByte <= 1 ? numel * dtype.byteSize() : (numel + perByte - 1) / perByte;
    }

    /**
     * Packs Kiln's one-byte-per-element data of a 4-bit ({@code i4}, {@code u4}, {@code f4e2m1}) or 2-bit
     * ({@code i2}, {@code u2}) dtype the way ONNX stores it: element 0 in the lowest bits of byte 0, the last
     * byte padded with zero bits. Data of any other dtype is returned unchanged.
     */
    static byte[] packSubByte(DType dtype, byte[] unpacked) {
        int bits = dtype.codecBits();
        if (bits >= 8) return unpacked;
        int perByte = 8 / bits, mask = (1 << bits) - 1;
        byte[] out = new byte[Math.toIntExact(packedSize(dtype, unpacked.length))];
        for (int i = 0; i < unpacked.length; i++) {
            out[i / perByte] |= (byte) ((unpacked[i] & mask) << (bits * (i % perByte)));
        }
        return out;
    }

    /**
     * Unpacks ONNX's packed data of a 4-bit or 2-bit dtype ({@code packed}, e.g. a raw_data field, or the low
     * bytes of int32_data, one packed byte per entry) into Kiln's one byte per element: {@code i4}/{@code i2}
     * sign-extended, {@code u4}/{@code u2} zero-extended, {@code f4e2m1} codes in the low nibble. Data of any
     * other dtype is returned unchanged. A size other than {@link #packedSize} is an {@link OnnxImportException}
     * naming {@code where} (the tensor).
     */
    static byte[] unpackSubByte(DType dtype, byte[] packed, long numel, String where) {
        long expected = packedSize(dtype, numel);
        if (packed.length != expected) {
            throw new OnnxImportException(where + ": " + numel + " elements of " + elemType(dtype) + " need " + expected
                    + " bytes, but the tensor holds " + packed.length);
        }
        int bits = dtype.codecBits();
        if (bits >= 8) return packed;
        int perByte = 8 / bits, mask = (1 << bits) - 1;
        byte[] out = new byte[Math.toIntExact(numel)];
        for (int i = 0; i < out.length; i++) {
            int code = (packed[i / perByte] >> (bits * (i % perByte))) & mask;
            out[i] = dtype == DType.F4E2M1 ? (byte) code : LowPrecision.wrapInt(dtype, code);
        }
        return out;
    }

    /** The tensor type a value of Kiln type {@code t} has in ONNX (host scalars become 0-d tensors). */
    static TensorType asTensor(Type t) {
        return switch (t) {
            case TensorType tt -> tt;
            case ScalarType s -> new TensorType(s.elementType(), dev.kiln.ir.Shape.SCALAR);
            default -> throw new OnnxExportException("type " + t + " has no ONNX equivalent");
        };
    }

    /** A full {@code TypeProto}: symbolic dims as dim_param, static as dim_value, unknown left empty. */
    static TypeProto typeProto(Type t) {
        TensorType tt = asTensor(t);
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (Dim d : tt.shape().dims()) {
            TensorShapeProto.Dimension.Builder dim = shape.addDimBuilder();
            switch (d) {
                case Dim.Static s -> dim.setDimValue(s.size());
                case Dim.Symbolic s -> dim.setDimParam(s.name());
                case Dim.Unknown u -> { }
            }
        }
        return TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder()
                .setElemType(elemType(tt.dtype()).getNumber()).setShape(shape)).build();
    }

    static ValueInfoProto valueInfo(String name, Type t) {
        return ValueInfoProto.newBuilder().setName(name).setType(typeProto(t)).build();
    }

    /**
     * A tensor of a static-shaped type holding {@code data}, Kiln's little-endian row-major bytes (4-bit and
     * 2-bit dtypes one element per byte; they are packed here, see {@link #packSubByte}).
     */
    static TensorProto tensor(String name, TensorType type, ByteString data) {
        DType dtype = type.dtype();
        if (dtype.codecBits() < 8) data = ByteString.copyFrom(packSubByte(dtype, data.toByteArray()));
        TensorProto.Builder b = TensorProto.newBuilder().setDataType(elemType(dtype).getNumber()).setRawData(data);
        for (long d : type.shape().toArray()) b.addDims(d);
        if (name != null) b.setName(name);
        return b.build();
    }

    /** A 1-D int64 tensor. */
    static TensorProto int64s(long... values) {
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(values.length * 8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (long v : values) buf.putLong(v);
        return tensor(null, TensorType.of(DType.I64, values.length), ByteString.copyFrom(buf.array()));
    }

    /** A 0-d tensor of {@code dtype} holding zero. */
    static TensorProto zero(DType dtype) {
        return tensor(null, new TensorType(dtype, dev.kiln.ir.Shape.SCALAR), ByteString.copyFrom(new byte[dtype.byteSize()]));
    }
}
