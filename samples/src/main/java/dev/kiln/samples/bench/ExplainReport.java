package dev.kiln.samples.bench;

import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.Linear;
import dev.kiln.frontend.nn.Module;
import dev.kiln.frontend.nn.TransformerEncoderLayer;
import dev.kiln.passes.Optimize;
import dev.kiln.samples.models.LeNet;
import dev.kiln.samples.models.ResNet18;
import dev.kiln.tracer.Kiln;
import dev.kiln.tracer.TracedFunction;

import java.util.Map;
import java.util.function.Supplier;

/**
 * The O2 explain report for ResNet-18 (3×224×224), a Transformer encoder layer model (sequence 128,
 * d_model 256, 4 heads, FFN 1024) and LeNet, each traced in eval mode at batch 1 and 32: node counts
 * before and after, the passes that changed the graph, folds and fusion groups, planned memory
 * against the lower bound and the naive total, and O2 compile time.
 */
public final class ExplainReport {

    /** A Transformer encoder layer (relu like PyTorch's default, or gelu) with a linear head over the mean token. */
    static final class TransformerModel extends Module {
        final TransformerEncoderLayer layer;
        final Linear head = new Linear(256, 10);

        TransformerModel(boolean gelu) { layer = new TransformerEncoderLayer(256, 4, 1024, 0.1, gelu, 1e-5, true, false); }

        @Override
        public Tensor forward(Tensor x) { return head.forward(layer.forward(x).mean(1, false)); }
    }

    public static void main(String[] args) {
        boolean verbose = args.length > 0 && args[0].equals("--verbose");
        report("ResNet-18", ResNet18::new, new long[] {3, 224, 224}, verbose);
        report("Transformer", () -> new TransformerModel(false), new long[] {128, 256}, verbose);
        report("Transf.gelu", () -> new TransformerModel(true), new long[] {128, 256}, verbose);
        report("LeNet", LeNet::new, new long[] {1, 28, 28}, verbose);
    }

    private static void report(String name, Supplier<Module> factory, long[] sample, boolean verbose) {
        Generator.manualSeed(1);
        Module model = factory.get();
        model.eval();
        for (long batch : new long[] {1, 32}) {
            long[] shape = new long[sample.length + 1];
            shape[0] = batch;
            System.arraycopy(sample, 0, shape, 1, sample.length);
            TracedFunction traced = Kiln.trace(model, Tensor.zeros(shape));
            Optimize.Result r = traced.optimize(Map.of());
            var plan = r.plan();
            System.out.printf("%-11s batch %2d: nodes %3d -> %3d, O2 %7.1f ms, %d folds, %d fusions, %d elementwise groups; "
                            + "memory peak %s, lower bound %s, naive %s (peak/lower %.2f, peak/naive %.2f)%n",
                    name, batch, r.opsBefore(), r.opsAfter(), r.time().toNanos() / 1e6, r.folds().size(), r.fusions().size(), r.groups().size(),
                    mib(plan.peakBytes()), mib(plan.lowerBound()), mib(plan.naiveBytes()),
                    (double) plan.peakBytes() / plan.lowerBound(), (double) plan.peakBytes() / plan.naiveBytes());
            if (verbose) System.out.println(r.explain());
        }
    }

    private static String mib(long bytes) {
        return bytes < 1 << 20 ? String.format("%.1f KiB", bytes / 1024.0) : String.format("%.1f MiB", bytes / 1048576.0);
    }
}
