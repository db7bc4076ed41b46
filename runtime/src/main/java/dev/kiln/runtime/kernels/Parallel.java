package dev.kiln.runtime.kernels;

import dev.kiln.ir.KilnException;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
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

    /**
     * A thread count and its workers (none for one thread); replaced as a whole so readers see a consistent pair.
     * Workers wait for the next {@link Job} posted in {@link #job}: spinning for {@link #SPIN_NANOS} after their
     * last one (a kernel's calls come back to back: waking a parked thread took about 10 us a call, as much as the
     * small kernels' share of work), then parked until {@link #post} unparks them.
     */
    private static final class Pool {
        final int threads;
        final Thread[] workers;
        /** The job to take chunks of; null once its caller is done, so that nothing it captured is kept. */
        final AtomicReference<Job> job = new AtomicReference<>();
        volatile boolean stopped;

        Pool(int threads) {
            this.threads = threads;
            this.workers = new Thread[Math.max(0, threads - 1)];
            for (int i = 0; i < workers.length; i++) {
                workers[i] = Thread.ofPlatform().daemon().name("kiln-worker-" + i).unstarted(this::work);
                workers[i].start();
            }
        }

        /** Makes {@code j} the job workers take chunks of, and wakes those that parked. */
        void post(Job j) {
            job.set(j);
            for (Thread w : workers) LockSupport.unpark(w);
        }

        /** Forgets {@code j} unless another job was posted since. */
        void done(Job j) {
            job.compareAndSet(j, null);
        }

        private void work() {
            Job last = null;
            while (!stopped) {
                Job j = job.get();
                if (j != null && j != last) {
                    last = j;
                    j.run();
                    continue;
                }
                if (j == null) last = null;
                long spinUntil = System.nanoTime() + SPIN_NANOS;
                while (job.get() == j && !stopped && System.nanoTime() < spinUntil) Thread.onSpinWait();
                if (job.get() == j && !stopped) LockSupport.park(this);
            }
        }

        void stop() {
            stopped = true;
            for (Thread w : workers) LockSupport.unpark(w);
        }
    }

    /** How long an idle worker spins for the next job before parking. */
    private static final long SPIN_NANOS = 50_000;

    private static volatile Pool current = new Pool(Math.max(1, Integer.getInteger("kiln.threads",
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
        return current.threads;
    }

    /**
     * Sets how many threads kernels split their work over, for the whole process: the workers are replaced by
     * {@code threads - 1} new ones (none for 1). The old workers stop after the chunks they have started; callers
     * finish the rest of their ranges themselves.
     */
    public static synchronized void setThreads(int threads) {
        if (threads < 1) throw new KilnException("Parallel.setThreads: thread count must be >= 1, got " + threads);
        Pool old = current;
        if (old.threads == threads) return;
        current = new Pool(threads);
        old.stop();
    }

    /**
     * Runs {@code body} over {@code [0, n)}, split into chunks of at least {@code minChunk} indices that run in
     * parallel when there is more than one chunk. The first exception a chunk throws is rethrown here, after every
     * started chunk has finished.
     */
    public static void forRange(long n, long minChunk, Range body) {
        Pool p = current;
        long chunks = p.workers.length == 0 ? 1 : Math.min(p.threads * 4L, n / Math.max(1, minChunk));
        if (chunks <= 1) {
            if (n > 0) body.run(0, n);
            return;
        }
        Job job = new Job(n, (int) chunks, body, Thread.currentThread());
        p.post(job);   // a stopped pool's workers take nothing: the caller takes every chunk
        job.run();
        try {
            job.await();
        } finally {
            p.done(job);
        }
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
