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

    /** A Transformer encoder layer with a linear head over the mean token. */
    static final class TransformerModel extends Module {
        final TransformerEncoderLayer layer = new TransformerEncoderLayer(256, 4, 1024, 0.1, false, 1e-5, true, false);
        final Linear head = new Linear(256, 10);

        @Override
        public Tensor forward(Tensor x) { return head.forward(layer.forward(x).mean(1, false)); }
    }

    public static void main(String[] args) {
        boolean verbose = args.length > 0 && args[0].equals("--verbose");
        report("ResNet-18", ResNet18::new, new long[] {3, 224, 224}, verbose);
        report("Transformer", TransformerModel::new, new long[] {128, 256}, verbose);
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
                            + "memory peak %.1f MiB, lower bound %.1f MiB, naive %.1f MiB (peak/lower %.2f, peak/naive %.2f)%n",
                    name, batch, r.opsBefore(), r.opsAfter(), r.time().toNanos() / 1e6, r.folds().size(), r.fusions().size(), r.groups().size(),
                    plan.peakBytes() / 1048576.0, plan.lowerBound() / 1048576.0, plan.naiveBytes() / 1048576.0,
                    (double) plan.peakBytes() / plan.lowerBound(), (double) plan.peakBytes() / plan.naiveBytes());
            if (verbose) System.out.println(r.explain());
        }
    }
}
