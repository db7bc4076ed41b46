package dev.kiln.samples.bench;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;

/**
 * The STREAM triad {@code a[i] = b[i] + s * c[i]} over f32 arrays in off-heap memory, written in plain Java
 * with the Vector API: the memory-bandwidth yardstick for Kiln's elementwise code. With {@code threads > 1}
 * the range is split evenly over the caller and {@code threads - 1} platform threads that are created once
 * and reused for every run (two barriers per run, no thread start-up in the timing).
 */
final class StreamTriad implements AutoCloseable {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private final Arena arena = Arena.ofShared();
    private final MemorySegment a, b, c;
    private final long n;
    private final float s = 3.0f;
    private final int threads;
    private final CyclicBarrier start, done;
    private final Thread[] workers;
    private volatile boolean closing;

    StreamTriad(long n, int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        this.n = n;
        this.threads = threads;
        a = arena.allocate(n * Float.BYTES, 64);
        b = arena.allocate(n * Float.BYTES, 64);
        c = arena.allocate(n * Float.BYTES, 64);
        for (long i = 0; i < n; i++) {
            b.setAtIndex(ValueLayout.JAVA_FLOAT, i, 1.0f + (i % 7));
            c.setAtIndex(ValueLayout.JAVA_FLOAT, i, 0.5f * (i % 5));
        }
        start = new CyclicBarrier(threads);
        done = new CyclicBarrier(threads);
        workers = new Thread[threads - 1];
        for (int t = 1; t < threads; t++) {
            int part = t;
            workers[t - 1] = Thread.ofPlatform().daemon().name("stream-triad-" + t).start(() -> work(part));
        }
    }

    /** Bytes one run moves as STREAM counts them: two arrays read, one written. */
    long bytesPerRun() { return 3L * Float.BYTES * n; }

    /** One triad over the whole range. */
    void run() {
        if (threads == 1) {
            triad(0, n);
            return;
        }
        await(start);
        triad(0, end(0));
        await(done);
    }

    /** {@code a[i]} after the last run, for a sanity check. */
    float a(long i) { return a.getAtIndex(ValueLayout.JAVA_FLOAT, i); }

    /** What {@code a[i]} should be. */
    float expected(long i) { return (1.0f + (i % 7)) + s * (0.5f * (i % 5)); }

    private void work(int part) {
        while (true) {
            await(start);
            if (closing) return;
            triad(end(part - 1), end(part));
            await(done);
        }
    }

    /** The end of part {@code p}'s range (part p covers {@code [end(p - 1), end(p))}), on a vector boundary. */
    private long end(int p) {
        if (p < 0) return 0;
        if (p == threads - 1) return n;
        long e = n * (p + 1) / threads;
        return e - e % SPECIES.length();
    }

    private void triad(long from, long to) {
        int lanes = SPECIES.length();
        long i = from;
        long upper = from + (to - from) / lanes * lanes;
        FloatVector sv = FloatVector.broadcast(SPECIES, s);
        for (; i < upper; i += lanes) {
            long offset = i * Float.BYTES;
            FloatVector bv = FloatVector.fromMemorySegment(SPECIES, b, offset, ORDER);
            FloatVector cv = FloatVector.fromMemorySegment(SPECIES, c, offset, ORDER);
            bv.add(cv.mul(sv)).intoMemorySegment(a, offset, ORDER);
        }
        for (; i < to; i++) {
            a.setAtIndex(ValueLayout.JAVA_FLOAT, i, b.getAtIndex(ValueLayout.JAVA_FLOAT, i) + s * c.getAtIndex(ValueLayout.JAVA_FLOAT, i));
        }
    }

    private static void await(CyclicBarrier barrier) {
        try {
            barrier.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (BrokenBarrierException e) {
            throw new IllegalStateException("a triad worker failed", e);
        }
    }

    @Override
    public void close() {
        if (threads > 1) {
            closing = true;
            await(start);
            for (Thread w : workers) {
                try {
                    w.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        arena.close();
    }
}
