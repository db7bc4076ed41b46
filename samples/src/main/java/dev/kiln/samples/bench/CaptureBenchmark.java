package dev.kiln.samples.bench;

import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import dev.kiln.ir.DType;
import dev.kiln.ir.TensorType;
import dev.kiln.samples.models.LeNet;
import dev.kiln.samples.models.ResNet18;
import dev.kiln.tracer.CompileOptions;
import dev.kiln.tracer.Compiled;
import dev.kiln.tracer.Kiln;
import dev.kiln.tracer.capture.Capture;

/**
 * Capture cost and guard cost: the time to capture ResNet-18's {@code @Compile} forward from its
 * bytecode (1×3×224×224, in eval mode), and the per-call cost of {@link Compiled}'s guard check
 * (specialisation key plus field guards) once the graph is cached.
 */
public final class CaptureBenchmark {

    public static void main(String[] args) throws Exception {
        int reps = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        Generator.manualSeed(1);
        ResNet18 resnet = new ResNet18();
        resnet.eval();
        TensorType input = TensorType.of(DType.F32, 1, 3, 224, 224);
        Timing capture = Timing.measure(2, reps, () -> Capture.compile(resnet, input));
        int ops = Capture.compile(resnet, input).graph().body().ops().size();
        System.out.printf("ResNet-18 capture (%d ops, %d weights): min %.1f ms, median %.1f ms over %d runs%n", ops,
                Capture.compile(resnet, input).graph().weights().size(), capture.minMs(), capture.medianMs(), reps);

        for (Object[] row : new Object[][] {{"LeNet", new LeNet(), new long[] {1, 1, 28, 28}}, {"ResNet-18", resnet, new long[] {1, 3, 224, 224}}}) {
            Compiled compiled = Kiln.compile((dev.kiln.frontend.nn.Module) row[1], "forward", CompileOptions.defaults());
            Tensor x = Tensor.randn(new Generator(2), (long[]) row[2]);
            compiled.select(x);   // captures once
            int calls = 100_000;
            Timing guard = Timing.measure(3, 15, () -> {
                for (int i = 0; i < calls; i++) compiled.select(x);
            });
            System.out.printf("%s guard check per call (%d field guards): min %.2f us, median %.2f us%n", row[0],
                    compiled.select(x).guards().size(), guard.minMs() * 1000 / calls, guard.medianMs() * 1000 / calls);
        }
    }
}
