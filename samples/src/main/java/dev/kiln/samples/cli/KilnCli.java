package dev.kiln.samples.cli;

import dev.kiln.onnx.ExportOptions;
import dev.kiln.onnx.ImportedModel;
import dev.kiln.onnx.OnnxExporter;
import dev.kiln.onnx.OnnxImporter;
import dev.kiln.onnx.proto.OnnxProtos.ModelProto;
import dev.kiln.passes.Optimize;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.kernels.Parallel;
import dev.kiln.tracer.Weights;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code kiln} command: inspect, run, benchmark, convert and optimise ONNX models from a shell.
 * Every failure (bad arguments, unreadable or unsupported models) is one line on stderr and a
 * non-zero exit status: 2 for usage errors, 1 for everything else.
 */
public final class KilnCli {

    static final String USAGE = """
            usage: kiln <command> MODEL.onnx [options]
              inspect  MODEL.onnx                      inputs, outputs, opsets and an op histogram
              run      MODEL.onnx [--input NAME=FILE]... [--dim SYMBOL=SIZE]... [--seed N] [--O0]
                                                       runs on Kiln's default path (--O0: the reference interpreter) with
                                                       inputs from .pb/.npy files or seeded random ones; prints output summaries
              bench    MODEL.onnx [--dim SYMBOL=SIZE]... [--engines LIST] [--warmup N] [--reps N] [--threads N] [--json]
                                                       engines side by side (default kiln,kiln-o0,onnxruntime), repetitions
                                                       interleaved: min/median latency, ratios to ONNX Runtime, output difference
              convert  MODEL.onnx --to netdef [-o DIR]  writes DIR/init_net.pb and DIR/predict_net.pb (default: .)
              optimize MODEL.onnx -o OUT.onnx [--opset N] [--explain]
                                                       O2-optimises the model and exports it again""";

    private final PrintStream out;

    KilnCli(PrintStream out) { this.out = out; }

    public static void main(String[] args) {
        System.exit(new KilnCli(System.out).execute(args, System.err));
    }

    /** Runs one command line and returns the exit status; errors are printed to {@code err} as one line. */
    int execute(String[] args, PrintStream err) {
        if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help") || args[0].equals("help")) {
            (args.length == 0 ? err : out).println(USAGE);
            return args.length == 0 ? 2 : 0;
        }
        String command = args[0];
        List<String> rest = Arrays.asList(args).subList(1, args.length);
        try {
            switch (command) {
                case "inspect" -> inspect(rest);
                case "run" -> run(rest);
                case "bench" -> bench(rest, err);
                case "convert" -> convert(rest);
                case "optimize" -> optimize(rest);
                default -> throw new CliException("unknown command '" + command + "' (inspect, run, bench, convert, optimize; kiln --help)");
            }
            return 0;
        } catch (CliException e) {
            err.println("kiln: " + e.getMessage());
            return 2;
        } catch (Exception | StackOverflowError | OutOfMemoryError e) {
            err.println("kiln " + command + ": " + describe(e));
            if (System.getenv("KILN_DEBUG") != null) e.printStackTrace(err);
            return 1;
        }
    }

    private static String describe(Throwable e) {
        String message = e.getMessage();
        if (e instanceof IOException && message != null) return "cannot read or write " + message + " (" + e.getClass().getSimpleName() + ")";
        if (message == null || message.isBlank()) return e.getClass().getSimpleName() + " (set KILN_DEBUG=1 for the stack trace)";
        return message.lines().findFirst().orElse(message);
    }

    private void inspect(List<String> args) throws IOException {
        CliArgs a = CliArgs.parse("inspect", args, Set.of(), Set.of());
        Path file = modelFile("inspect", a.single("inspect", "model file"));
        out.print(ModelSummary.describe(file.toString(), Files.size(file), readProto(file)));
    }

    private void run(List<String> args) throws IOException {
        CliArgs a = CliArgs.parse("run", args, Set.of("input", "dim", "seed"), Set.of("O0"));
        Path file = modelFile("run", a.single("run", "model file"));
        ImportedModel model = OnnxImporter.load(file);
        List<NDArray> inputs = Inputs.build("run", model.graph(), a.pairs("run", "input"),
                Inputs.bindings("run", model.graph(), a.pairs("run", "dim")), a.intValue("run", "seed", 0, 0));
        boolean o0 = a.flag("O0");
        long t0 = System.nanoTime();
        List<NDArray> outputs = o0 ? model.interpret(inputs) : model.run(inputs);
        long t1 = System.nanoTime();
        out.println("inputs:");
        for (int i = 0; i < inputs.size(); i++) out.println(Inputs.summary(model.info().inputNames().get(i), inputs.get(i)));
        out.printf("outputs (%s; one cold run, %.1f ms; use kiln bench for timings):%n", o0 ? "kiln-o0, interpreter" : "kiln", (t1 - t0) / 1e6);
        for (int i = 0; i < outputs.size(); i++) out.println(Inputs.summary(model.info().outputNames().get(i), outputs.get(i)));
    }

    private void bench(List<String> args, PrintStream err) throws Exception {
        CliArgs a = CliArgs.parse("bench", args, Set.of("dim", "warmup", "reps", "threads", "seed", "engines"), Set.of("json"));
        List<String> engines = Bench.parseEngines(a.value("engines", Bench.DEFAULT_ENGINES));
        Path file = modelFile("bench", a.single("bench", "model file"));
        int warmup = a.intValue("bench", "warmup", 10, 0);
        int reps = a.intValue("bench", "reps", 30, 1);
        int threads = a.intValue("bench", "threads", Parallel.threads(), 1);
        int seed = a.intValue("bench", "seed", 0, 0);
        ImportedModel model = OnnxImporter.load(file);
        Map<String, Long> bindings = Inputs.bindings("bench", model.graph(), a.pairs("bench", "dim"));
        List<NDArray> inputs = Inputs.build("bench", model.graph(), Map.of(), bindings, seed);
        new Bench(out, err, file, model, inputs, bindings, engines, threads, a.flag("json")).run(warmup, reps);
    }

    private void convert(List<String> args) throws IOException {
        CliArgs a = CliArgs.parse("convert", args, Set.of("to", "o"), Set.of());
        Path file = modelFile("convert", a.single("convert", "model file"));
        String to = a.value("to", null);
        if (to == null) throw new CliException("convert: --to is required (netdef)");
        if (!to.equals("netdef")) throw new CliException("convert: --to " + to + " is not a target; kiln converts ONNX to netdef");
        Path dir = Path.of(a.value("o", "."));
        if (Files.exists(dir) && !Files.isDirectory(dir)) throw new CliException("convert: -o " + dir + " is not a directory");
        ImportedModel model = OnnxImporter.load(file);
        Files.createDirectories(dir);
        NetDefConversion.write(model, dir, out);
    }

    private void optimize(List<String> args) throws IOException {
        CliArgs a = CliArgs.parse("optimize", args, Set.of("o", "opset"), Set.of("explain"));
        Path file = modelFile("optimize", a.single("optimize", "model file"));
        String target = a.value("o", null);
        if (target == null) throw new CliException("optimize: -o OUT.onnx is required");
        Path outFile = Path.of(target);
        if (outFile.toAbsolutePath().normalize().equals(file.toAbsolutePath().normalize())) {
            throw new CliException("optimize: -o " + target + " is the input file; choose another name");
        }
        ModelProto original = readProto(file);
        ImportedModel model = OnnxImporter.load(file);
        Optimize.Result r = Optimize.o2(model.graph(), model.weights(), Map.of(), false);
        ExportOptions.Builder options = ExportOptions.builder()
                .inputNames(model.info().inputNames())
                .outputNames(outputNames(original))
                .graphName(original.getGraph().getName().isEmpty() ? "kiln" : original.getGraph().getName());
        if (a.value("opset", null) != null) options.opset(a.intValue("optimize", "opset", 17, 1));
        ModelProto optimized = OnnxExporter.export(r.graph(), Weights.asBuffers(r.weights()), options.build());
        OnnxExporter.save(optimized, outFile);
        out.printf("%s: %d nodes -> %d nodes, wrote %s (%s)%n", file, original.getGraph().getNodeCount(),
                optimized.getGraph().getNodeCount(), outFile, ModelSummary.bytes(Files.size(outFile)));
        if (a.flag("explain")) out.print(r.explain());
    }

    private static List<String> outputNames(ModelProto model) {
        List<String> names = new ArrayList<>();
        model.getGraph().getOutputList().forEach(v -> names.add(v.getName()));
        return names;
    }

    private static Path modelFile(String command, String name) {
        Path file = Path.of(name);
        if (!Files.exists(file)) throw new CliException(command + ": " + name + " does not exist");
        if (!Files.isRegularFile(file)) throw new CliException(command + ": " + name + " is not a file");
        return file;
    }

    private static ModelProto readProto(Path file) throws IOException {
        return dev.kiln.onnx.OnnxFiles.load(file);
    }
}
