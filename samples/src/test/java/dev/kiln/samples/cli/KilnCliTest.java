package dev.kiln.samples.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

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
        Outcome o = kiln("run", mlp.toString(), "--dim", "N=3");
        assertEquals(0, o.status(), o.err());
        assertTrue(o.out().matches("(?s).*outputs \\(O2; .*\\n  \\S+  f32\\[3, 10\\]  min .*"), o.out());
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
        assertTrue(o.out().contains("ONNX Runtime"), o.out());
        assertTrue(o.out().contains("Kiln interpreter (O2)"), o.out());
        double diff = Double.parseDouble(o.out().replaceAll("(?s).*max \\|Kiln O2 - ORT\\| over outputs: (\\S+).*", "$1"));
        assertTrue(diff < 1e-4, o.out());
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
