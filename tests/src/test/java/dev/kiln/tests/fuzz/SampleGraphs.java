package dev.kiln.tests.fuzz;

import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.AdaptiveAvgPool2d;
import dev.kiln.frontend.nn.BatchNorm2d;
import dev.kiln.frontend.nn.Conv2d;
import dev.kiln.frontend.nn.Flatten;
import dev.kiln.frontend.nn.Linear;
import dev.kiln.frontend.nn.MaxPool2d;
import dev.kiln.frontend.nn.Module;
import dev.kiln.frontend.nn.ReLU;
import dev.kiln.frontend.nn.Sequential;
import dev.kiln.ir.Dim;
import dev.kiln.ir.Graph;
import dev.kiln.ir.IrParser;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;
import dev.kiln.runtime.NDArray;
import dev.kiln.samples.models.LeNet;
import dev.kiln.samples.models.Mlp;
import dev.kiln.tracer.Kiln;
import dev.kiln.tracer.TraceOptions;
import dev.kiln.tracer.TracedFunction;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** The sample models the fuzz corpora start from (traced with Kiln), and inputs made up for any graph. */
final class SampleGraphs {

    /** Inputs with more elements than this are not made: the case is imported but not run. */
    static final long MAX_INPUT_ELEMENTS = 1 << 20;

    private SampleGraphs() {}

    /** A graph and its weights. */
    record Sample(String name, Graph graph, Map<String, NDArray> weights) {}

    /** The MLP and LeNet samples, a conv/BatchNorm/pooling net (all with a dynamic batch) and a graph of shape ops. */
    static List<Sample> all() {
        List<Sample> out = new ArrayList<>();
        out.add(trace("mlp", new Mlp(16, 8, 4), Tensor.randn(new Generator(1), 2, 16)));
        out.add(trace("lenet", new LeNet(), Tensor.randn(new Generator(2), 2, 1, 28, 28)));
        Module conv = new Sequential(new Conv2d(3, 4, 3, 1, 1), new BatchNorm2d(4), new ReLU(),
                new MaxPool2d(new int[] {2, 2}, new int[] {2, 2}, new int[] {0, 0}, new int[] {1, 1}, false),
                new AdaptiveAvgPool2d(1), new Flatten(), new Linear(4, 3));
        out.add(trace("convnet", conv, Tensor.randn(new Generator(3), 2, 3, 8, 8)));
        Graph mix = IrParser.parse("""
                graph @mix(%x: f32[N, 3, 4, 4], %y: f32[N, 2, 4, 4]) weights(@scale: f32[5, 1, 1], @w: f32[6, 80], @b: f32[6]) {
                  %0 = cat(%x, %y) {axis = 1} : f32[N, 5, 4, 4]
                  %1 = mul(%0, @scale) : f32[N, 5, 4, 4]
                  %2 = reshape(%1) {shape = [N, -1]} : f32[N, 80]
                  %3 = linear(%2, @w, @b) : f32[N, 6]
                  %4 = reshape(%3) {shape = [N, 2, 3]} : f32[N, 2, 3]
                  %5 = softmax(%4) {axis = 1} : f32[N, 2, 3]
                  return(%5, %1)
                }
                """);
        SplittableRandom r = new SplittableRandom(4);
        Map<String, NDArray> weights = new LinkedHashMap<>();
        mix.weights().forEach((name, v) -> weights.put(name, random(v.tensorType().shape().toArray(), r)));
        out.add(new Sample("mix", mix, weights));
        return out;
    }

    private static Sample trace(String name, Module model, Tensor example) {
        Generator.manualSeed(name.hashCode());
        model.eval();
        TracedFunction t = Kiln.trace(model, TraceOptions.defaults().named(name).dynamic(0, 0, "N"), example);
        return new Sample(name, t.graph(), t.weights());
    }

    private static NDArray random(long[] shape, SplittableRandom r) {
        NDArray a = NDArray.zeros(dev.kiln.ir.DType.F32, shape);
        for (long i = 0; i < a.numel(); i++) a.setFlat(i, r.nextDouble(-1, 1));
        return a;
    }

    /**
     * Inputs for {@code types}: symbolic and unknown dims are 2; floats are small multiples of 1/4, integers 0 to 2
     * (valid as most indices), booleans either. Null when an input would exceed {@link #MAX_INPUT_ELEMENTS}.
     */
    static List<NDArray> inputs(List<TensorType> types, long seed) {
        return inputs(List.of(), types, Map.of(), seed);
    }

    /**
     * Like {@link #inputs(List, long)}, but an input whose name, dtype and shape match an entry of {@code known}
     * (real test data, keyed by {@link #key}) gets that data.
     */
    static List<NDArray> inputs(List<String> names, List<TensorType> types, Map<String, NDArray> known, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<NDArray> out = new ArrayList<>();
        for (int k = 0; k < types.size(); k++) {
            TensorType t = types.get(k);
            long[] shape = new long[t.rank()];
            long n = 1;
            for (int d = 0; d < shape.length; d++) {
                Dim dim = t.shape().dims().get(d);
                shape[d] = dim.isStatic() ? dim.size() : 2;
                if (shape[d] > 0 && n > MAX_INPUT_ELEMENTS / shape[d]) return null;
                n *= shape[d];
            }
            NDArray real = k < names.size() ? known.get(key(names.get(k), t.dtype(), shape)) : null;
            if (real != null) {
                out.add(real.copy());
                continue;
            }
            NDArray a = NDArray.zeros(t.dtype(), shape);
            boolean fp = t.dtype().isFloatingPoint();
            for (long i = 0; i < n; i++) a.setFlat(i, fp ? r.nextInt(-8, 9) / 4.0 : r.nextInt(0, 3));
            out.add(a);
        }
        return out;
    }

    /** The key of a named input's data in {@link #inputs(List, List, Map, long)}'s {@code known}. */
    static String key(String name, dev.kiln.ir.DType dtype, long[] shape) {
        return name + " " + dtype.irName() + java.util.Arrays.toString(shape);
    }

    static List<TensorType> inputTypes(Graph g) {
        List<TensorType> types = new ArrayList<>();
        for (Value v : g.inputs()) types.add(v.tensorType());
        return types;
    }
}
