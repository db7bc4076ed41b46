package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;
import dev.kiln.runtime.Interpreter;
import dev.kiln.runtime.NDArray;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Shared helpers of the pass tests (and, through the passes test-jar, of codegen's): random inputs and weights for a graph, and comparing outputs within f32 tolerance. */
public final class GraphTesting {

    public static final double RTOL = 1e-4, ATOL = 1e-5;

    private GraphTesting() {}

    public static NDArray randomArray(TensorType type, long symbolicSize, Random random) {
        long[] shape = type.shape().dims().stream().mapToLong(d -> d.isStatic() ? d.size() : symbolicSize).toArray();
        NDArray a = NDArray.zeros(type.dtype(), shape);
        for (long i = 0; i < a.numel(); i++) a.setFlat(i, random.nextGaussian());
        return a;
    }

    public static List<Object> randomInputs(Graph g, long batch, Random random) {
        List<Object> inputs = new ArrayList<>();
        for (Value in : g.inputs()) inputs.add(randomArray(in.tensorType(), batch, random));
        return inputs;
    }

    public static Map<String, NDArray> randomWeights(Graph g, long batch, Random random) {
        Map<String, NDArray> weights = new LinkedHashMap<>();
        g.weights().forEach((name, w) -> weights.put(name, randomArray(w.tensorType(), batch, random)));
        return weights;
    }

    /**
     * Runs both graphs on the same random inputs and weights (seeded by {@code seed}, symbolic dims 1-3)
     * and requires identical outputs: same dtype, shape and values, bit for bit, except that +0 and -0
     * compare equal unless {@code signedZerosMatter}.
     */
    public static void assertSameResults(long seed, Graph original, Graph optimised, boolean signedZerosMatter) {
        Random random = new Random(seed);
        long batch = 1 + random.nextInt(3);
        List<Object> inputs = randomInputs(original, batch, random);
        Map<String, NDArray> weights = randomWeights(original, batch, random);
        assertSameOutputs(Interpreter.run(original, inputs, weights), Interpreter.run(optimised, inputs, weights), signedZerosMatter);
    }

    /**
     * Identical outputs: same dtype, shape and values, bit for bit (NaN equals NaN), except that +0 and
     * -0 compare equal unless {@code signedZerosMatter}; scalars equal.
     */
    public static void assertSameOutputs(List<Object> before, List<Object> after, boolean signedZerosMatter) {
        assertEquals(before.size(), after.size());
        for (int i = 0; i < before.size(); i++) {
            if (before.get(i) instanceof NDArray a) {
                NDArray b = (NDArray) after.get(i);
                assertEquals(a.dtype(), b.dtype(), "dtype of output " + i);
                assertArrayEquals(a.shape(), b.shape(), "shape of output " + i);
                double[] x = a.toDoubleArray(), y = b.toDoubleArray();
                if (!signedZerosMatter) {
                    for (int k = 0; k < x.length; k++) {
                        if (x[k] == 0 && y[k] == 0) x[k] = y[k] = 0.0;
                    }
                }
                assertArrayEquals(x, y, "output " + i);
            } else {
                assertEquals(before.get(i), after.get(i), "scalar output " + i);
            }
        }
    }

    /** Equal outputs: scalars exactly, tensors by shape and |a - b| <= ATOL + RTOL |a| (NaNs must match). */
    public static void assertClose(List<Object> before, List<Object> after) {
        assertEquals(before.size(), after.size());
        for (int i = 0; i < before.size(); i++) {
            if (before.get(i) instanceof NDArray a) {
                NDArray b = (NDArray) after.get(i);
                assertArrayEquals(a.shape(), b.shape(), "shape of output " + i);
                assertEquals(a.dtype(), b.dtype());
                double[] x = a.toDoubleArray(), y = b.toDoubleArray();
                for (int k = 0; k < x.length; k++) {
                    boolean ok = Double.isNaN(x[k]) ? Double.isNaN(y[k])
                            : x[k] == y[k] || Math.abs(x[k] - y[k]) <= ATOL + RTOL * Math.abs(x[k]);
                    int kk = k, ii = i;
                    assertTrue(ok, () -> "output " + ii + " element " + kk + ": " + x[kk] + " vs " + y[kk]);
                }
            } else {
                assertEquals(before.get(i), after.get(i), "scalar output " + i);
            }
        }
    }
}
