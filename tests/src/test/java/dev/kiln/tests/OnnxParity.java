package dev.kiln.tests;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import dev.kiln.ir.DType;
import dev.kiln.ir.Graph;
import dev.kiln.ir.ScalarType;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Type;
import dev.kiln.ir.Value;
import dev.kiln.onnx.ExportOptions;
import dev.kiln.onnx.OnnxChecker;
import dev.kiln.onnx.OnnxExporter;
import dev.kiln.onnx.proto.OnnxProtos.ModelProto;
import dev.kiln.runtime.Interpreter;
import dev.kiln.runtime.NDArray;
import dev.kiln.samples.OrtTensors;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Exports a graph, runs the official checker (full check) on it, runs it in ONNX Runtime and compares
 * every output with the Kiln reference interpreter on the same inputs and weights: dtypes and shapes
 * exactly, values within {@code |ort - kiln| <= ATOL + RTOL |kiln|} (NaN where Kiln has NaN).
 * One {@link OrtEnvironment} serves every session.
 */
final class OnnxParity {

    static final double RTOL = 1e-4, ATOL = 1e-5;

    private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

    private OnnxParity() {}

    /** A traced function's weights as arrays, keyed like its graph's weights. */
    static Map<String, NDArray> weights(dev.kiln.tracer.TracedFunction traced) {
        Map<String, NDArray> weights = new LinkedHashMap<>();
        traced.weightBuffers().forEach((k, buf) -> {
            byte[] bytes = new byte[buf.remaining()];
            buf.duplicate().get(bytes);
            weights.put(k, Interpreter.fromBytes(traced.graph().weights().get(k).tensorType(), bytes));
        });
        return weights;
    }

    /** Exports {@code g} with {@code weights} and checks it; the model is returned for further assertions. */
    static ModelProto exportChecked(Graph g, Map<String, NDArray> weights, ExportOptions options) {
        Map<String, ByteBuffer> buffers = new LinkedHashMap<>();
        weights.forEach((name, w) -> buffers.put(name, ByteBuffer.wrap(w.toLittleEndianBytes())));
        ModelProto m = OnnxExporter.export(g, buffers, options);
        OnnxChecker.check(m);
        return m;
    }

    /**
     * Runs {@code model} (exported from {@code g}) in one ORT session once per input set and compares
     * with the interpreter; {@code what} names the case in failures.
     */
    static void assertMatches(String what, Graph g, ModelProto model, Map<String, NDArray> weights, List<List<NDArray>> inputSets) {
        assertMatches(what, g, model, weights, inputSets, true);
    }

    /**
     * As above; {@code optimize = false} turns ONNX Runtime's graph rewrites off, so that the model is
     * run as exported (ORT 1.22 aborts the JVM in one of its rewrites on some random graphs).
     */
    static void assertMatches(String what, Graph g, ModelProto model, Map<String, NDArray> weights, List<List<NDArray>> inputSets,
                              boolean optimize) {
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setIntraOpNumThreads(1);
            if (!optimize) opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
            opts.setSessionLogLevel(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
            try (OrtSession session = ENV.createSession(model.toByteArray(), opts)) {
                for (List<NDArray> inputs : inputSets) {
                    List<Object> expected = Interpreter.run(g, inputs, weights);
                    List<Object> actual = run(session, model, inputs);
                    compare(what + " at input shapes " + shapes(inputs), g, expected, actual);
                }
            }
        } catch (OrtException e) {
            throw new AssertionError(what + ": ONNX Runtime failed: " + e.getMessage(), e);
        }
    }

    /** The first output of {@code model} run in ONNX Runtime on {@code inputs}, as floats. */
    static float[] runFloats(ModelProto model, NDArray... inputs) {
        try (OrtSession session = ENV.createSession(model.toByteArray(), new OrtSession.SessionOptions())) {
            return ((NDArray) run(session, model, List.of(inputs)).get(0)).toFloatArray();
        } catch (OrtException e) {
            throw new AssertionError("ONNX Runtime failed: " + e.getMessage(), e);
        }
    }

    /** {@link #exportChecked} then {@link #assertMatches}. */
    static ModelProto check(String what, Graph g, Map<String, NDArray> weights, ExportOptions options, List<List<NDArray>> inputSets) {
        ModelProto m = exportChecked(g, weights, options);
        assertMatches(what + " (opset " + options.opset() + ")", g, m, weights, inputSets);
        return m;
    }

    /** Random inputs for {@code g}: symbolic dims take {@code symbolSize}; floats are normal, integers in [0, 5), bools fair coins. */
    static List<NDArray> randomInputs(Graph g, long symbolSize, Random random) {
        List<NDArray> out = new ArrayList<>();
        for (Value in : g.inputs()) out.add(randomArray(in.tensorType(), symbolSize, random));
        return out;
    }

    static Map<String, NDArray> randomWeights(Graph g, Random random) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        g.weights().forEach((name, w) -> out.put(name, randomArray(w.tensorType(), 1, random)));
        return out;
    }

    static NDArray randomArray(TensorType type, long symbolSize, Random random) {
        long[] shape = type.shape().dims().stream().mapToLong(d -> d.isStatic() ? d.size() : symbolSize).toArray();
        NDArray a = NDArray.zeros(type.dtype(), shape);
        for (long i = 0; i < a.numel(); i++) {
            double v = type.dtype().isFloatingPoint() ? random.nextGaussian()
                    : type.dtype() == DType.BOOL ? random.nextInt(2) : random.nextInt(5);
            a.setFlat(i, v);
        }
        return a;
    }

    private static String shapes(List<NDArray> inputs) {
        return inputs.stream().map(a -> java.util.Arrays.toString(a.shape())).toList().toString();
    }

    private static List<Object> run(OrtSession session, ModelProto model, List<NDArray> inputs) throws OrtException {
        Map<String, OnnxTensor> feeds = new LinkedHashMap<>();
        try {
            for (int i = 0; i < inputs.size(); i++) {
                feeds.put(model.getGraph().getInput(i).getName(), OrtTensors.toOrt(ENV, inputs.get(i)));
            }
            try (OrtSession.Result result = session.run(feeds)) {
                List<Object> out = new ArrayList<>();
                for (int i = 0; i < result.size(); i++) out.add(OrtTensors.toKiln((OnnxTensor) result.get(i)));
                return out;
            }
        } finally {
            feeds.values().forEach(OnnxTensor::close);
        }
    }

    private static void compare(String what, Graph g, List<Object> expected, List<Object> actual) {
        assertEquals(expected.size(), actual.size(), what + ": output count");
        for (int i = 0; i < expected.size(); i++) {
            String out = what + ", output " + i;
            NDArray got = (NDArray) actual.get(i);
            Type declared = g.outputs().get(i).type();
            if (expected.get(i) instanceof NDArray want) {
                assertEquals(want.dtype(), got.dtype(), out + ": dtype");
                assertArrayEquals(want.shape(), got.shape(), out + ": shape");
                assertClose(out, want.toDoubleArray(), got.toDoubleArray());
            } else {
                assertEquals(0, got.rank(), out + ": a host scalar is a 0-d tensor");
                assertEquals(((ScalarType) declared).elementType(), got.dtype(), out + ": dtype");
                Object want = expected.get(i);
                double w = want instanceof Boolean bool ? (bool ? 1 : 0) : ((Number) want).doubleValue();
                assertClose(out, new double[] {w}, got.toDoubleArray());
            }
        }
    }

    static void assertClose(String what, double[] expected, double[] actual) {
        assertEquals(expected.length, actual.length, what + ": element count");
        for (int k = 0; k < expected.length; k++) {
            double e = expected[k], a = actual[k];
            if (Double.isNaN(e)) {
                assertTrue(Double.isNaN(a), what + ": element " + k + " is " + a + ", expected NaN");
            } else if (e != a && !(Math.abs(a - e) <= ATOL + RTOL * Math.abs(e))) {
                fail(what + ": element " + k + " is " + a + ", expected " + e + " (|diff| " + Math.abs(a - e) + ")");
            }
        }
    }
}
