package dev.kiln.samples.cli;

import dev.kiln.codegen.CodegenStats;
import dev.kiln.runtime.Interpreter;
import dev.kiln.runtime.kernels.Gemm;
import dev.kiln.runtime.kernels.Parallel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@code kiln} command on exported LeNet and MLP models, and its one-line errors. */
class KilnCliTest {

    @TempDir
    static Path dir;
    static Path lenet;
    static Path mlp;

    record Outcome(int status, String out, String err) {}

    @BeforeAll
    static void exportModels() throws java.io.IOException {
        dev.kiln.samples.ExportSamples.main(new String[] {dir.toString()});
        lenet = dir.resolve("lenet.onnx");
        mlp = dir.resolve("mlp.onnx");
    }

    /** A JSON document (strictly parsed by Jackson) as maps, lists, strings, doubles (every number) and nulls. */
    static Object parse(String json) {
        try {
            return numbersAsDoubles(new com.fasterxml.jackson.databind.ObjectMapper().readValue(json, Object.class));
        } catch (java.io.IOException e) {
            throw new AssertionError("not JSON: " + json, e);
        }
    }

    private static Object numbersAsDoubles(Object v) {
        return switch (v) {
            case Number n -> n.doubleValue();
            case Map<?, ?> m -> {
                Map<Object, Object> out = new java.util.LinkedHashMap<>();
                m.forEach((k, x) -> out.put(k, numbersAsDoubles(x)));
                yield out;
            }
            case List<?> l -> l.stream().map(KilnCliTest::numbersAsDoubles).toList();
            case null, default -> v;
        };
    }

    static Outcome kiln(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int status = new KilnCli(new PrintStream(out, true, StandardCharsets.UTF_8))
                .execute(args, new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Outcome(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void inspectShowsInputsOutputsOpsetAndHistogram() {
        Outcome o = kiln("inspect", lenet.toString());
        assertEquals(0, o.status(), o.err());
        assertTrue(o.out().contains("opset ai.onnx 17"), o.out());
        assertTrue(o.out().matches("(?s).*inputs:\\n  \\S+  float\\[N, 1, 28, 28\\].*"), o.out());
        assertTrue(o.out().matches("(?s).*\\n  Conv +2\\n.*"), o.out());
        assertTrue(o.out().contains("producer kiln"), o.out());
    }

    @Test
    void runPrintsOutputSummaries() {
        long generated = CodegenStats.generatedRuns(), interpreterRuns = Interpreter.runs();
        Outcome o = kiln("run", mlp.toString(), "--dim", "N=3");
        assertEquals(0, o.status(), o.err());
        assertEquals(generated + 1, CodegenStats.generatedRuns(), "kiln run runs generated code");
        assertEquals(interpreterRuns, Interpreter.runs(), "kiln run does not interpret");
        assertTrue(o.out().matches("(?s).*outputs \\(kiln; .*\\n  \\S+  f32\\[3, 10\\]  min .*"), o.out());
        long before = Interpreter.runs();
        Outcome interpreted = kiln("run", mlp.toString(), "--dim", "N=3", "--O0");
        assertEquals(before + 1, Interpreter.runs(), "kiln run --O0 interprets");
        assertEquals(0, interpreted.status(), interpreted.err());
        assertTrue(interpreted.out().contains("outputs (kiln-o0, interpreter; "), interpreted.out());
    }

    @Test
    void runReadsNpyInputsAndChecksTheirDtype() throws IOException {
        Path npy = dir.resolve("x.npy");
        Files.write(npy, NpyTest.npy("<f4", "(1, 784)", new byte[784 * 4]));
        String inputName = kiln("inspect", mlp.toString()).out().lines()
                .dropWhile(l -> !l.equals("inputs:")).skip(1).findFirst().orElseThrow().strip().split("\\s+")[0];
        Outcome o = kiln("run", mlp.toString(), "--input", inputName + "=" + npy);
        assertEquals(0, o.status(), o.err());
        assertTrue(o.out().contains("f32[1, 10]"), o.out());

        Path ints = dir.resolve("i.npy");
        Files.write(ints, NpyTest.npy("<i8", "(1, 784)", new byte[784 * 8]));
        Outcome bad = kiln("run", mlp.toString(), "--input", inputName + "=" + ints);
        assertEquals(2, bad.status());
        assertTrue(bad.err().contains("is i64, the model wants f32"), bad.err());
    }

    @Test
    void benchReportsKilnAndOrtSideBySide() {
        Outcome o = kiln("bench", lenet.toString(), "--warmup", "1", "--reps", "3");
        assertEquals(0, o.status(), o.err());
        for (String engine : List.of("kiln", "kiln-o0", "onnxruntime")) {
            assertTrue(o.out().matches("(?s).*\\n  " + engine + " +[0-9.]+ +[0-9.]+ +[0-9.]+x\\n.*"), o.out());
        }
        assertTrue(o.out().matches("(?s).*\\n  onnxruntime +[0-9.]+ +[0-9.]+ +1\\.00x\\n.*"), o.out());
        double diff = Double.parseDouble(o.out().replaceAll("(?s).*max \\|kiln - onnxruntime\\| over outputs: (\\S+).*", "$1"));
        assertTrue(diff < 1e-4, o.out());
    }

    @Test
    void benchJsonIsOneObjectWithTheDocumentedKeys() {
        int parallelBefore = Parallel.threads();
        long generated = CodegenStats.generatedRuns();
        Outcome o = kiln("bench", mlp.toString(), "--dim", "N=2", "--warmup", "1", "--reps", "2", "--threads", "1", "--json");
        assertEquals(0, o.status(), o.err());
        assertTrue(CodegenStats.generatedRuns() >= generated + 3, "the kiln engine runs generated code");
        assertEquals(1, o.out().strip().lines().count(), o.out());
        Map<?, ?> json = (Map<?, ?>) parse(o.out());
        assertEquals(List.of("model", "dims", "threads", "results", "max_abs_diff"), List.copyOf(json.keySet()));
        assertEquals(mlp.toString(), json.get("model"));
        assertEquals(Map.of("N", 2.0), json.get("dims"));
        assertEquals(1.0, json.get("threads"));
        List<?> results = (List<?>) json.get("results");
        assertEquals(3, results.size());
        List<String> engines = new ArrayList<>();
        for (Object r : results) {
            Map<?, ?> row = (Map<?, ?>) r;
            assertEquals(List.of("engine", "min_ms", "median_ms"), List.copyOf(row.keySet()));
            engines.add((String) row.get("engine"));
            double min = (Double) row.get("min_ms"), median = (Double) row.get("median_ms");
            assertTrue(min > 0 && min <= median, row.toString());
        }
        assertEquals(List.of("kiln", "kiln-o0", "onnxruntime"), engines);
        assertTrue((Double) json.get("max_abs_diff") < 1e-4, o.out());
        // --threads applied for the run only: the process-wide counts are back as they were.
        assertEquals(parallelBefore, Parallel.threads());
        assertEquals(1, Gemm.threads(), "OpenBLAS stays single-threaded under Kiln's pool");
    }

    @Test
    void benchEnginesSelectsAndOrdersTheRowsAndTheComparison() {
        Outcome o = kiln("bench", mlp.toString(), "--engines", "kiln-o0,kiln", "--warmup", "0", "--reps", "1", "--json");
        assertEquals(0, o.status(), o.err());
        Map<?, ?> json = (Map<?, ?>) parse(o.out());
        assertEquals(List.of("kiln-o0", "kiln"), ((List<?>) json.get("results")).stream().map(r -> ((Map<?, ?>) r).get("engine")).toList());
        assertTrue((Double) json.get("max_abs_diff") < 1e-6, o.out()); // kiln against kiln-o0: no ONNX Runtime here

        Outcome single = kiln("bench", mlp.toString(), "--engines", "onnxruntime", "--warmup", "0", "--reps", "1", "--json");
        assertEquals(0, single.status(), single.err());
        assertTrue(((Map<?, ?>) parse(single.out())).containsKey("max_abs_diff"));
        assertEquals(null, ((Map<?, ?>) parse(single.out())).get("max_abs_diff"));

        Outcome table = kiln("bench", mlp.toString(), "--engines", "kiln,kiln-o0", "--warmup", "0", "--reps", "1");
        assertEquals(0, table.status(), table.err());
        assertTrue(table.out().contains("max |kiln - kiln-o0| over outputs:"), table.out());
        assertFalse(table.out().contains("onnxruntime"), table.out());
    }

    @Test
    void benchRejectsUnknownEnginesWithTheValidOnes() {
        for (String spec : new String[] {"kiln,tensorrt", "", "kiln,kiln", "O2"}) {
            Outcome o = kiln("bench", mlp.toString(), "--engines", spec);
            assertEquals(2, o.status(), spec + " -> " + o.err());
            assertEquals(1, o.err().strip().lines().count(), o.err());
            assertEquals("", o.out());
            if (!spec.equals("kiln,kiln")) assertTrue(o.err().contains("valid engines: kiln, kiln-o0, onnxruntime"), o.err());
        }
        Outcome zero = kiln("bench", mlp.toString(), "--threads", "0");
        assertEquals(2, zero.status(), zero.err());
    }

    @Test
    void optimizeWritesAModelThatRunsTheSame() {
        Path out = dir.resolve("lenet-o2.onnx");
        Outcome o = kiln("optimize", lenet.toString(), "-o", out.toString());
        assertEquals(0, o.status(), o.err());
        assertTrue(Files.isRegularFile(out));
        Outcome a = kiln("run", lenet.toString(), "--O0"), b = kiln("run", out.toString(), "--O0");
        assertEquals(0, b.status(), b.err());
        assertEquals(lastLine(a.out()).replaceAll("^\\s*\\S+", ""), lastLine(b.out()).replaceAll("^\\s*\\S+", ""));
    }

    @Test
    void convertWritesNetDefFiles() {
        Path out = dir.resolve("netdef");
        Outcome o = kiln("convert", lenet.toString(), "--to", "netdef", "-o", out.toString());
        assertEquals(0, o.status(), o.err());
        assertTrue(Files.isRegularFile(out.resolve("init_net.pb")));
        assertTrue(Files.isRegularFile(out.resolve("predict_net.pb")));
    }

    @Test
    void badArgumentsAndFilesGiveOneLineAndNonZeroStatus() throws IOException {
        Path garbage = dir.resolve("garbage.onnx");
        Files.write(garbage, new byte[] {0x12, 0x34, 0x56, 0x78, (byte) 0xff, 0x01});
        String[][] cases = {
                {},
                {"frobnicate", lenet.toString()},
                {"inspect"},
                {"inspect", dir.resolve("missing.onnx").toString()},
                {"inspect", garbage.toString()},
                {"run", garbage.toString()},
                {"run", lenet.toString(), "--dim", "N"},
                {"run", lenet.toString(), "--input", "nope=x.npy"},
                {"bench", lenet.toString(), "--reps", "zero"},
                {"bench", lenet.toString(), "--engines", "tvm"},
                {"convert", lenet.toString(), "--to", "tflite"},
                {"optimize", lenet.toString()},
                {"run", lenet.toString(), "--bogus"},
        };
        for (String[] args : cases) {
            Outcome o = kiln(args);
            String what = String.join(" ", args);
            assertTrue(o.status() != 0, what);
            if (args.length > 0) {
                assertEquals(1, o.err().strip().lines().count(), what + " -> " + o.err());
                assertTrue(o.err().startsWith("kiln"), what + " -> " + o.err());
                assertFalse(o.err().contains("\tat "), what + " -> " + o.err());
            }
        }
    }

    private static String lastLine(String s) { return s.strip().lines().reduce((a, b) -> b).orElse(""); }
}
