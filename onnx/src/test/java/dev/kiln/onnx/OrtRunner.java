package dev.kiln.onnx;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.kiln.ir.DType;
import dev.kiln.onnx.proto.OnnxProtos.ModelProto;

import java.nio.ByteBuffer;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Runs an exported model in ONNX Runtime with {@link Nd} inputs, returning the outputs by name in graph order. */
final class OrtRunner {

    private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

    private OrtRunner() {}

    static Map<String, Nd> run(ModelProto model, Map<String, Nd> inputs) {
        List<OnnxTensor> fed = new ArrayList<>();
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setIntraOpNumThreads(1);
            try (OrtSession session = ENV.createSession(model.toByteArray(), opts)) {
                Map<String, OnnxTensor> feeds = new LinkedHashMap<>();
                inputs.forEach((name, nd) -> {
                    OnnxTensor t = tensor(nd);
                    fed.add(t);
                    feeds.put(name, t);
                });
                try (OrtSession.Result result = session.run(feeds)) {
                    Map<String, Nd> out = new LinkedHashMap<>();
                    for (var o : model.getGraph().getOutputList()) {
                        OnnxValue v = result.get(o.getName()).orElseThrow(() -> new AssertionError("no output " + o.getName()));
                        out.put(o.getName(), read((OnnxTensor) v));
                    }
                    return out;
                }
            }
        } catch (OrtException e) {
            throw new AssertionError("ONNX Runtime failed: " + e.getMessage(), e);
        } finally {
            fed.forEach(OnnxTensor::close);
        }
    }

    /** The single output of a one-output model. */
    static Nd runOne(ModelProto model, Map<String, Nd> inputs) {
        Map<String, Nd> out = run(model, inputs);
        if (out.size() != 1) throw new AssertionError("expected one output, got " + out.keySet());
        return out.values().iterator().next();
    }

    private static OnnxTensor tensor(Nd nd) {
        try {
            double[] v = nd.values();
            return switch (nd.dtype()) {
                case F32 -> {
                    float[] f = new float[v.length];
                    for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
                    yield OnnxTensor.createTensor(ENV, FloatBuffer.wrap(f), nd.shape());
                }
                case F64 -> OnnxTensor.createTensor(ENV, DoubleBuffer.wrap(v.clone()), nd.shape());
                case I64 -> {
                    long[] l = new long[v.length];
                    for (int i = 0; i < v.length; i++) l[i] = (long) v[i];
                    yield OnnxTensor.createTensor(ENV, LongBuffer.wrap(l), nd.shape());
                }
                case I32 -> {
                    int[] n = new int[v.length];
                    for (int i = 0; i < v.length; i++) n[i] = (int) v[i];
                    yield OnnxTensor.createTensor(ENV, IntBuffer.wrap(n), nd.shape());
                }
                case BOOL -> {
                    ByteBuffer b = ByteBuffer.allocateDirect(v.length);
                    for (double x : v) b.put((byte) (x != 0 ? 1 : 0));
                    yield OnnxTensor.createTensor(ENV, b.flip(), nd.shape(), OnnxJavaType.BOOL);
                }
                default -> throw new IllegalArgumentException("tests do not feed " + nd.dtype());
            };
        } catch (OrtException e) {
            throw new AssertionError(e);
        }
    }

    private static Nd read(OnnxTensor t) {
        TensorInfo info = t.getInfo();
        long[] shape = info.getShape();
        int n = (int) Nd.count(shape);
        double[] v = new double[n];
        DType dtype;
        switch (info.type) {
            case FLOAT -> { FloatBuffer b = t.getFloatBuffer(); for (int i = 0; i < n; i++) v[i] = b.get(i); dtype = DType.F32; }
            case DOUBLE -> { DoubleBuffer b = t.getDoubleBuffer(); for (int i = 0; i < n; i++) v[i] = b.get(i); dtype = DType.F64; }
            case INT64 -> { LongBuffer b = t.getLongBuffer(); for (int i = 0; i < n; i++) v[i] = b.get(i); dtype = DType.I64; }
            case INT32 -> { IntBuffer b = t.getIntBuffer(); for (int i = 0; i < n; i++) v[i] = b.get(i); dtype = DType.I32; }
            case BOOL -> { ByteBuffer b = t.getByteBuffer(); for (int i = 0; i < n; i++) v[i] = b.get(i) != 0 ? 1 : 0; dtype = DType.BOOL; }
            default -> throw new AssertionError("tests do not read " + info.type);
        }
        return new Nd(dtype, shape, v);
    }
}
