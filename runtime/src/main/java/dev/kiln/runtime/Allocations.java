package dev.kiln.runtime;

import java.util.concurrent.atomic.LongAdder;

/**
 * A process-wide count of fresh off-heap tensor memory: every {@link NDArray} allocation that is not
 * served by a planned arena slot, and every kernel {@link Scratch} request that does not fit the
 * installed scratch region. Planned execution uses it to show that a run allocates nothing per op;
 * tests read the difference before and after a run. Java heap objects (array headers, shape arrays,
 * small per-op arrays) and memory OpenBLAS manages itself are not counted.
 */
public final class Allocations {
    private static final LongAdder COUNT = new LongAdder();
    private static final LongAdder BYTES = new LongAdder();

    private Allocations() {}

    /** Fresh allocations so far, on every thread. */
    public static long count() { return COUNT.sum(); }

    /** Bytes of fresh allocations so far, on every thread. */
    public static long bytes() { return BYTES.sum(); }

    static void record(long bytes) {
        COUNT.increment();
        BYTES.add(bytes);
    }
}
