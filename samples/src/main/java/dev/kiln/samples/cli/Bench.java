package dev.kiln.samples.cli;

import dev.kiln.ir.Graph;
import dev.kiln.codegen.PlannedExecutable;
import dev.kiln.passes.Optimize;
import dev.kiln.runtime.Interpreter;
import dev.kiln.runtime.NDArray;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * {@code kiln bench}: Kiln's interpreter on the imported graph (O0), on the O2-optimised graph, the
 * O2 graph run inside its planned memory arena, and ONNX Runtime (all graph optimisations on) on the same file and inputs, repetitions interleaved so
 * that machine noise hits all alike. Reports min/median latency, the ratios to ONNX Runtime,
 * and the largest difference between Kiln's and ONNX Runtime's outputs.
 */
final class Bench {

    private final PrintStream out;
    private final Path file;
    private final List<NDArray> inputs;
    private final Graph o0;
    private final Map<String, NDArray> o0Weights;
    private final Graph o2;
    private final Map<String, NDArray> o2Weights;
    private final PlannedExecutable planned;
    private final int threads;

    Bench(PrintStream out, Path file, List<NDArray> inputs, Graph o0, Map<String, NDArray> o0Weights,
          Optimize.Result optimized, int threads) {
        this.out = out;
        this.file = file;
        this.inputs = inputs;
        this.o0 = o0;
        this.o0Weights = o0Weights;
        this.o2 = optimized.graph();
        this.o2Weights = optimized.weights();
        this.planned = PlannedExecutable.of(optimized);
        this.threads = threads;
    }

    void run(int warmup, int reps) throws Exception {
        try (OrtSide ort = new OrtSide(file, inputs, threads)) {
            List<NDArray> kilnOut = Interpreter.runTensors(o2, inputs, o2Weights);
            List<NDArray> ortOut = ort.run();
            double diff = maxAbsDiff(kilnOut, ortOut);
            diff = Math.max(diff, maxAbsDiff(planned.runTensors(inputs, o2Weights), ortOut));
            for (int i = 0; i < warmup; i++) {
                Interpreter.runTensors(o0, inputs, o0Weights);
                Interpreter.runTensors(o2, inputs, o2Weights);
                planned.runTensors(inputs, o2Weights);
                ort.run();
            }
            long[] t0 = new long[reps], t2 = new long[reps], tPlanned = new long[reps], tOrt = new long[reps];
            for (int r = 0; r < reps; r++) {
                long a = System.nanoTime();
                Interpreter.runTensors(o0, inputs, o0Weights);
                long b = System.nanoTime();
                Interpreter.runTensors(o2, inputs, o2Weights);
                long c = System.nanoTime();
                planned.runTensors(inputs, o2Weights);
                long d = System.nanoTime();
                ort.run();
                long e = System.nanoTime();
                t0[r] = b - a;
                t2[r] = c - b;
                tPlanned[r] = d - c;
                tOrt[r] = e - d;
            }
            out.printf("bench %s: inputs %s; %d warm-up + %d interleaved repetitions%n", file, shapes(), warmup, reps);
            out.printf("  %-24s %10s %10s %14s%n", "engine", "min ms", "median ms", "median / ORT");
            double ortMedian = median(tOrt);
            row("Kiln interpreter (O0)", t0, ortMedian);
            row("Kiln interpreter (O2)", t2, ortMedian);
            row("Kiln O2, planned arena", tPlanned, ortMedian);
            row("ONNX Runtime", tOrt, ortMedian);
            out.printf("  max |Kiln O2 - ORT| over outputs: %.3g (planned arena %s)%n", diff, ModelSummary.bytes(planned.arenaBytes()));
        }
    }

    private void row(String name, long[] nanos, double ortMedian) {
        out.printf("  %-24s %10.3f %10.3f %13.2fx%n", name, min(nanos) / 1e6, median(nanos) / 1e6, median(nanos) / ortMedian);
    }

    private String shapes() {
        return inputs.stream().map(x -> x.dtype() + Arrays.toString(x.shape())).toList().toString();
    }

    private static double min(long[] v) { return Arrays.stream(v).min().orElseThrow(); }

    private static double median(long[] v) {
        long[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2.0;
    }

    private static double maxAbsDiff(List<NDArray> a, List<NDArray> b) {
        if (a.size() != b.size()) throw new IllegalStateException("Kiln gives " + a.size() + " outputs, ONNX Runtime " + b.size());
        double max = 0;
        for (int i = 0; i < a.size(); i++) {
            NDArray x = a.get(i).contiguous(), y = b.get(i);
            if (!Arrays.equals(x.shape(), y.shape())) {
                throw new IllegalStateException("output " + i + ": Kiln shape " + Arrays.toString(x.shape()) + ", ONNX Runtime " + Arrays.toString(y.shape()));
            }
            for (long k = 0; k < x.numel(); k++) max = Math.max(max, Math.abs(x.getFlat(k) - y.getFlat(k)));
        }
        return max;
    }
}
