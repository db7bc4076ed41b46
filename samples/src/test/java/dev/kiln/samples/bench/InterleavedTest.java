package dev.kiln.samples.bench;

import dev.kiln.runtime.kernels.Parallel;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The benchmark helpers: interleaving with a rotating order, the JSON writer, and Parallel's thread setting. */
class InterleavedTest {

    @Test
    void everyRepetitionRunsEachEngineOnceAndTheFirstEngineRotates() throws Exception {
        List<String> log = new ArrayList<>();
        List<Interleaved.Engine> engines = List.of(
                new Interleaved.Engine("a", () -> log.add("a")),
                new Interleaved.Engine("b", () -> log.add("b")),
                new Interleaved.Engine("c", () -> log.add("c")));
        List<Interleaved.Result> results = Interleaved.measure(engines, 1, 4);
        assertEquals(List.of("a", "b", "c", /* timed: */ "a", "b", "c", "b", "c", "a", "c", "a", "b", "a", "b", "c"), log);
        assertEquals(List.of("a", "b", "c"), results.stream().map(Interleaved.Result::engine).toList());
        for (Interleaved.Result r : results) assertEquals(4, r.nanos().length);
        assertEquals(2.5, Interleaved.median(new long[] {4, 1, 3, 2}));
        assertEquals(3.0, Interleaved.median(new long[] {5, 3, 1}));
    }

    @Test
    void parallelSetThreadsReplacesThePoolAndRangesStillCoverEveryIndex() {
        int before = Parallel.threads();
        try {
            for (int threads : new int[] {1, 3, 2}) {
                Parallel.setThreads(threads);
                assertEquals(threads, Parallel.threads());
                long n = Parallel.PARALLEL_THRESHOLD * 8;
                long[] hits = new long[(int) n];
                AtomicLong chunks = new AtomicLong();
                Parallel.forRange(n, Parallel.PARALLEL_THRESHOLD, (start, end) -> {
                    chunks.incrementAndGet();
                    for (long i = start; i < end; i++) hits[(int) i]++;
                });
                long[] ones = new long[(int) n];
                java.util.Arrays.fill(ones, 1);
                assertArrayEquals(ones, hits);
                assertEquals(threads == 1 ? 1 : 8, chunks.get(), "chunks at " + threads + " threads");
            }
            assertThrows(IllegalArgumentException.class, () -> Parallel.setThreads(0));
        } finally {
            Parallel.setThreads(before);
        }
    }
}
