package dev.kiln.samples.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.onnx.ImportedModel;
import dev.kiln.runtime.MemoryScope;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.kernels.Parallel;
import dev.kiln.samples.bench.Interleaved;
import dev.kiln.samples.bench.Outputs;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * {@code kiln bench}: the engines chosen with {@code --engines} on the same model file and inputs,
 * repetitions interleaved (each repetition runs every engine once, the order rotating) so that machine
 * noise hits all alike. Engines: {@code kiln}, Kiln's default path ({@link ImportedModel#run});
 * {@code kiln-o0}, the reference interpreter on the graph as imported ({@link ImportedModel#interpret});
 * {@code onnxruntime}, ONNX Runtime with all graph optimisations. One thread count applies to all of them:
 * Kiln's kernel pool ({@link Parallel}, its one source of intra-op threads: OpenBLAS runs single-threaded) and
 * ONNX Runtime's intra-op threads (inter-op 1); Kiln's previous count is restored afterwards.
 *
 * <p>Reports min/median latency per engine, each median's ratio to ONNX Runtime's, and the largest
 * absolute difference between outputs: {@code kiln} (or {@code kiln-o0} when {@code kiln} is not run)
 * against {@code onnxruntime}, or {@code kiln} against {@code kiln-o0} when ONNX Runtime is not run;
 * with a single engine there is nothing to compare and the difference is null. With {@code --json}
 * the report is one JSON object on {@code out} and progress goes to {@code err}.
 */
final class Bench {

    static final List<String> ENGINES = List.of("kiln", "kiln-o0", "onnxruntime");
    static final String DEFAULT_ENGINES = String.join(",", ENGINES);

    private final PrintStream out;
    private final PrintStream err;
    private final Path file;
    private final ImportedModel model;
    private final List<NDArray> inputs;
    private final Map<String, Long> dims;
    private final List<String> engines;
    private final int threads;
    private final boolean json;

    Bench(PrintStream out, PrintStream err, Path file, ImportedModel model, List<NDArray> inputs, Map<String, Long> dims,
          List<String> engines, int threads, boolean json) {
        this.out = out;
        this.err = err;
        this.file = file;
        this.model = model;
        this.inputs = inputs;
        this.dims = dims;
        this.engines = List.copyOf(engines);
        this.threads = threads;
        this.json = json;
    }

    /** Parses {@code --engines}: comma-separated names from {@link #ENGINES}, each at most once. */
    static List<String> parseEngines(String spec) {
        List<String> out = new ArrayList<>();
        for (String part : spec.split(",", -1)) {
            String name = part.strip();
            if (!ENGINES.contains(name)) {
                throw new CliException("bench: unknown engine '" + name + "' in --engines " + spec + "; valid engines: "
                        + String.join(", ", ENGINES));
            }
            if (out.contains(name)) throw new CliException("bench: engine " + name + " is listed twice in --engines " + spec);
            out.add(name);
        }
        return out;
    }

    void run(int warmup, int reps) throws Exception {
        int parallelBefore = Parallel.threads();
        Parallel.setThreads(threads);
        OrtSide ort = null;
        try {
            if (engines.contains("onnxruntime")) ort = new OrtSide(file, inputs, threads);
            err.printf("bench %s: %s; threads %d; %d warm-up + %d interleaved repetitions of %s%n",
                    file, shapes(), threads, warmup, reps, String.join(", ", engines));
            double diff = maxAbsDiff(ort);
            long generatedBefore = dev.kiln.codegen.CodegenStats.generatedRuns();
            OrtSide session = ort;
            List<Interleaved.Result> results = Interleaved.measure(engines.stream().map(name -> engine(name, session)).toList(), warmup, reps);
            if (engines.contains("kiln") && dev.kiln.codegen.CodegenStats.generatedRuns() == generatedBefore) {
                throw new IllegalStateException("kiln bench: the kiln engine ran no generated code");
            }
            if (json) report(results, diff);
            else table(results, diff);
        } finally {
            if (ort != null) ort.close();
            Parallel.setThreads(parallelBefore);
        }
    }

    private Interleaved.Engine engine(String name, OrtSide ort) {
        Interleaved.Work work = switch (name) {
            // a plain call, as a serving loop makes it (a MemoryScope per call would time closing a shared arena)
            case "kiln" -> () -> model.run(inputs);
            case "kiln-o0" -> () -> {
                try (MemoryScope _ = MemoryScope.open()) {
                    model.interpret(inputs);
                }
            };
            case "onnxruntime" -> ort::runDiscardingOutputs;
            default -> throw new IllegalStateException(name);
        };
        return new Interleaved.Engine(name, work);
    }

    /** One untimed run of the two engines compared (see the class comment); NaN when there is no pair. */
    private double maxAbsDiff(OrtSide ort) throws Exception {
        String candidate = engines.contains("kiln") ? "kiln" : engines.contains("kiln-o0") ? "kiln-o0" : null;
        String reference = ort != null ? "onnxruntime" : engines.contains("kiln-o0") ? "kiln-o0" : null;
        if (candidate == null || reference == null || candidate.equals(reference)) return Double.NaN;
        try (MemoryScope _ = MemoryScope.open()) {
            List<NDArray> a = outputs(candidate, ort), b = outputs(reference, ort);
            return Outputs.maxAbsDiff(candidate, a, reference, b);
        }
    }

    private List<NDArray> outputs(String engine, OrtSide ort) throws Exception {
        return switch (engine) {
            case "kiln" -> model.run(inputs);
            case "kiln-o0" -> model.interpret(inputs);
            default -> ort.run();
        };
    }

    private String diffLabel() {
        String candidate = engines.contains("kiln") ? "kiln" : "kiln-o0";
        return candidate + " - " + (engines.contains("onnxruntime") ? "onnxruntime" : "kiln-o0");
    }

    private void table(List<Interleaved.Result> results, double diff) {
        out.printf("bench %s: inputs %s; threads %d; %d interleaved repetitions%n", file, shapes(), threads,
                results.getFirst().nanos().length);
        out.printf("  %-12s %10s %10s %14s%n", "engine", "min ms", "median ms", "median / ORT");
        double ortMedian = results.stream().filter(r -> r.engine().equals("onnxruntime"))
                .mapToDouble(Interleaved.Result::medianMs).findFirst().orElse(Double.NaN);
        for (Interleaved.Result r : results) {
            String ratio = Double.isNaN(ortMedian) ? "-" : String.format("%.2fx", r.medianMs() / ortMedian);
            out.printf("  %-12s %10.3f %10.3f %14s%n", r.engine(), r.minMs(), r.medianMs(), ratio);
        }
        if (!Double.isNaN(diff)) out.printf("  max |%s| over outputs: %.3g%n", diffLabel(), diff);
    }

    /** The one JSON object of {@code --json}; numbers that are not finite are written as null (JSON has no NaN). */
    private void report(List<Interleaved.Result> results, double diff) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("model", file.toString());
        json.put("dims", dims);
        json.put("threads", threads);
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Interleaved.Result r : results) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("engine", r.engine());
            row.put("min_ms", finiteOrNull(r.minMs()));
            row.put("median_ms", finiteOrNull(r.medianMs()));
            rows.add(row);
        }
        json.put("results", rows);
        json.put("max_abs_diff", finiteOrNull(diff));
        try {
            out.println(new ObjectMapper().writeValueAsString(json));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("kiln bench: could not write JSON: " + e.getMessage(), e);
        }
    }

    private static Double finiteOrNull(double v) { return Double.isFinite(v) ? v : null; }

    private String shapes() {
        return inputs.stream().map(x -> x.dtype() + Arrays.toString(x.shape())).collect(Collectors.joining(", ", "[", "]"));
    }
}
