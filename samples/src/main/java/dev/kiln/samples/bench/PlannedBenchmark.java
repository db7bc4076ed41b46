package dev.kiln.samples.bench;

import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.Module;
import dev.kiln.ir.Graph;
import dev.kiln.codegen.PlannedExecutable;
import dev.kiln.passes.Optimize;
import dev.kiln.runtime.Allocations;
import dev.kiln.runtime.Interpreter;
import dev.kiln.runtime.MemoryScope;
import dev.kiln.runtime.NDArray;
import dev.kiln.samples.models.LeNet;
import dev.kiln.samples.models.Mlp;
import dev.kiln.tracer.Kiln;
import dev.kiln.tracer.TraceOptions;
import dev.kiln.tracer.TracedFunction;

import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Forward latency of the MLP and LeNet at batch 1 and 32 in the reference interpreter (fresh memory
 * per op, freed by a {@link MemoryScope} per run) against the same graph run inside its memory plan
 * ({@link PlannedExecutable}), before and after O2; with the fresh tensor allocations per run and
 * the arena size. Prints min and median milliseconds over repeated runs.
 */
public final class PlannedBenchmark {

    public static void main(String[] args) throws Exception {
        int reps = args.length > 0 ? Integer.parseInt(args[0]) : 50;
        System.out.printf("JVM %s, %d processors, %d repetitions per row (after warm-up)%n",
                Runtime.version(), Runtime.getRuntime().availableProcessors(), reps);
        System.out.printf("%-6s %5s  %-16s %9s %10s %12s %10s%n", "model", "batch", "engine", "min ms", "median ms", "allocs/run", "arena KiB");
        model("mlp", Mlp::new, new long[] {784}, reps);
        model("lenet", LeNet::new, new long[] {1, 28, 28}, reps);
    }

    private static void model(String name, Supplier<Module> factory, long[] sampleShape, int reps) throws Exception {
        Generator.manualSeed(1);
        Module model = factory.get();
        model.eval();
        TracedFunction traced = Kiln.trace(model, TraceOptions.defaults().dynamic(0, 0, "N"), Tensor.zeros(prepend(2, sampleShape)));
        for (long batch : new long[] {1, 32}) {
            List<NDArray> x = List.of(Tensor.randn(new Generator(batch), prepend(batch, sampleShape)).data());
            Map<String, Long> sizes = Map.of("N", batch);
            Optimize.Result o2 = traced.optimize(sizes);
            interpreted(name, batch, "interpreter", traced.graph(), x, traced.weights(), reps);
            planned(name, batch, "planned", PlannedExecutable.plan(traced.graph(), sizes), x, traced.weights(), reps);
            interpreted(name, batch, "O2 interpreter", o2.graph(), x, o2.weights(), reps);
            planned(name, batch, "O2 planned", PlannedExecutable.of(o2), x, o2.weights(), reps);
        }
    }

    private static void interpreted(String name, long batch, String engine, Graph g, List<NDArray> x, Map<String, NDArray> w,
                                    int reps) throws Exception {
        Timing.Work work = () -> {
            try (MemoryScope _ = MemoryScope.open()) {
                Interpreter.runTensors(g, x, w);
            }
        };
        row(name, batch, engine, Timing.measure(20, reps, work), allocationsPerRun(work), 0);
    }

    private static void planned(String name, long batch, String engine, PlannedExecutable exe, List<NDArray> x,
                                Map<String, NDArray> w, int reps) throws Exception {
        Timing.Work work = () -> {
            try (MemoryScope _ = MemoryScope.open()) {
                exe.runTensors(x, w);
            }
        };
        row(name, batch, engine, Timing.measure(20, reps, work), allocationsPerRun(work), exe.arenaBytes());
    }

    /** Fresh tensor allocations of one more run (the work is warm by now). */
    private static long allocationsPerRun(Timing.Work work) throws Exception {
        long before = Allocations.count();
        work.run();
        return Allocations.count() - before;
    }

    private static void row(String model, long batch, String engine, Timing t, long allocations, long arenaBytes) {
        System.out.printf("%-6s %5d  %-16s %9.3f %10.3f %12d %10s%n", model, batch, engine, t.minMs(), t.medianMs(), allocations,
                arenaBytes == 0 ? "-" : String.format("%.1f", arenaBytes / 1024.0));
    }

    private static long[] prepend(long first, long[] rest) {
        long[] out = new long[rest.length + 1];
        out[0] = first;
        System.arraycopy(rest, 0, out, 1, rest.length);
        return out;
    }
}
