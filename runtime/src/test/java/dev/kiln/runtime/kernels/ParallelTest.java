package dev.kiln.runtime.kernels;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

class ParallelTest {
    private int before;

    @BeforeEach
    void twoThreads() {
        before = Parallel.threads();
        Parallel.setThreads(2);
    }

    @AfterEach
    void restore() {
        Parallel.setThreads(before);
    }

    @Test
    void everyIndexIsVisitedExactlyOnce() {
        for (long n : new long[] {1, 7, 1000, 123_457}) {
            AtomicLongArray seen = new AtomicLongArray((int) n);
            Parallel.forRange(n, 3, (s, e) -> { for (long i = s; i < e; i++) seen.incrementAndGet((int) i); });
            for (int i = 0; i < n; i++) assertEquals(1, seen.get(i), "index " + i + " of " + n);
        }
    }

    /** A worker that is busy elsewhere (as on a loaded machine) takes no chunks: the caller does them all. */
    @Test
    void theCallerFinishesAloneWhenTheWorkerIsBusy() throws Exception {
        CountDownLatch occupied = new CountDownLatch(1), release = new CountDownLatch(1);
        Thread other = Thread.ofPlatform().start(() -> Parallel.forRange(2, 1, (s, e) -> {
            occupied.countDown();
            try {
                release.await();
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
        }));
        occupied.await();
        try {
            AtomicLong sum = new AtomicLong();
            assertTimeoutPreemptively(Duration.ofSeconds(20), () -> Parallel.forRange(1000, 1, (s, e) -> {
                for (long i = s; i < e; i++) sum.addAndGet(i);
            }));
            assertEquals(999L * 1000 / 2, sum.get());
        } finally {
            release.countDown();
            other.join();
        }
    }

    @Test
    void aFailingChunkIsRethrownOnTheCaller() {
        IllegalStateException boom = new IllegalStateException("boom");
        IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> Parallel.forRange(100, 1, (s, e) -> {
            if (s <= 50 && 50 < e) throw boom;
        }));
        assertSame(boom, thrown);
    }
}
