package dev.kiln.runtime.kernels;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;

/**
 * Splits index ranges over a shared fork/join pool so large kernels use every core. Small ranges run inline on
 * the caller, since forking costs more than it saves. The pool size comes from system property
 * {@code kiln.threads} (default: available processors).
 */
public final class Parallel {
    /** Element counts above this are worth splitting across threads. */
    public static final long PARALLEL_THRESHOLD = 1 << 16;

    private static final int THREADS = Math.max(1, Integer.getInteger("kiln.threads",
            Runtime.getRuntime().availableProcessors()));
    private static final ForkJoinPool POOL = THREADS > 1 ? new ForkJoinPool(THREADS) : null;

    private Parallel() {}

    /** A body that handles indices {@code [start, end)}. */
    @FunctionalInterface
    public interface Range {
        void run(long start, long end);
    }

    /** Number of worker threads kernels split their work over. */
    public static int threads() {
        return THREADS;
    }

    /**
     * Runs {@code body} over {@code [0, n)}, split into chunks of at least {@code minChunk} indices that run in
     * parallel when there is more than one chunk.
     */
    public static void forRange(long n, long minChunk, Range body) {
        long chunks = POOL == null ? 1 : Math.min(THREADS * 4L, n / Math.max(1, minChunk));
        if (chunks <= 1) {
            if (n > 0) body.run(0, n);
            return;
        }
        List<RecursiveAction> tasks = new ArrayList<>((int) chunks);
        for (long c = 0; c < chunks; c++) {
            long start = n * c / chunks;
            long end = n * (c + 1) / chunks;
            tasks.add(new RecursiveAction() {
                @Override
                protected void compute() {
                    body.run(start, end);
                }
            });
        }
        POOL.invoke(new RecursiveAction() {
            @Override
            protected void compute() {
                invokeAll(tasks);
            }
        });
    }
}
