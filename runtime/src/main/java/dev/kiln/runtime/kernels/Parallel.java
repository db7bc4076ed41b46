package dev.kiln.runtime.kernels;

import dev.kiln.ir.KilnException;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Kiln's one intra-op thread pool: splits index ranges over the calling thread and {@code threads - 1} pool
 * workers, so large kernels use every core. The pool size defaults to system property {@code kiln.threads} (else
 * the number of available processors) and can be changed for the whole process with {@link #setThreads}; with one
 * thread every range runs inline on the caller, as do small ranges, since handing work over costs more than it
 * saves.
 *
 * <p>Chunks are shared, not assigned: the caller and the workers take the next unstarted chunk until none is left,
 * and the caller only waits for chunks a worker has already started. On a machine whose cores are busy with other
 * work, a worker that is not scheduled simply takes no chunks, and the caller does the work itself rather than
 * waiting for it.
 */
public final class Parallel {
    /** Element counts above this are worth splitting across threads. */
    public static final long PARALLEL_THRESHOLD = 1 << 16;

    /** A thread count and its workers (null for one thread); replaced as a whole so readers see a consistent pair. */
    private record Pool(int threads, ExecutorService workers) {
        static Pool of(int threads) {
            return new Pool(threads, threads > 1 ? Executors.newFixedThreadPool(threads - 1, Thread.ofPlatform()
                    .daemon().name("kiln-worker-", 0).factory()) : null);
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

    /** An unstarted thread: segments it may access are accessible from the pool's threads too. */
    private static final Thread OTHER_THREAD = Thread.ofPlatform().unstarted(() -> { });

    /**
     * Whether pool workers may access every one of {@code segments} (null ones and {@link MemorySegment#NULL}'s
     * scope are ignored): a segment confined to the calling thread keeps a kernel on that thread.
     */
    public static boolean shareable(MemorySegment... segments) {
        for (MemorySegment s : segments) {
            if (s != null && s.scope() != MemorySegment.NULL.scope() && !s.isAccessibleBy(OTHER_THREAD)) return false;
        }
        return true;
    }

    /** Number of threads kernels split their work over (the caller included). */
    public static int threads() {
        return current.threads();
    }

    /**
     * Sets how many threads kernels split their work over, for the whole process: the workers are replaced by
     * {@code threads - 1} new ones (none for 1). The old workers stop after the chunks they have started; callers
     * finish the rest of their ranges themselves.
     */
    public static synchronized void setThreads(int threads) {
        if (threads < 1) throw new KilnException("Parallel.setThreads: thread count must be >= 1, got " + threads);
        Pool old = current;
        if (old.threads() == threads) return;
        current = Pool.of(threads);
        if (old.workers() != null) old.workers().shutdown();
    }

    /**
     * Runs {@code body} over {@code [0, n)}, split into chunks of at least {@code minChunk} indices that run in
     * parallel when there is more than one chunk. The first exception a chunk throws is rethrown here, after every
     * started chunk has finished.
     */
    public static void forRange(long n, long minChunk, Range body) {
        Pool p = current;
        long chunks = p.workers() == null ? 1 : Math.min(p.threads() * 4L, n / Math.max(1, minChunk));
        if (chunks <= 1) {
            if (n > 0) body.run(0, n);
            return;
        }
        Job job = new Job(n, (int) chunks, body, Thread.currentThread());
        for (int i = 0; i < p.threads() - 1 && i < chunks - 1; i++) {
            try {
                p.workers().execute(job);
            } catch (RejectedExecutionException e) {
                break;   // setThreads stopped these workers meanwhile: the caller takes their chunks
            }
        }
        job.run();
        job.await();
    }

    /** One range being split: the next chunk to take, the chunks not yet finished, the first failure. */
    private static final class Job implements Runnable {
        private final long n;
        private final int chunks;
        private final Range body;
        private final Thread caller;
        private final AtomicInteger next = new AtomicInteger();
        private final AtomicInteger unfinished;
        private volatile Throwable failure;

        Job(long n, int chunks, Range body, Thread caller) {
            this.n = n;
            this.chunks = chunks;
            this.body = body;
            this.caller = caller;
            this.unfinished = new AtomicInteger(chunks);
        }

        @Override
        public void run() {
            for (int c; (c = next.getAndIncrement()) < chunks; ) {
                try {
                    if (failure == null) body.run(n * c / chunks, n * (c + 1) / chunks);
                } catch (Throwable t) {
                    if (failure == null) failure = t;
                } finally {
                    if (unfinished.decrementAndGet() == 0) LockSupport.unpark(caller);
                }
            }
        }

        /** Waits (on the caller) for the chunks workers started, then rethrows the first failure. */
        void await() {
            for (int spins = 0; unfinished.get() > 0; spins++) {
                if (spins < 256) Thread.onSpinWait();
                else LockSupport.park(this);
            }
            Throwable t = failure;
            if (t instanceof RuntimeException r) throw r;
            if (t instanceof Error e) throw e;
            if (t != null) throw new IllegalStateException(t);
        }
    }
}
