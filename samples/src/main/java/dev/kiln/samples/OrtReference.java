package dev.kiln.samples;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.kiln.frontend.Tensor;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs an ONNX file in ONNX Runtime, the independent reference Kiln's exports are checked against.
 * f32 inputs and outputs, fed and read in the session's input/output order.
 */
public final class OrtReference implements AutoCloseable {

    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;

    public OrtReference(Path model) throws OrtException {
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            session = env.createSession(model.toString(), options);
        }
    }

    /** Runs the model on f32 tensors; returns each output's values in row-major order. */
    public List<float[]> run(Tensor... inputs) throws OrtException {
        List<String> names = new ArrayList<>(session.getInputNames());
        if (names.size() != inputs.length) {
            throw new IllegalArgumentException("model takes " + names.size() + " inputs " + names + ", got " + inputs.length);
        }
        Map<String, OnnxTensor> feed = new LinkedHashMap<>();
        try {
            for (int i = 0; i < inputs.length; i++) {
                feed.put(names.get(i), OnnxTensor.createTensor(env, FloatBuffer.wrap(inputs[i].toFloatArray()), inputs[i].shape()));
            }
            try (OrtSession.Result result = session.run(feed)) {
                List<float[]> out = new ArrayList<>();
                for (Map.Entry<String, OnnxValue> e : result) {
                    FloatBuffer fb = ((OnnxTensor) e.getValue()).getFloatBuffer();
                    float[] values = new float[fb.remaining()];
                    fb.get(values);
                    out.add(values);
                }
                return out;
            }
        } finally {
            feed.values().forEach(OnnxTensor::close);
        }
    }

    @Override
    public void close() throws OrtException { session.close(); }

    /** Largest absolute elementwise difference; arrays of different lengths are an error. */
    public static double maxAbsDiff(float[] a, float[] b) {
        if (a.length != b.length) throw new IllegalArgumentException("lengths differ: " + a.length + " vs " + b.length);
        double max = 0;
        for (int i = 0; i < a.length; i++) max = Math.max(max, Math.abs((double) a[i] - b[i]));
        return max;
    }
}
