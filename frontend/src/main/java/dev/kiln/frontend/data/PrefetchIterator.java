package dev.kiln.frontend.data;

import java.lang.ref.Cleaner;
import java.util.NoSuchElementException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An epoch whose batches are built on a daemon thread, one batch ahead of the consumer (a bounded queue of one
 * finished batch, plus the one being built). The thread ends when the epoch is exhausted, when the iterator is
 * closed, when its loader starts another epoch, or when the iterator becomes unreachable (a {@link Cleaner});
 * it never outlives a consumer that stopped early. A failure on the thread is handed to the consumer, which
 * throws it as a {@link DataLoaderException} with the original cause.
 */
final class PrefetchIterator<B> implements BatchIterator<B> {

    private static final Cleaner CLEANER = Cleaner.create();
    private static final AtomicInteger THREAD_IDS = new AtomicInteger();
    private static final long POLL_MILLIS = 50;

    /** Queue items: a batch, the end of the epoch, or a failure. */
    private record Value(Object batch) {}

    private record Failure(DataLoaderException error) {}

    private static final Object END = new Object();

    /**
     * State shared by the consumer and the producer thread. It must not refer to the iterator, so that an
     * abandoned iterator can be collected and this (as the cleaning action) stop the thread.
     */
    static final class Channel implements Runnable, EpochHandle {
        final BlockingQueue<Object> queue = new ArrayBlockingQueue<>(1);
        final Thread thread;
        volatile boolean stopped;
        volatile String superseded;

        Channel(EpochPlan<?, ?> plan) {
            this.thread = new Thread(() -> produce(plan), "kiln-dataloader-" + THREAD_IDS.incrementAndGet());
            thread.setDaemon(true);
        }

        private void produce(EpochPlan<?, ?> plan) {
            try {
                for (int b = 0; b < plan.numBatches() && !stopped; b++) {
                    Object item;
                    try {
                        item = new Value(plan.build(b));
                    } catch (Throwable t) {
                        if (stopped) return;
                        queue.put(new Failure(plan.failure(b, t)));
                        return;
                    }
                    queue.put(item);
                }
                if (!stopped) queue.put(END);
            } catch (InterruptedException stop) {
                // stopped by the consumer: just end
            }
        }

        /** Stops the producer: it ends at its next queue operation or batch boundary. Idempotent. */
        @Override
        public void run() {
            stopped = true;
            thread.interrupt();
            queue.clear();
        }

        @Override
        public void supersede(String why) {
            superseded = why;
            run();
        }
    }

    private final Channel channel;
    private final Cleaner.Cleanable cleanable;
    private Object pending;
    private boolean finished;

    PrefetchIterator(EpochPlan<?, B> plan) {
        this.channel = new Channel(plan);
        this.cleanable = CLEANER.register(this, channel);
        channel.thread.start();
    }

    /** The stop handle its loader keeps. */
    Channel channel() { return channel; }

    /** The producer thread (for tests that check it ends). */
    Thread producerThread() { return channel.thread; }

    @Override
    public boolean hasNext() {
        String why = channel.superseded;
        if (why != null) throw new IllegalStateException(why);
        if (pending != null) return true;
        if (finished) return false;
        Object item = take();
        if (item == END) {
            close();
            return false;
        }
        if (item instanceof Failure f) {
            close();
            throw new DataLoaderException(f.error().getMessage(), f.error().getCause());
        }
        pending = item;
        return true;
    }

    @Override
    @SuppressWarnings("unchecked")
    public B next() {
        if (!hasNext()) throw new NoSuchElementException("DataLoader: the epoch has no more batches");
        Object batch = ((Value) pending).batch();
        pending = null;
        return (B) batch;
    }

    private Object take() {
        try {
            while (true) {
                Object item = channel.queue.poll(POLL_MILLIS, TimeUnit.MILLISECONDS);
                if (item != null) return item;
                String why = channel.superseded;
                if (why != null) throw new IllegalStateException(why);
                if (channel.stopped) {
                    finished = true;
                    return END;
                }
                if (!channel.thread.isAlive() && channel.queue.isEmpty()) {
                    close();
                    throw new IllegalStateException("DataLoader: the prefetch thread " + channel.thread.getName()
                            + " ended without finishing the epoch");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new DataLoaderException("DataLoader: interrupted while waiting for the next batch", e);
        }
    }

    @Override
    public void close() {
        finished = true;
        pending = null;
        cleanable.clean();
    }
}
