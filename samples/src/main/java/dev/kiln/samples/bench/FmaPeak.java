package dev.kiln.samples.bench;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.ArrayList;
import java.util.List;

/**
 * The machine's f32 compute limit as plain Java reaches it: each thread runs fused multiply-adds on twelve
 * independent {@code SPECIES_PREFERRED} accumulators (enough to cover the FMA latency on two pipes) with no
 * memory traffic, and the GFLOP/s of all threads are summed. The yardstick for {@link GemmBenchmark}'s "% of
 * peak".
 */
final class FmaPeak {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static volatile float sink;

    private FmaPeak() {}

    /** Best GFLOP/s over {@code rounds} runs of about 50 ms each, with {@code threads} threads at once. */
    static double measure(int threads, int rounds) {
        double best = 0;
        for (int r = 0; r < rounds + 2; r++) {
            double g = once(threads, 10_000_000L);
            if (r >= 2) best = Math.max(best, g);
        }
        return best;
    }

    private static double once(int threads, long iterations) {
        List<Thread> workers = new ArrayList<>();
        double[] gflops = new double[threads];
        for (int t = 0; t < threads; t++) {
            int id = t;
            workers.add(Thread.ofPlatform().start(() -> gflops[id] = loop(iterations)));
        }
        double sum = 0;
        for (int t = 0; t < threads; t++) {
            try {
                workers.get(t).join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while measuring the FMA peak", e);
            }
            sum += gflops[t];
        }
        return sum;
    }

    /** GFLOP/s of one thread: 12 independent FMA chains of {@code iterations} steps. */
    static double loop(long iterations) {
        FloatVector x = FloatVector.broadcast(S, 1.0000001f), y = FloatVector.broadcast(S, 0.9999999f);
        FloatVector c0 = FloatVector.zero(S), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
        FloatVector c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        long t0 = System.nanoTime();
        for (long i = 0; i < iterations; i++) {
            c0 = x.fma(c0, y); c1 = x.fma(c1, y); c2 = x.fma(c2, y); c3 = x.fma(c3, y);
            c4 = x.fma(c4, y); c5 = x.fma(c5, y); c6 = x.fma(c6, y); c7 = x.fma(c7, y);
            c8 = x.fma(c8, y); c9 = x.fma(c9, y); c10 = x.fma(c10, y); c11 = x.fma(c11, y);
        }
        long ns = System.nanoTime() - t0;
        sink = c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11)
                .reduceLanes(VectorOperators.ADD);
        return 2.0 * 12 * S.length() * iterations / ns;
    }

    /** Floats per vector of the preferred species. */
    static int lanes() {
        return S.length();
    }
}
