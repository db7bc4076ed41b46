package dev.kiln.onnx;

import com.google.protobuf.ByteString;
import dev.kiln.ir.DType;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;
import dev.kiln.onnx.proto.OnnxProtos.TensorProto;
import dev.kiln.runtime.Interpreter;
import dev.kiln.runtime.NDArray;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

/**
 * ONNX {@code TensorProto}s as Kiln {@link NDArray}s and back. Data comes from {@code raw_data}
 * (little-endian), from the typed repeated fields, or from external files ({@link ExternalData});
 * sizes are checked against the dims before anything is allocated.
 */
public final class OnnxTensors {

    /** The largest tensor import will allocate, in bytes. */
    static final long MAX_BYTES = 1L << 34;

    private OnnxTensors() {}

    /** The Kiln dtype of ONNX element type {@code elemType}; unsupported types name {@code what}. */
    public static DType dtype(int elemType, String what) {
        return OnnxTypes.dtypeOf(elemType, what);
    }

    /** Reads a serialized TensorProto file (as the ONNX test data sets store inputs and outputs). */
    public static NDArray read(Path file) {
        byte[] bytes;
        try {
            bytes = java.nio.file.Files.readAllBytes(file);
        } catch (java.io.IOException e) {
            throw new OnnxImportException("cannot read tensor file " + file + ": " + e.getMessage(), e);
        }
        TensorProto t;
        try {
            t = TensorProto.parseFrom(bytes);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new OnnxImportException(file + " is not a serialized TensorProto: " + e.getMessage(), e);
        }
        return toArray(t, file.getParent());
    }

    /** The tensor's data as a new array; {@code baseDir} resolves external data. */
    public static NDArray toArray(TensorProto t, Path baseDir) {
        String what = "tensor '" + t.getName() + "'";
        DType dtype = dtype(t.getDataType(), what);
        long[] shape = new long[t.getDimsCount()];
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
            shape[i] = t.getDims(i);
            if (shape[i] < 0) throw new OnnxImportException(what + ": dim " + i + " is negative (" + shape[i] + ")");
            numel = Math.multiplyExact(numel, shape[i]);
        }
        long bytes = Math.multiplyExact(numel, (long) dtype.byteSize());
        if (bytes > MAX_BYTES) throw new OnnxImportException(what + ": " + bytes + " bytes is more than import allows (" + MAX_BYTES + ")");
        TensorType type = new TensorType(dtype, Shape.of(shape));
        long stored = OnnxTypes.packedSize(dtype, numel);
        if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
            MemorySegment seg = ExternalData.read(t, baseDir, stored);
            if (dtype.codecBits() < 8) {
                return Interpreter.fromBytes(type, OnnxTypes.unpackSubByte(dtype, seg.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), numel, what));
            }
            NDArray out = NDArray.zeros(dtype, shape);
            MemorySegment.copy(seg, 0, out.segment(), 0, bytes);
            return out;
        }
        if (t.hasRawData()) {
            ByteString raw = t.getRawData();
            if (raw.size() != stored) {
                throw new OnnxImportException(what + ": raw_data has " + raw.size() + " bytes but " + dtype + " "
                        + java.util.Arrays.toString(shape) + " needs " + stored);
            }
            return Interpreter.fromBytes(type, OnnxTypes.unpackSubByte(dtype, raw.toByteArray(), numel, what));
        }
        int n = Math.toIntExact(numel);
        if (dtype.codecBits() < 8) {
            // int32_data holds one packed byte per entry
            int packed = Math.toIntExact(stored);
            count(what, "int32_data", t.getInt32DataCount(), packed);
            byte[] b = new byte[packed];
            for (int i = 0; i < packed; i++) b[i] = (byte) t.getInt32Data(i);
            return Interpreter.fromBytes(type, OnnxTypes.unpackSubByte(dtype, b, numel, what));
        }
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(bytes)).order(ByteOrder.LITTLE_ENDIAN);
        switch (dtype) {
            case F32 -> {
                count(what, "float_data", t.getFloatDataCount(), n);
                for (int i = 0; i < n; i++) b.putFloat(t.getFloatData(i));
            }
            case F64 -> {
                count(what, "double_data", t.getDoubleDataCount(), n);
                for (int i = 0; i < n; i++) b.putDouble(t.getDoubleData(i));
            }
            case I64 -> {
                count(what, "int64_data", t.getInt64DataCount(), n);
                for (int i = 0; i < n; i++) b.putLong(t.getInt64Data(i));
            }
            case U64 -> {
                count(what, "uint64_data", t.getUint64DataCount(), n);
                for (int i = 0; i < n; i++) b.putLong(t.getUint64Data(i));
            }
            case U32 -> {
                count(what, "uint64_data", t.getUint64DataCount(), n);
                for (int i = 0; i < n; i++) b.putInt((int) t.getUint64Data(i));
            }
            case I32 -> {
                count(what, "int32_data", t.getInt32DataCount(), n);
                for (int i = 0; i < n; i++) b.putInt(t.getInt32Data(i));
            }
            default -> {
                // 16-bit and 8-bit dtypes (float8 codes included): one element per int32_data entry
                count(what, "int32_data", t.getInt32DataCount(), n);
                for (int i = 0; i < n; i++) {
                    if (dtype.byteSize() == 2) b.putShort((short) t.getInt32Data(i));
                    else b.put((byte) t.getInt32Data(i));
                }
            }
        }
        return Interpreter.fromBytes(type, b.array());
    }

    private static void count(String what, String field, int have, int numel) {
        if (have != numel) {
            throw new OnnxImportException(what + ": " + field + " has " + have + " elements but the dims give " + numel);
        }
    }

    /** {@code a} as a TensorProto with raw_data (little-endian, row-major). */
    public static TensorProto fromArray(String name, NDArray a) {
        return OnnxTypes.tensor(name, TensorType.of(a.dtype(), a.shape()), ByteString.copyFrom(a.toLittleEndianBytes()));
    }
}
