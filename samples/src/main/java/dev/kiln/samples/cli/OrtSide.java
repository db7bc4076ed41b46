package dev.kiln.samples.cli;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.kiln.ir.DType;
import dev.kiln.runtime.NDArray;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** ONNX Runtime on the same model file and inputs, for {@code kiln bench}'s side-by-side timing and check. */
final class OrtSide implements AutoCloseable {

    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;
    private final Map<String, OnnxTensor> feed = new LinkedHashMap<>();

    OrtSide(Path model, List<NDArray> inputs, int threads) throws OrtException {
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            if (threads > 0) options.setIntraOpNumThreads(threads);
            session = env.createSession(model.toString(), options);
        }
        List<String> names = new ArrayList<>(session.getInputNames());
        if (names.size() != inputs.size()) {
            throw new CliException("bench: ONNX Runtime sees " + names.size() + " inputs " + names + ", Kiln " + inputs.size());
        }
        for (int i = 0; i < inputs.size(); i++) feed.put(names.get(i), tensor(inputs.get(i)));
    }

    /** Runs once and returns the outputs as Kiln arrays (f32/f64/ints/bool), in the model's output order. */
    List<NDArray> run() throws OrtException {
        try (OrtSession.Result result = session.run(feed)) {
            List<NDArray> out = new ArrayList<>();
            for (var e : result) {
                if (!(e.getValue() instanceof OnnxTensor t)) throw new CliException("bench: ONNX Runtime output " + e.getKey() + " is not a tensor");
                out.add(toNd(t));
            }
            return out;
        }
    }

    private OnnxTensor tensor(NDArray x) throws OrtException {
        byte[] bytes = x.contiguous().toLittleEndianBytes();
        ByteBuffer buf = ByteBuffer.allocateDirect(bytes.length).order(ByteOrder.nativeOrder());
        buf.put(bytes).flip();
        return OnnxTensor.createTensor(env, buf, x.shape(), javaType(x.dtype()));
    }

    private static OnnxJavaType javaType(DType d) {
        return switch (d) {
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
            default -> throw new CliException("bench: ONNX Runtime cannot be fed " + d + " tensors from Kiln");
        };
    }

    private static NDArray toNd(OnnxTensor t) {
        long[] shape = t.getInfo().getShape();
        DType dtype = switch (t.getInfo().type) {
            case FLOAT -> DType.F32;
            case DOUBLE -> DType.F64;
            case INT64 -> DType.I64;
            case INT32 -> DType.I32;
            case INT16 -> DType.I16;
            case INT8 -> DType.I8;
            case UINT8 -> DType.U8;
            case BOOL -> DType.BOOL;
            default -> throw new CliException("bench: ONNX Runtime output type " + t.getInfo().type + " is not compared");
        };
        ByteBuffer raw = t.getByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        NDArray out = NDArray.zeros(dtype, shape);
        MemorySegment.copy(MemorySegment.ofBuffer(raw), 0, out.segment(), 0, (long) raw.remaining());
        return out;
    }

    @Override
    public void close() throws OrtException {
        for (OnnxTensor t : feed.values()) t.close();
        session.close();
    }
}
