package dev.kiln.samples.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Times several engines on the same work with their repetitions interleaved: each repetition runs every
 * engine once, and the order rotates from one repetition to the next so that no engine always goes first
 * (or always runs right after the same neighbour). Machine noise then hits all engines alike.
 */
public final class Interleaved {

    private Interleaved() {}

    /** One run of an engine's work. */
    @FunctionalInterface
    public interface Work {
        void run() throws Exception;
    }

    /** An engine: a name and one run of its work. */
    public record Engine(String name, Work work) {}

    /** An engine's repetition times, in nanoseconds, in the order they ran. */
    public record Result(String engine, long[] nanos) {
        public double minMs() { return Arrays.stream(nanos).min().orElseThrow() / 1e6; }

        public double medianMs() { return median(nanos) / 1e6; }
    }

    /**
     * Runs {@code warmup} untimed and then {@code reps} timed interleaved rounds; repetition {@code r} starts with
     * engine {@code r mod k} and goes round the list. Results are in the engines' order.
     */
    public static List<Result> measure(List<Engine> engines, int warmup, int reps) throws Exception {
        if (engines.isEmpty()) throw new IllegalArgumentException("no engines to measure");
        if (reps < 1) throw new IllegalArgumentException("reps must be at least 1, got " + reps);
        int k = engines.size();
        for (int w = 0; w < warmup; w++) {
            for (int j = 0; j < k; j++) engines.get((w + j) % k).work().run();
        }
        long[][] nanos = new long[k][reps];
        for (int r = 0; r < reps; r++) {
            for (int j = 0; j < k; j++) {
                int e = (r + j) % k;
                Work work = engines.get(e).work();
                long t0 = System.nanoTime();
                work.run();
                nanos[e][r] = System.nanoTime() - t0;
            }
        }
        List<Result> out = new ArrayList<>(k);
        for (int e = 0; e < k; e++) out.add(new Result(engines.get(e).name(), nanos[e]));
        return out;
    }

    /** The median of {@code v} (the mean of the middle two for an even count). */
    public static double median(long[] v) {
        long[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2.0;
    }
}
