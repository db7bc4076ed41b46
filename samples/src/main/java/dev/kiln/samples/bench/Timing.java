package dev.kiln.samples.bench;

import java.util.Arrays;

/** Times a piece of work: warm-up runs, then repetitions summarised as min and median milliseconds. */
record Timing(double minMs, double medianMs) {

    interface Work {
        void run() throws Exception;
    }

    static Timing measure(int warmup, int reps, Work work) throws Exception {
        for (int i = 0; i < warmup; i++) work.run();
        double[] ms = new double[reps];
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            work.run();
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        return new Timing(ms[0], reps % 2 == 1 ? ms[reps / 2] : (ms[reps / 2 - 1] + ms[reps / 2]) / 2);
    }
}
