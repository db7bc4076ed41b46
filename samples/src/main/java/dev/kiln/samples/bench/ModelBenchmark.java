package dev.kiln.samples.bench;

import dev.kiln.frontend.F;
import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.autograd.Autograd;
import dev.kiln.frontend.nn.Module;
import dev.kiln.frontend.optim.Adam;
import dev.kiln.frontend.optim.Optimizer;
import dev.kiln.onnx.ExportOptions;
import dev.kiln.onnx.OnnxExporter;
import dev.kiln.runtime.MemoryScope;
import dev.kiln.samples.OrtReference;
import dev.kiln.samples.models.LeNet;
import dev.kiln.samples.models.Mlp;
import dev.kiln.tracer.Kiln;
import dev.kiln.tracer.TraceOptions;
import dev.kiln.tracer.TracedFunction;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Supplier;

/**
 * Forward latency of the MLP and LeNet at batch 1 and 32 in Kiln eager, in Kiln's interpreter on the
 * traced graph, and in ONNX Runtime on the exported file, measured side by side in one process; and
 * the LeNet training step (forward, backward, Adam) at batch 64. Prints min and median over repeated
 * runs, and each Kiln figure as a ratio to ONNX Runtime's median.
 */
public final class ModelBenchmark {

    public static void main(String[] args) throws Exception {
        int reps = args.length > 0 ? Integer.parseInt(args[0]) : 50;
        System.out.printf("JVM %s, %d processors, %d repetitions per row (after warm-up)%n",
                Runtime.version(), Runtime.getRuntime().availableProcessors(), reps);
        System.out.printf("%-7s %5s  %-22s %10s %10s %14s%n", "model", "batch", "engine", "min ms", "median ms", "median / ORT");
        Path dir = Files.createTempDirectory("kiln-bench");
        forward("mlp", Mlp::new, new long[] {784}, dir, reps);
        forward("lenet", LeNet::new, new long[] {1, 28, 28}, dir, reps);
        trainingStep(reps);
    }

    private static void forward(String name, Supplier<Module> factory, long[] sampleShape, Path dir, int reps) throws Exception {
        Generator.manualSeed(1);
        Module model = factory.get();
        model.eval();
        long[] traceShape = prepend(2, sampleShape);
        TracedFunction traced = Kiln.trace(model, TraceOptions.defaults().dynamic(0, 0, "N"), Tensor.zeros(traceShape));
        Path file = dir.resolve(name + ".onnx");
        OnnxExporter.save(OnnxExporter.export(traced.graph(), traced.weightBuffers(), ExportOptions.defaults()), file);
        try (OrtReference ort = new OrtReference(file)) {
            for (long batch : new long[] {1, 32}) {
                Tensor x = Tensor.randn(new Generator(batch), prepend(batch, sampleShape));
                Timing ortTime = Timing.measure(20, reps, () -> ort.run(x));
                Timing eager = Timing.measure(20, reps, () -> {
                    try (MemoryScope _ = MemoryScope.open(); var _ = Autograd.noGrad()) {
                        model.forward(x);
                    }
                });
                Timing interpreted = Timing.measure(20, reps, () -> {
                    try (MemoryScope _ = MemoryScope.open()) {
                        traced.call(x);
                    }
                });
                row(name, batch, "Kiln eager", eager, ortTime);
                row(name, batch, "Kiln interpreter", interpreted, ortTime);
                row(name, batch, "ONNX Runtime", ortTime, ortTime);
            }
        }
    }

    private static void trainingStep(int reps) throws Exception {
        Generator.manualSeed(2);
        LeNet model = new LeNet();
        Optimizer optimizer = new Adam(model.parameters(), 1e-3);
        Tensor x = Tensor.randn(new Generator(3), 64, 1, 28, 28);
        Tensor y = Tensor.randint(new Generator(4), 0, 10, 64);
        Timing step = Timing.measure(10, reps, () -> {
            try (MemoryScope _ = MemoryScope.open()) {
                F.crossEntropy(model.forward(x), y).backward();
                optimizer.step();
                optimizer.zeroGrad();
            }
        });
        System.out.printf("%-7s %5d  %-22s %10.3f %10.3f %14s   (%.0f images/s at the median)%n", "lenet", 64,
                "Kiln training step", step.minMs(), step.medianMs(), "-", 64 / (step.medianMs() / 1000));
    }

    private static void row(String model, long batch, String engine, Timing t, Timing ort) {
        System.out.printf("%-7s %5d  %-22s %10.3f %10.3f %13.2fx%n", model, batch, engine, t.minMs(), t.medianMs(), t.medianMs() / ort.medianMs());
    }

    private static long[] prepend(long first, long[] rest) {
        long[] out = new long[rest.length + 1];
        out[0] = first;
        System.arraycopy(rest, 0, out, 1, rest.length);
        return out;
    }
}
