package dev.kiln.frontend.data;

import java.util.NoSuchElementException;

/** An epoch whose batches are built on the iterating thread, on demand (no prefetch thread). */
final class SyncIterator<B> implements BatchIterator<B>, EpochHandle {

    private final EpochPlan<?, B> plan;
    private int nextBatch;
    private boolean closed;
    private volatile String superseded;

    SyncIterator(EpochPlan<?, B> plan) { this.plan = plan; }

    @Override
    public boolean hasNext() {
        String why = superseded;
        if (why != null) throw new IllegalStateException(why);
        return !closed && nextBatch < plan.numBatches();
    }

    @Override
    public B next() {
        if (!hasNext()) throw new NoSuchElementException("DataLoader: the epoch has no more batches");
        return plan.build(nextBatch++);
    }

    @Override
    public void close() { closed = true; }

    @Override
    public void supersede(String why) { superseded = why; }
}
