package dev.kiln.samples.bench;

import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.autograd.Autograd;
import dev.kiln.frontend.nn.Module;
import dev.kiln.frontend.nn.TransformerEncoderLayer;
import dev.kiln.onnx.ExportOptions;
import dev.kiln.onnx.OnnxExporter;
import dev.kiln.runtime.MemoryScope;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.kernels.Gemm;
import dev.kiln.runtime.kernels.Parallel;
import dev.kiln.samples.cli.OrtSide;
import dev.kiln.samples.models.DenseNet;
import dev.kiln.samples.models.LeNet;
import dev.kiln.samples.models.Mlp;
import dev.kiln.samples.models.ResNet18;
import dev.kiln.samples.models.ResNet50;
import dev.kiln.samples.models.ShuffleNetV1;
import dev.kiln.samples.models.ShuffleNetV2;
import dev.kiln.samples.models.SqueezeNet;
import dev.kiln.samples.models.Vgg11;
import dev.kiln.tracer.Kiln;
import dev.kiln.tracer.TraceOptions;
import dev.kiln.tracer.TracedFunction;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * The anchor models (the 784-512-10 MLP, LeNet-5, ResNet-18 at 3×224×224 and a Transformer encoder layer with
 * sequence 128, d_model 256, 4 heads, FFN 1024, batch first), each built in Kiln eager in eval mode, traced with
 * a dynamic batch dim and exported to ONNX, then timed at batch 1 and 32 with the engines' repetitions
 * interleaved (order rotating). On request ({@code --models}, not in the default list) the further CNNs at
 * 3×224×224: {@code resnet50}, {@code shufflenet_v1} (3 groups), {@code shufflenet_v2} (1.0×), {@code squeezenet}
 * (1.1), {@code vgg11} (with batch norm, torchvision's 4096-wide head) and {@code densenet121}; the three heavy
 * ones (ResNet-50, VGG-11, DenseNet-121: 3 to 8 GFLOP an image) default to batches 1 and 8 instead of 1 and 32,
 * so that one of them takes minutes, not tens of minutes, on one thread. Engines:
 * <ul>
 *   <li>{@code kiln}: {@code traced.call}, Kiln's default path for a traced function;</li>
 *   <li>{@code kiln-o0}: {@code traced.interpret}, the reference interpreter;</li>
 *   <li>{@code eager}: {@code model.forward} under {@code Autograd.noGrad()};</li>
 *   <li>{@code onnxruntime}: the exported file in ONNX Runtime, all graph optimisations on.</li>
 * </ul>
 * One thread count applies to all: Kiln's kernel pool, OpenBLAS and ONNX Runtime's intra-op threads (inter-op 1).
 * Per model and batch it prints min/median ms per engine, ORT median / kiln median, the kiln speed-ups over
 * kiln-o0 and eager, the largest |kiln - ORT| and the Java heap bytes a warm kiln run allocates on the calling
 * thread; per model the trace time and the first call's time (for the compiled path: O2 and code generation).
 * Then a fused three-op elementwise chain {@code relu(a * b + c)} over 16M f32 against a STREAM triad written
 * with the Vector API, both in GB/s. A benchmark, not a test: nothing here asserts on time.
 *
 * <p>Options (in {@code -Dkiln.args=...}): {@code --models mlp,lenet,transformer,resnet18,chain,loaded} (the default;
 * add or pick {@code resnet50,shufflenet_v1,shufflenet_v2,squeezenet,vgg11,densenet121}),
 * {@code --batches 1,32} (every model; default per model as above), {@code --reps N} (every row; default per model,
 * few for the large CNNs at their second batch),
 * {@code --warmup N}, {@code --threads N} (default {@code kiln.threads}, else the processor count),
 * {@code --chain-elements N} (default 16M). {@code loaded} is the loaded-machine row: the MLP and LeNet at batch 32,
 * kiln and ONNX Runtime measured quiet and then with two busy background threads, and each engine's slowdown.
 */
public final class AnchorBenchmark {

    /** What runs without {@code --models}: the original anchors, the elementwise chain and the loaded-machine row. */
    static final List<String> DEFAULT_MODELS = List.of("mlp", "lenet", "transformer", "resnet18", "chain", "loaded");

    /** A Transformer encoder layer as the anchor: relu FFN, post-norm, batch first, dropout off in eval mode. */
    static TransformerEncoderLayer transformer() {
        return new TransformerEncoderLayer(256, 4, 1024, 0.1, false, 1e-5, true, false);
    }

    /**
     * {@code defaultBatches}: the batch sizes timed without {@code --batches}; {@code defaultReps} and
     * {@code defaultWarmup}: timed and untimed repetitions at the first and at every later batch size (warm-up
     * enough for the JIT to compile the generated code).
     */
    private record Anchor(String name, String description, Supplier<Module> factory, long[] sample, long[] defaultBatches,
                          int[] defaultReps, int[] defaultWarmup) {}

    private static final long[] ONE_AND_32 = {1, 32}, ONE_AND_8 = {1, 8};
    private static final long[] IMAGE = {3, 224, 224};

    private static final List<Anchor> ANCHORS = List.of(
            new Anchor("mlp", "784-512-512-10 MLP", Mlp::new, new long[] {784}, ONE_AND_32, new int[] {200, 100}, new int[] {3000, 500}),
            new Anchor("lenet", "LeNet-5", LeNet::new, new long[] {1, 28, 28}, ONE_AND_32, new int[] {200, 50}, new int[] {3000, 300}),
            new Anchor("transformer", "Transformer encoder layer (seq 128, d_model 256, 4 heads, FFN 1024)",
                    AnchorBenchmark::transformer, new long[] {128, 256}, ONE_AND_32, new int[] {50, 5}, new int[] {300, 5}),
            new Anchor("resnet18", "ResNet-18", ResNet18::new, IMAGE, ONE_AND_32, new int[] {40, 3}, new int[] {100, 2}),
            new Anchor("resnet50", "ResNet-50 (torchvision v1.5)", ResNet50::new, IMAGE, ONE_AND_8, new int[] {10, 3}, new int[] {40, 2}),
            new Anchor("shufflenet_v1", "ShuffleNet v1 1.0x, 3 groups", ShuffleNetV1::new, IMAGE, ONE_AND_32, new int[] {40, 10}, new int[] {200, 5}),
            new Anchor("shufflenet_v2", "ShuffleNet v2 1.0x (torchvision)", ShuffleNetV2::new, IMAGE, ONE_AND_32, new int[] {40, 10}, new int[] {200, 5}),
            new Anchor("squeezenet", "SqueezeNet 1.1 (torchvision)", SqueezeNet::new, IMAGE, ONE_AND_32, new int[] {40, 10}, new int[] {200, 5}),
            new Anchor("vgg11", "VGG-11 with batch norm (torchvision vgg11_bn)", Vgg11::new, IMAGE, ONE_AND_8, new int[] {10, 3}, new int[] {30, 2}),
            new Anchor("densenet121", "DenseNet-121 (torchvision)", DenseNet::new, IMAGE, ONE_AND_8, new int[] {10, 3}, new int[] {120, 2}));

    /** Every name {@code --models} accepts. */
    static final List<String> MODELS = Stream.concat(ANCHORS.stream().map(Anchor::name),
            Stream.of("chain", "loaded")).toList();

    private final Integer repsOverride;
    private final Integer warmupOverride;
    private final int threads;
    private final long[] batchesOverride;
    private final Path dir;

    private AnchorBenchmark(Integer reps, Integer warmup, int threads, long[] batches, Path dir) {
        this.repsOverride = reps;
        this.warmupOverride = warmup;
        this.threads = threads;
        this.batchesOverride = batches;
        this.dir = dir;
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = parse(args);
        Integer reps = options.containsKey("reps") ? positive(options, "reps") : null;
        Integer warmup = options.containsKey("warmup") ? nonNegative(options, "warmup") : null;
        int threads = options.containsKey("threads") ? positive(options, "threads") : Parallel.threads();
        List<String> models = List.of(options.getOrDefault("models", String.join(",", DEFAULT_MODELS)).split(","));
        for (String m : models) {
            if (!MODELS.contains(m)) throw new IllegalArgumentException("--models: unknown '" + m + "'; choose from " + MODELS);
        }
        long[] batches = options.containsKey("batches")
                ? Arrays.stream(options.get("batches").split(",")).mapToLong(Long::parseLong).toArray() : null;
        long chainElements = Long.parseLong(options.getOrDefault("chain-elements", String.valueOf(16L << 20)));

        Parallel.setThreads(threads);
        System.out.printf("AnchorBenchmark: JVM %s, %d processors; threads %d for every engine (Kiln's one kernel pool, "
                        + "OpenBLAS single-threaded under it; ONNX Runtime intra-op, inter-op 1)%n", Runtime.version(), Runtime.getRuntime().availableProcessors(), threads);
        System.out.printf("load average (uptime): %s%n", loadAverage());
        System.out.printf("%s%n", Gemm.backend());
        System.out.println("kiln = traced.call (the default path), kiln-o0 = traced.interpret (reference interpreter), "
                + "eager = model.forward under noGrad, onnxruntime = the exported file, all graph optimisations");

        Path dir = Files.createTempDirectory("kiln-anchors");
        AnchorBenchmark bench = new AnchorBenchmark(reps, warmup, threads, batches, dir);
        for (Anchor a : ANCHORS) {
            if (models.contains(a.name())) bench.model(a);
        }
        if (models.contains("chain")) bench.chain(chainElements);
        if (models.contains("loaded")) {
            for (Anchor a : ANCHORS) {
                if (a.name().equals("mlp") || a.name().equals("lenet")) bench.loaded(a, 32);
            }
        }
    }

    /**
     * The loaded-machine row: kiln and ONNX Runtime on the same threads, measured interleaved on a quiet machine and
     * then again while two busy threads this benchmark starts compete for the cores; each engine's slowdown.
     */
    private void loaded(Anchor anchor, long batch) throws Exception {
        Generator.manualSeed(1);
        Module model = anchor.factory().get();
        model.eval();
        TracedFunction traced = Kiln.trace(model, TraceOptions.defaults().named(anchor.name()).dynamic(0, 0, "N"),
                Tensor.randn(new Generator(2), prepend(1, anchor.sample())));
        Path file = dir.resolve(anchor.name() + "-loaded.onnx");
        OnnxExporter.save(OnnxExporter.export(traced.graph(), traced.weightBuffers(), ExportOptions.defaults()), file);
        Tensor x = Tensor.randn(new Generator(100 + batch), prepend(batch, anchor.sample()));
        int reps = repsOverride != null ? repsOverride : 100, warmup = warmupOverride != null ? warmupOverride : 300;
        System.out.printf("%n== loaded machine: %s batch %d, %d threads per engine, 2 busy background threads%n", anchor.name(), batch, threads);
        try (OrtSide ort = new OrtSide(file, List.of(x.data()), threads)) {
            List<Interleaved.Engine> engines = List.of(new Interleaved.Engine("kiln", () -> traced.callAll(x)),
                    new Interleaved.Engine("onnxruntime", ort::runDiscardingOutputs));
            List<Interleaved.Result> quiet = Interleaved.measure(engines, warmup, reps);
            List<Interleaved.Result> busy;
            try (BusyThreads _ = new BusyThreads(2)) {
                busy = Interleaved.measure(engines, warmup / 10, reps);
            }
            System.out.printf("   %-12s %12s %12s %10s%n", "engine", "quiet median", "loaded median", "slowdown");
            for (int i = 0; i < engines.size(); i++) {
                System.out.printf("   %-12s %12.3f %12.3f %9.2fx%n", quiet.get(i).engine(), quiet.get(i).medianMs(), busy.get(i).medianMs(),
                        busy.get(i).medianMs() / quiet.get(i).medianMs());
            }
            double kilnSlowdown = busy.get(0).medianMs() / quiet.get(0).medianMs(), ortSlowdown = busy.get(1).medianMs() / quiet.get(1).medianMs();
            System.out.printf("   kiln slowdown / ORT slowdown %.2f (<= 1: Kiln degrades no more than ORT); loaded ORT/kiln %.2fx; load average %s%n",
                    kilnSlowdown / ortSlowdown, busy.get(1).medianMs() / busy.get(0).medianMs(), loadAverage());
        }
    }

    /** Background load: {@code n} platform threads spinning on arithmetic until closed. */
    private static final class BusyThreads implements AutoCloseable {
        private volatile boolean stop;
        private final List<Thread> threads = new java.util.ArrayList<>();
        static volatile double sink;

        BusyThreads(int n) {
            for (int i = 0; i < n; i++) {
                threads.add(Thread.ofPlatform().daemon().name("busy-" + i).start(() -> {
                    double v = 1;
                    while (!stop) {
                        for (int k = 0; k < 1_000_000; k++) v = v * 1.0000001 + 1e-9;
                    }
                    sink = v;
                }));
            }
        }

        @Override
        public void close() {
            stop = true;
            for (Thread t : threads) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private void model(Anchor anchor) throws Exception {
        Generator.manualSeed(1);
        Module model = anchor.factory().get();
        model.eval();
        Tensor example = Tensor.randn(new Generator(2), prepend(1, anchor.sample()));
        long t0 = System.nanoTime();
        TracedFunction traced = Kiln.trace(model, TraceOptions.defaults().named(anchor.name()).dynamic(0, 0, "N"), example);
        double traceMs = (System.nanoTime() - t0) / 1e6;
        Path file = dir.resolve(anchor.name() + ".onnx");
        OnnxExporter.save(OnnxExporter.export(traced.graph(), traced.weightBuffers(), ExportOptions.defaults()), file);

        System.out.printf("%n== %s: %s, input [N, %s]%n", anchor.name(), anchor.description(),
                String.join(", ", Arrays.stream(anchor.sample()).mapToObj(Long::toString).toList()));
        System.out.printf("   %5s  %-12s %10s %10s%n", "batch", "engine", "min ms", "median ms");
        boolean first = true;
        String compileLine = null;
        long[] batches = batchesOverride != null ? batchesOverride : anchor.defaultBatches();
        for (int bi = 0; bi < batches.length; bi++) {
            long batch = batches[bi];
            Tensor x = Tensor.randn(new Generator(100 + batch), prepend(batch, anchor.sample()));
            List<NDArray> xs = List.of(x.data());
            try (OrtSide ort = new OrtSide(file, xs, threads)) {
                double diff;
                try (MemoryScope _ = MemoryScope.open()) {
                    long c0 = System.nanoTime();
                    dev.kiln.codegen.CompiledModel compiledModel = traced.compiled();   // O2
                    long c1 = System.nanoTime();
                    compiledModel.lowered(xs);                                          // plan + code generation for this size
                    long c2 = System.nanoTime();
                    List<NDArray> kiln = traced.callAll(x).stream().map(Tensor::data).toList();
                    long c3 = System.nanoTime();
                    if (first) {
                        compileLine = String.format("   compile: trace %.1f ms + O2 %.1f ms + code generation %.1f ms = %.1f ms; first run %.1f ms (batch %d, cold JVM code)",
                                traceMs, (c1 - c0) / 1e6, (c2 - c1) / 1e6, traceMs + (c2 - c0) / 1e6, (c3 - c2) / 1e6, batch);
                        first = false;
                    }
                    diff = Outputs.maxAbsDiff("kiln", kiln, "onnxruntime", ort.run());
                }
                int reps = repsOverride != null ? repsOverride : anchor.defaultReps()[Math.min(bi, 1)];
                int warmup = warmupOverride != null ? warmupOverride : anchor.defaultWarmup()[Math.min(bi, 1)];
                List<Interleaved.Result> results = Interleaved.measure(List.of(
                        // a plain call, as a serving loop makes it: the outputs are the run's only allocations
                        new Interleaved.Engine("kiln", () -> traced.callAll(x)),
                        new Interleaved.Engine("kiln-o0", () -> {
                            try (MemoryScope _ = MemoryScope.open()) {
                                traced.interpretAll(x);
                            }
                        }),
                        new Interleaved.Engine("eager", () -> {
                            try (MemoryScope _ = MemoryScope.open(); var _ = Autograd.noGrad()) {
                                model.forward(x);
                            }
                        }),
                        new Interleaved.Engine("onnxruntime", ort::runDiscardingOutputs)), warmup, reps);
                for (Interleaved.Result r : results) {
                    System.out.printf("   %5d  %-12s %10.3f %10.3f%n", batch, r.engine(), r.minMs(), r.medianMs());
                }
                double kiln = results.get(0).medianMs(), o0 = results.get(1).medianMs(), eager = results.get(2).medianMs(),
                        ortMs = results.get(3).medianMs();
                dev.kiln.codegen.CompiledModel compiled = traced.compiled();
                List<NDArray> outs = compiled.run(xs);
                double heap = heapBytesPerRun(() -> compiled.runInto(xs, outs), reps);
                System.out.printf("   %5d  ORT/kiln %.2fx, kiln vs kiln-o0 %.2fx, kiln vs eager %.2fx; max |kiln - ORT| %.3g; "
                                + "heap per warm run (compiled, caller's output buffers) %s; %d warm-up + %d reps%n",
                        batch, ortMs / kiln, o0 / kiln, eager / kiln, diff, bytes(heap), warmup, reps);
            }
        }
        if (compileLine != null) System.out.println(compileLine);
    }

    /** A module whose forward takes three tensors: the fused elementwise chain relu(a * b + c). */
    static final class Chain extends Module {
        @Override
        public Object call(Tensor... in) {
            if (in.length != 3) throw new IllegalArgumentException("Chain takes 3 inputs, got " + in.length);
            return in[0].mul(in[1]).add(in[2]).relu();
        }
    }

    private void chain(long n) throws Exception {
        System.out.printf("%n== elementwise chain relu(a * b + c) over %d f32 (%.0f MiB per array) vs STREAM triad, %d threads%n",
                n, n * 4.0 / (1 << 20), threads);
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            System.out.println("   skipped: the triad needs --add-modules=jdk.incubator.vector");
            return;
        }
        Tensor a = Tensor.randn(new Generator(11), n), b = Tensor.randn(new Generator(12), n), c = Tensor.randn(new Generator(13), n);
        TracedFunction traced = Kiln.trace(new Chain(), TraceOptions.defaults().named("chain"), a, b, c);
        double diff;
        try (MemoryScope _ = MemoryScope.open(); var _ = Autograd.noGrad()) {
            diff = Outputs.maxAbsDiff("kiln", List.of(traced.call(a, b, c).data()), "eager", List.of(a.mul(b).add(c).relu().data()));
        }
        int reps = repsOverride != null ? repsOverride : 10;
        int warmup = warmupOverride != null ? warmupOverride : 5;
        // like the triad, the chain writes into memory allocated once: the compiled path with a caller buffer
        dev.kiln.codegen.CompiledModel compiled = traced.compiled();
        List<NDArray> inputs = List.of(a.data(), b.data(), c.data());
        List<NDArray> output = compiled.run(inputs);
        try (StreamTriad triad = new StreamTriad(n, threads)) {
            List<Interleaved.Result> results = Interleaved.measure(List.of(
                    new Interleaved.Engine("kiln chain", () -> compiled.runInto(inputs, output)),
                    new Interleaved.Engine("triad", triad::run)), warmup, reps);
            boolean triadOk = triad.a(n - 1) == triad.expected(n - 1) && triad.a(n / 2) == triad.expected(n / 2);
            double chainGbs = 4.0 * Float.BYTES * n / (results.get(0).medianMs() * 1e6);
            double triadGbs = (double) triad.bytesPerRun() / (results.get(1).medianMs() * 1e6);
            System.out.printf("   %-12s %10s %10s %12s%n", "", "min ms", "median ms", "GB/s median");
            System.out.printf("   %-12s %10.3f %10.3f %12.2f   (4 arrays x 4 bytes x n: 3 reads + 1 write)%n", "kiln chain",
                    results.get(0).minMs(), results.get(0).medianMs(), chainGbs);
            System.out.printf("   %-12s %10.3f %10.3f %12.2f   (3 arrays x 4 bytes x n: a[i] = b[i] + s*c[i], Vector API)%n", "triad",
                    results.get(1).minMs(), results.get(1).medianMs(), triadGbs);
            System.out.printf("   chain / triad %.2f (GB/s); max |kiln chain - eager| %.3g; triad result %s; %d warm-up + %d reps%n",
                    chainGbs / triadGbs, diff, triadOk ? "checked" : "WRONG", warmup, reps);
            // the same two, each run back to back (no other engine's 64 MiB of dirty lines to write back in between)
            Interleaved.Result chainAlone = Interleaved.measure(List.of(new Interleaved.Engine("kiln chain",
                    () -> compiled.runInto(inputs, output))), 0, reps).get(0);
            Interleaved.Result triadAlone = Interleaved.measure(List.of(new Interleaved.Engine("triad", triad::run)), 0, reps).get(0);
            double chainAloneGbs = 4.0 * Float.BYTES * n / (chainAlone.medianMs() * 1e6);
            double triadAloneGbs = (double) triad.bytesPerRun() / (triadAlone.medianMs() * 1e6);
            System.out.printf("   back to back: kiln chain %.3f ms median (%.2f GB/s), triad %.3f ms (%.2f GB/s); chain / triad %.2f%n",
                    chainAlone.medianMs(), chainAloneGbs, triadAlone.medianMs(), triadAloneGbs, chainAloneGbs / triadAloneGbs);
        }
    }

    /**
     * Java heap bytes allocated on this thread per warm run: the least over five rounds of {@code runs} runs (a JIT
     * compilation landing in one round is not a steady-state allocation), less what reading the counter allocates.
     */
    private static double heapBytesPerRun(Interleaved.Work work, int runs) throws Exception {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long least = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            long before = mx.getCurrentThreadAllocatedBytes();
            for (int r = 0; r < runs; r++) work.run();
            long after = mx.getCurrentThreadAllocatedBytes();
            long probe = mx.getCurrentThreadAllocatedBytes() - after;
            least = Math.min(least, Math.max(0, after - before - probe));
        }
        return (double) least / runs;
    }

    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).strip().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2] + " (1, 5, 15 min)";
        } catch (Exception e) {
            return "n/a (no /proc/loadavg)";
        }
    }

    private static String bytes(double b) {
        return b < 10 * 1024 ? String.format("%.0f B", b) : b < 10L << 20 ? String.format("%.1f KiB", b / 1024.0) : String.format("%.1f MiB", b / 1048576.0);
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> out = new LinkedHashMap<>();
        List<String> known = List.of("reps", "warmup", "threads", "models", "batches", "chain-elements");
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) throw new IllegalArgumentException("unexpected argument '" + a + "'; options: " + known);
            String name = a.substring(2), value;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            } else {
                if (i + 1 >= args.length) throw new IllegalArgumentException(a + " needs a value");
                value = args[++i];
            }
            if (!known.contains(name)) throw new IllegalArgumentException("unknown option --" + name + "; options: " + known);
            out.put(name, value);
        }
        return out;
    }

    private static int positive(Map<String, String> options, String name) {
        int v = Integer.parseInt(options.get(name));
        if (v < 1) throw new IllegalArgumentException("--" + name + " must be at least 1, got " + v);
        return v;
    }

    private static int nonNegative(Map<String, String> options, String name) {
        int v = Integer.parseInt(options.get(name));
        if (v < 0) throw new IllegalArgumentException("--" + name + " must be at least 0, got " + v);
        return v;
    }

    private static long[] prepend(long first, long[] rest) {
        long[] out = new long[rest.length + 1];
        out[0] = first;
        System.arraycopy(rest, 0, out, 1, rest.length);
        return out;
    }
}
