package dev.kiln.onnx.netdef;

import com.google.protobuf.ByteString;
import dev.kiln.ir.DType;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;
import dev.kiln.onnx.caffe2.proto.Caffe2Protos.Argument;
import dev.kiln.onnx.caffe2.proto.Caffe2Protos.OperatorDef;
import dev.kiln.onnx.caffe2.proto.Caffe2Protos.TensorProto.DataType;
import dev.kiln.runtime.TensorLimits;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;

/**
 * Kiln dtypes as Caffe2 data types, and tensors as Caffe2 fill ops: {@code GivenTensor*Fill} with
 * {@code shape} and {@code values} arguments one way, those and {@code ConstantFill} back to
 * little-endian element bytes the other.
 */
final class Fills {

    private Fills() {}

    /** The given-values fill op of each dtype Caffe2 has one for. */
    private static final Map<DType, String> FILL_OPS = Map.of(
            DType.F32, "GivenTensorFill",
            DType.F64, "GivenTensorDoubleFill",
            DType.I64, "GivenTensorInt64Fill",
            DType.I32, "GivenTensorIntFill",
            DType.I16, "GivenTensorInt16Fill",
            DType.BOOL, "GivenTensorBoolFill",
            DType.U8, "GivenTensorByteStringToUInt8Fill");

    /** The dtypes GivenTensorFill's {@code dtype} argument may select. */
    private static final Set<DType> GIVEN_TENSOR_FILL_DTYPES =
            Set.of(DType.F32, DType.F64, DType.BOOL, DType.I16, DType.I32, DType.I64);

    /** Whether {@code opType} is one of the fill ops {@link #decode} reads. */
    static boolean isFill(String opType) { return FILL_OPS.containsValue(opType) || opType.equals("ConstantFill"); }

    /** The Caffe2 data type of a Kiln dtype (Caffe2 has no bfloat16). */
    static DataType dataType(DType dtype) {
        return switch (dtype) {
            case F32 -> DataType.FLOAT;
            case F64 -> DataType.DOUBLE;
            case F16 -> DataType.FLOAT16;
            case I64 -> DataType.INT64;
            case I32 -> DataType.INT32;
            case I16 -> DataType.INT16;
            case I8 -> DataType.INT8;
            case U8 -> DataType.UINT8;
            case BOOL -> DataType.BOOL;
            case BF16 -> throw new NetDefException("Caffe2 has no bfloat16 data type; cast bf16 tensors to f32 first");
            default -> throw new NetDefException("Caffe2 has no " + dtype + " data type; cast " + dtype + " tensors to f32 first");
        };
    }

    /** The Kiln dtype of a Caffe2 data type number, or null for types Kiln lacks (strings, uint16, ...). */
    static DType dtype(long dataType) {
        DataType t = DataType.forNumber((int) dataType);
        if (t == null || dataType != (int) dataType) return null;
        return switch (t) {
            case FLOAT -> DType.F32;
            case DOUBLE -> DType.F64;
            case FLOAT16 -> DType.F16;
            case INT64 -> DType.I64;
            case INT32 -> DType.I32;
            case INT16 -> DType.I16;
            case INT8 -> DType.I8;
            case UINT8 -> DType.U8;
            case BOOL -> DType.BOOL;
            default -> null;
        };
    }

    /**
     * The fill op writing {@code data} (little-endian, row-major elements of {@code type}) to blob
     * {@code output}. {@code what} names the tensor in errors.
     */
    static OperatorDef fill(String output, TensorType type, ByteBuffer data, String what) {
        String opType = FILL_OPS.get(type.dtype());
        if (opType == null) {
            throw new NetDefException(what + " is " + type + ", but Caffe2 has no fill op for " + type.dtype()
                    + " (it has " + FILL_OPS.keySet().stream().map(DType::irName).sorted().toList() + "); cast it first");
        }
        if (!type.shape().isStatic()) throw new NetDefException(what + " has non-static type " + type + "; a fill op needs a static shape");
        ByteBuffer b = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        long n = type.shape().numel();
        Argument.Builder values = Argument.newBuilder().setName("values");
        for (long i = 0; i < n; i++) {
            switch (type.dtype()) {
                case F32 -> values.addFloats(b.getFloat());
                case F64 -> {
                    double v = b.getDouble();
                    if (Double.compare((float) v, v) != 0) {
                        throw new NetDefException(what + " " + type + " holds " + v + " (element " + i + "), which float32 cannot"
                                + " hold exactly; Caffe2's GivenTensorDoubleFill stores its values as float32, so round or cast"
                                + " the tensor to f32 first");
                    }
                    values.addFloats((float) v);
                }
                case I64 -> values.addInts(b.getLong());
                case I32 -> values.addInts(b.getInt());
                case I16 -> values.addInts(b.getShort());
                case BOOL -> values.addInts(b.get() != 0 ? 1 : 0);
                case U8 -> { } // one byte string below
                default -> throw new IllegalStateException(type.dtype().toString());
            }
        }
        if (type.dtype() == DType.U8) {
            byte[] bytes = new byte[Math.toIntExact(n)];
            b.get(bytes);
            values.addStrings(ByteString.copyFrom(bytes));
        }
        return OperatorDef.newBuilder().setType(opType).addOutput(output)
                .addArg(Args.ints("shape", type.shape().toArray())).addArg(values).build();
    }

    /** The most bytes one fill may hold: fills decode into one Java array. */
    static final long MAX_FILL_BYTES = Integer.MAX_VALUE - 8;

    /** A decoded fill: the tensor's type and its little-endian element bytes. */
    record Tensor(TensorType type, byte[] data) {}

    /** Reads a {@code GivenTensor*Fill} or {@code ConstantFill} op (no inputs, one output). */
    static Tensor decode(OperatorDef op, Args.Reader args) {
        if (op.getInputCount() > 0 || args.has("input_as_shape") && args.i("input_as_shape", 0) != 0) {
            throw args.error("fills whose shape comes from an input are not supported; give the shape as the 'shape' argument");
        }
        if (args.has("extra_shape")) throw args.error("the 'extra_shape' argument is not supported; give the whole shape as 'shape'");
        long[] shape = args.ints("shape");
        if (shape == null) shape = new long[0];
        DType dtype = fillDType(op.getType(), args);
        // checked arithmetic: a shape whose element count or byte size overflows, or exceeds the tensor size
        // limit, is an error naming the fill, never a wrapped count
        long bytes = TensorLimits.checkedBytes(dtype, shape, Math.min(TensorLimits.maxTensorBytes(), MAX_FILL_BYTES),
                "system property " + TensorLimits.PROPERTY + " raises it, up to " + MAX_FILL_BYTES + " bytes per fill",
                problem -> args.error("shape " + problem));
        long n = bytes / dtype.byteSize();
        TensorType type = new TensorType(dtype, Shape.of(shape));
        if (op.getType().equals("ConstantFill")) {
            ByteBuffer out = ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
            Argument v = args.raw("value");
            double value = v == null ? 0 : v.hasI() ? v.getI() : args.f("value", 0);
            long exact = v != null && v.hasI() ? v.getI() : (long) value;
            for (long i = 0; i < n; i++) put(out, dtype, exact, value);
            return new Tensor(type, out.array());
        }
        Argument values = args.raw("values");
        if (values == null) throw args.error("the 'values' argument is missing");
        if (dtype == DType.U8) {
            if (values.getStringsCount() != 1 || values.getStrings(0).size() != n) {
                throw args.error("'values' must be one byte string of " + n + " bytes for shape " + Arrays.toString(shape));
            }
            return new Tensor(type, values.getStrings(0).toByteArray());
        }
        boolean floats = dtype.isFloatingPoint();
        int count = floats ? values.getFloatsCount() : values.getIntsCount();
        if (count != n) {
            throw args.error("'values' has " + count + (floats ? " floats" : " ints") + " but shape " + Arrays.toString(shape)
                    + " needs " + n);
        }
        // the buffer is made only once the values that back it are known to be there
        ByteBuffer out = ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            if (floats) {
                put(out, dtype, 0, values.getFloats(i));
                continue;
            }
            long v = values.getInts(i);
            long bits = dtype.byteSize() * 8L;
            if (dtype != DType.BOOL && bits < 64 && (v < -(1L << (bits - 1)) || v >= (1L << (bits - 1)))) {
                throw args.error("value " + v + " (element " + i + ") does not fit in " + dtype);
            }
            put(out, dtype, v, v);
        }
        return new Tensor(type, out.array());
    }

    private static DType fillDType(String opType, Args.Reader args) {
        if (opType.equals("ConstantFill") || opType.equals("GivenTensorFill") && args.has("dtype")) {
            long code = args.i("dtype", DataType.FLOAT_VALUE);
            DType d = dtype(code);
            if (d == null || d == DType.F16 || opType.equals("GivenTensorFill") && !GIVEN_TENSOR_FILL_DTYPES.contains(d)) {
                throw args.error("dtype " + code + " (" + DataType.forNumber((int) code) + ") is not supported for " + opType);
            }
            return d;
        }
        return FILL_OPS.entrySet().stream().filter(e -> e.getValue().equals(opType)).map(Map.Entry::getKey).findFirst()
                .orElseThrow(() -> args.error("'" + opType + "' is not a fill op"));
    }

    /** Appends one element: integers from {@code exact}, floating point from {@code value}. */
    private static void put(ByteBuffer out, DType dtype, long exact, double value) {
        switch (dtype) {
            case F32 -> out.putFloat((float) value);
            case F64 -> out.putDouble(value);
            case F16 -> out.putShort(Float.floatToFloat16((float) value));
            case I64 -> out.putLong(exact);
            case I32 -> out.putInt((int) exact);
            case I16 -> out.putShort((short) exact);
            case I8, U8 -> out.put((byte) exact);
            case BOOL -> out.put((byte) (exact != 0 ? 1 : 0));
            case BF16 -> throw new IllegalStateException("no bf16 fills");
        }
    }
}
