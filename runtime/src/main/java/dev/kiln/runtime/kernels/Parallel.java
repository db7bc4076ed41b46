package dev.kiln.runtime.kernels;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;
import java.util.concurrent.RejectedExecutionException;

/**
 * Splits index ranges over a shared fork/join pool so large kernels use every core. Small ranges run inline on
 * the caller, since forking costs more than it saves. The pool size defaults to system property
 * {@code kiln.threads} (else the number of available processors) and can be changed for the whole process with
 * {@link #setThreads}; with one thread every range runs inline on the caller.
 */
public final class Parallel {
    /** Element counts above this are worth splitting across threads. */
    public static final long PARALLEL_THRESHOLD = 1 << 16;

    /** A thread count and its pool (null for one thread); replaced as a whole so readers see a consistent pair. */
    private record Pool(int threads, ForkJoinPool pool) {
        static Pool of(int threads) {
            return new Pool(threads, threads > 1 ? new ForkJoinPool(threads) : null);
        }
    }

    private static volatile Pool current = Pool.of(Math.max(1, Integer.getInteger("kiln.threads",
            Runtime.getRuntime().availableProcessors())));

    private Parallel() {}

    /** A body that handles indices {@code [start, end)}. */
    @FunctionalInterface
    public interface Range {
        void run(long start, long end);
    }

    /** Number of worker threads kernels split their work over. */
    public static int threads() {
        return current.threads();
    }

    /**
     * Sets how many threads kernels split their work over, for the whole process: the pool is replaced by one of
     * {@code threads} workers (none for 1). Ranges already running finish on the old pool, which then shuts down.
     */
    public static synchronized void setThreads(int threads) {
        if (threads < 1) throw new IllegalArgumentException("Parallel.setThreads: thread count must be >= 1, got " + threads);
        Pool old = current;
        if (old.threads() == threads) return;
        current = Pool.of(threads);
        if (old.pool() != null) old.pool().shutdown();
    }

    /**
     * Runs {@code body} over {@code [0, n)}, split into chunks of at least {@code minChunk} indices that run in
     * parallel when there is more than one chunk.
     */
    public static void forRange(long n, long minChunk, Range body) {
        Pool p = current;
        long chunks = p.pool() == null ? 1 : Math.min(p.threads() * 4L, n / Math.max(1, minChunk));
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
        try {
            p.pool().invoke(new RecursiveAction() {
                @Override
                protected void compute() {
                    invokeAll(tasks);
                }
            });
        } catch (RejectedExecutionException e) {
            // setThreads shut this pool down between reading it and submitting to it: nothing ran, so run inline.
            if (!p.pool().isShutdown()) throw e;
            body.run(0, n);
        }
    }
}
