package dev.kiln.samples.cli;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.kiln.runtime.NDArray;
import dev.kiln.samples.OrtTensors;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * ONNX Runtime on the same model file and inputs, for side-by-side timing and checks ({@code kiln bench}
 * and the benchmark programs): all graph optimisations on, the inputs converted once up front.
 */
public final class OrtSide implements AutoCloseable {

    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;
    private final Map<String, OnnxTensor> feed = new LinkedHashMap<>();

    /**
     * A session for {@code model} fed {@code inputs} (in the model's input order). {@code threads > 0} sets
     * ONNX Runtime's intra-op thread count to it and its inter-op count to 1 (sequential execution), and stops its
     * idle intra-op threads from spinning ({@code session.intra_op.allow_spinning=0}): benchmarks interleave the
     * engines' runs, and threads spinning after an ONNX Runtime run would hold the cores the next engine's run
     * needs (Kiln's pool workers park when idle). 0 keeps ONNX Runtime's defaults.
     */
    public OrtSide(Path model, List<NDArray> inputs, int threads) throws OrtException {
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            if (threads > 0) {
                options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
                options.setIntraOpNumThreads(threads);
                options.setInterOpNumThreads(1);
                options.addConfigEntry("session.intra_op.allow_spinning", "0");
            }
            session = env.createSession(model.toString(), options);
        }
        List<String> names = new ArrayList<>(session.getInputNames());
        if (names.size() != inputs.size()) {
            session.close();
            throw new CliException("bench: ONNX Runtime sees " + names.size() + " inputs " + names + ", Kiln " + inputs.size());
        }
        for (int i = 0; i < inputs.size(); i++) feed.put(names.get(i), OrtTensors.toOrt(env, inputs.get(i)));
    }

    /** Runs once and returns the outputs as Kiln arrays (f32/f64/ints/bool), in the model's output order. */
    public List<NDArray> run() throws OrtException {
        try (OrtSession.Result result = session.run(feed)) {
            List<NDArray> out = new ArrayList<>();
            for (var e : result) {
                if (!(e.getValue() instanceof OnnxTensor t)) throw new CliException("bench: ONNX Runtime output " + e.getKey() + " is not a tensor");
                out.add(OrtTensors.toKiln(t));
            }
            return out;
        }
    }

    /** Runs once and releases the outputs without copying them out: what a timed repetition measures. */
    public void runDiscardingOutputs() throws OrtException {
        session.run(feed).close();
    }

    @Override
    public void close() throws OrtException {
        for (OnnxTensor t : feed.values()) t.close();
        session.close();
    }
}
