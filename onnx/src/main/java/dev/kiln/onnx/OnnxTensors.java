package dev.kiln.onnx;

import com.google.protobuf.ByteString;
import dev.kiln.ir.DType;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;
import dev.kiln.onnx.proto.OnnxProtos.TensorProto;
import dev.kiln.runtime.Interpreter;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.TensorLimits;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

/**
 * ONNX {@code TensorProto}s as Kiln {@link NDArray}s and back. Data comes from {@code raw_data}
 * (little-endian), from the typed repeated fields, or from external files ({@link ExternalData});
 * sizes are computed with checked arithmetic and checked against the data that backs them before
 * anything is allocated.
 */
public final class OnnxTensors {

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

    /**
     * The tensor's data as a new array; {@code baseDir} resolves external data. Tensors larger than the
     * process-wide {@link TensorLimits#maxTensorBytes()} are refused.
     */
    public static NDArray toArray(TensorProto t, Path baseDir) { return toArray(t, baseDir, TensorLimits.maxTensorBytes()); }

    /**
     * The tensor's data as a new array, at most {@code maxBytes} bytes. The declared size is computed with
     * checked arithmetic and compared with the bytes or elements that actually back it (raw_data, the typed
     * field, the external file) before any buffer is made, so a small file cannot make the importer allocate
     * a large one.
     */
    static NDArray toArray(TensorProto t, Path baseDir, long maxBytes) {
        String what = "tensor '" + t.getName() + "'";
        DType dtype = dtype(t.getDataType(), what);
        long[] shape = new long[t.getDimsCount()];
        for (int i = 0; i < shape.length; i++) shape[i] = t.getDims(i);
        long bytes = TensorLimits.checkedBytes(dtype, shape, maxBytes, "ImportOptions.withMaxTensorBytes raises it",
                problem -> new OnnxImportException(what + ": " + problem));
        long numel = Shape.of(shape).numel();
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
        if (dtype.codecBits() < 8) {
            // int32_data holds one packed byte per entry
            int packed = count(what, "int32_data", t.getInt32DataCount(), stored);
            byte[] b = new byte[packed];
            for (int i = 0; i < packed; i++) b[i] = (byte) t.getInt32Data(i);
            return Interpreter.fromBytes(type, OnnxTypes.unpackSubByte(dtype, b, numel, what));
        }
        // every typed field is checked against the element count before the buffer is allocated
        int n = switch (dtype) {
            case F32 -> count(what, "float_data", t.getFloatDataCount(), numel);
            case F64 -> count(what, "double_data", t.getDoubleDataCount(), numel);
            case I64 -> count(what, "int64_data", t.getInt64DataCount(), numel);
            case U64, U32 -> count(what, "uint64_data", t.getUint64DataCount(), numel);
            default -> count(what, "int32_data", t.getInt32DataCount(), numel);
        };
        if (bytes > Integer.MAX_VALUE - 8) {
            throw new OnnxImportException(what + ": " + bytes + " bytes of typed-field data is more than one buffer holds; store it as raw_data or external data");
        }
        ByteBuffer b = ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
        switch (dtype) {
            case F32 -> { for (int i = 0; i < n; i++) b.putFloat(t.getFloatData(i)); }
            case F64 -> { for (int i = 0; i < n; i++) b.putDouble(t.getDoubleData(i)); }
            case I64 -> { for (int i = 0; i < n; i++) b.putLong(t.getInt64Data(i)); }
            case U64 -> { for (int i = 0; i < n; i++) b.putLong(t.getUint64Data(i)); }
            case U32 -> { for (int i = 0; i < n; i++) b.putInt((int) t.getUint64Data(i)); }
            case I32 -> { for (int i = 0; i < n; i++) b.putInt(t.getInt32Data(i)); }
            default -> {
                // 16-bit and 8-bit dtypes (float8 codes included): one element per int32_data entry
                for (int i = 0; i < n; i++) {
                    if (dtype.byteSize() == 2) b.putShort((short) t.getInt32Data(i));
                    else b.put((byte) t.getInt32Data(i));
                }
            }
        }
        return Interpreter.fromBytes(type, b.array());
    }

    /** The typed field's entry count, which must equal the {@code expected} count the dims give. */
    private static int count(String what, String field, int have, long expected) {
        if (have != expected) {
            throw new OnnxImportException(what + ": " + field + " has " + have + " elements but the dims give " + expected);
        }
        return have;
    }

    /** {@code a} as a TensorProto with raw_data (little-endian, row-major). */
    public static TensorProto fromArray(String name, NDArray a) {
        return OnnxTypes.tensor(name, TensorType.of(a.dtype(), a.shape()), ByteString.copyFrom(a.toLittleEndianBytes()));
    }
}
