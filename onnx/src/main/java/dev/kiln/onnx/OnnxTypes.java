package dev.kiln.onnx;

import com.google.protobuf.ByteString;
import dev.kiln.ir.DType;
import dev.kiln.ir.Dim;
import dev.kiln.ir.ScalarType;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Type;
import dev.kiln.onnx.proto.OnnxProtos.TensorProto;
import dev.kiln.onnx.proto.OnnxProtos.TensorShapeProto;
import dev.kiln.onnx.proto.OnnxProtos.TypeProto;
import dev.kiln.onnx.proto.OnnxProtos.ValueInfoProto;

/**
 * Kiln types as ONNX protos: dtypes to {@code TensorProto.DataType}, tensor and host-scalar types to
 * {@code TypeProto} (host scalars are 0-d tensors of int64/double/bool), and raw-data tensors.
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
            case BOOL -> TensorProto.DataType.BOOL;
        };
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

    /** A tensor of a static-shaped type holding {@code data}, little-endian row-major bytes. */
    static TensorProto tensor(String name, TensorType type, ByteString data) {
        TensorProto.Builder b = TensorProto.newBuilder().setDataType(elemType(type.dtype()).getNumber()).setRawData(data);
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
