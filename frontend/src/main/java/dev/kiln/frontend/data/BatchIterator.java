package dev.kiln.frontend.data;

import java.util.Iterator;

/**
 * One epoch over a {@link DataLoader}. Close it (try-with-resources) when stopping early to end the prefetch
 * thread at once; an iterator that is simply dropped is also stopped, when the garbage collector finds it
 * unreachable, or when its loader starts the next epoch.
 */
public interface BatchIterator<B> extends Iterator<B>, AutoCloseable {

    /** Stops loading; {@link #hasNext()} is false afterwards. Idempotent. */
    @Override
    void close();
}
