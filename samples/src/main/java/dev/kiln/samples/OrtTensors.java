package dev.kiln.samples;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.TensorInfo;
import dev.kiln.ir.DType;
import dev.kiln.ir.TensorType;
import dev.kiln.onnx.OnnxTensors;
import dev.kiln.onnx.proto.OnnxProtos.TensorProto;
import dev.kiln.runtime.Interpreter;
import dev.kiln.runtime.NDArray;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Kiln arrays to ONNX Runtime tensors and back, byte for byte, for the comparisons against ONNX
 * Runtime (the {@code kiln bench} command and the cross-module tests).
 */
public final class OrtTensors {

    private OrtTensors() {}

    /** An ONNX Runtime tensor holding a copy of {@code x}; the caller closes it. */
    public static OnnxTensor toOrt(OrtEnvironment env, NDArray x) throws OrtException {
        byte[] bytes = x.contiguous().toLittleEndianBytes();
        ByteBuffer buf = ByteBuffer.allocateDirect(bytes.length).order(ByteOrder.nativeOrder());
        buf.put(bytes).flip();
        return OnnxTensor.createTensor(env, buf, x.shape(), javaType(x.dtype()));
    }

    /** A Kiln array with {@code t}'s ONNX element type (not its Java type, which has no unsigned types past uint8). */
    public static NDArray toKiln(OnnxTensor t) {
        TensorInfo info = t.getInfo();
        String name = info.onnxType.name().substring("ONNX_TENSOR_ELEMENT_DATA_TYPE_".length());
        DType dtype = OnnxTensors.dtype(TensorProto.DataType.valueOf(name).getNumber(), "ONNX Runtime output");
        if (dtype.codecBits() < 8) throw new IllegalArgumentException("ONNX Runtime returned a packed " + dtype + " tensor; Kiln does not read those from it");
        ByteBuffer b = t.getByteBuffer();
        byte[] bytes = new byte[b.remaining()];
        b.get(bytes);
        return Interpreter.fromBytes(TensorType.of(dtype, info.getShape()), bytes);
    }

    private static OnnxJavaType javaType(DType dtype) {
        return switch (dtype) {
            case F32 -> OnnxJavaType.FLOAT;
            case F64 -> OnnxJavaType.DOUBLE;
            case F16 -> OnnxJavaType.FLOAT16;
            case BF16 -> OnnxJavaType.BFLOAT16;
            case I64 -> OnnxJavaType.INT64;
            case I32 -> OnnxJavaType.INT32;
            case I16 -> OnnxJavaType.INT16;
            case I8 -> OnnxJavaType.INT8;
            case U8 -> OnnxJavaType.UINT8;
            case BOOL -> OnnxJavaType.BOOL;
            default -> throw new IllegalArgumentException("ONNX Runtime's Java API cannot be fed " + dtype + " tensors");
        };
    }
}
