package dev.kiln.frontend.data;

import dev.kiln.frontend.Tensor;
import dev.kiln.ir.DType;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DataLoaderTest {

    /** n samples: input i is the f32 row [i, 10i], target i is i (i64). */
    static TensorDataset numbered(int n) {
        float[] x = new float[2 * n];
        long[] y = new long[n];
        for (int i = 0; i < n; i++) {
            x[2 * i] = i;
            x[2 * i + 1] = 10 * i;
            y[i] = i;
        }
        return new TensorDataset(Tensor.of(x, n, 2), Tensor.of(y, n));
    }

    static List<Long> targets(Iterable<Batch> loader) {
        List<Long> out = new ArrayList<>();
        for (Batch b : loader) for (long v : b.targets().data().toLongArray()) out.add(v);
        return out;
    }

    @Test
    void batchesInOrderWithAPartialLastBatch() {
        for (boolean prefetch : new boolean[] {true, false}) {
            DataLoader<Tensor[], Batch> loader = DataLoader.builder(numbered(10), Collate.pairs())
                    .batchSize(4).prefetch(prefetch).build();
            assertEquals(3, loader.numBatches());
            List<Batch> batches = new ArrayList<>();
            loader.forEach(batches::add);
            assertEquals(3, batches.size());
            assertArrayEquals(new long[] {4, 2}, batches.get(0).inputs().shape());
            assertEquals(DType.F32, batches.get(0).inputs().dtype());
            assertArrayEquals(new float[] {0, 0, 1, 10, 2, 20, 3, 30}, batches.get(0).inputs().data().toFloatArray());
            assertArrayEquals(new long[] {4, 5, 6, 7}, batches.get(1).targets().data().toLongArray());
            assertArrayEquals(new long[] {2, 2}, batches.get(2).inputs().shape());
            assertArrayEquals(new float[] {8, 80, 9, 90}, batches.get(2).inputs().data().toFloatArray());
            assertArrayEquals(new long[] {8, 9}, batches.get(2).targets().data().toLongArray());
        }
    }

    @Test
    void dropLastDropsOnlyTheIncompleteBatch() {
        DataLoader<Tensor[], Batch> loader = DataLoader.builder(numbered(10), Collate.pairs()).batchSize(4)
                .dropLast(true).build();
        assertEquals(2, loader.numBatches());
        assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L), targets(loader));
        DataLoader<Tensor[], Batch> exact = DataLoader.builder(numbered(8), Collate.pairs()).batchSize(4)
                .dropLast(true).build();
        assertEquals(8, targets(exact).size());
    }

    @Test
    void shufflingIsReproducibleAndFreshEveryEpoch() {
        DataLoader<Tensor[], Batch> a = DataLoader.builder(numbered(50), Collate.pairs()).batchSize(8).shuffle(42).build();
        DataLoader<Tensor[], Batch> b = DataLoader.builder(numbered(50), Collate.pairs()).batchSize(8).shuffle(42).build();
        DataLoader<Tensor[], Batch> c = DataLoader.builder(numbered(50), Collate.pairs()).batchSize(8).shuffle(43).build();
        List<Long> a1 = targets(a), a2 = targets(a), b1 = targets(b), b2 = targets(b), c1 = targets(c);
        assertEquals(a1, b1, "same seed, same first epoch");
        assertEquals(a2, b2, "same seed, same second epoch");
        assertNotEquals(a1, a2, "a fresh permutation each epoch");
        assertNotEquals(a1, c1, "another seed, another order");
        List<Long> sorted = new ArrayList<>(a1);
        sorted.sort(null);
        List<Long> all = new ArrayList<>();
        for (long i = 0; i < 50; i++) all.add(i);
        assertEquals(all, sorted, "each epoch is a permutation");
        assertNotEquals(all, a1);
        assertEquals(2, a.epochs());
    }

    @Property(tries = 60)
    void everySampleOnceInBatchesOfTheRightSize(@ForAll @IntRange(min = 0, max = 40) int n,
                                                 @ForAll @IntRange(min = 1, max = 12) int batchSize,
                                                 @ForAll boolean dropLast, @ForAll boolean shuffle,
                                                 @ForAll boolean prefetch) {
        DataLoader.Builder<Tensor[], Batch> builder = DataLoader.builder(numbered(n), Collate.pairs())
                .batchSize(batchSize).dropLast(dropLast).prefetch(prefetch);
        if (shuffle) builder.shuffle(n * 31L + batchSize);
        DataLoader<Tensor[], Batch> loader = builder.build();
        int batches = 0;
        List<Long> seen = new ArrayList<>();
        for (Batch b : loader) {
            batches++;
            long size = b.size();
            assertTrue(size == batchSize || (!dropLast && size == n % batchSize && batches == loader.numBatches()),
                    "batch " + batches + " has " + size + " samples");
            float[] x = b.inputs().data().toFloatArray();
            long[] y = b.targets().data().toLongArray();
            for (int i = 0; i < y.length; i++) {
                assertEquals((float) y[i], x[2 * i], "input and target stay paired");
                assertEquals(10f * y[i], x[2 * i + 1]);
                seen.add(y[i]);
            }
        }
        assertEquals(loader.numBatches(), batches);
        assertEquals(dropLast ? n / batchSize * batchSize : n, seen.size());
        assertEquals(seen.size(), seen.stream().distinct().count(), "no sample twice");
        if (!shuffle) for (int i = 0; i < seen.size(); i++) assertEquals(i, seen.get(i));
    }

    @Test
    void closingAnIteratorEarlyEndsTheProducerThread() throws InterruptedException {
        DataLoader<Tensor[], Batch> loader = DataLoader.builder(numbered(100), Collate.pairs()).batchSize(2).build();
        Thread producer;
        try (BatchIterator<Batch> it = loader.iterator()) {
            producer = ((PrefetchIterator<Batch>) it).producerThread();
            assertTrue(producer.isDaemon());
            it.next();
            Thread.sleep(20); // let the producer fill the queue and block on the next put
            assertTrue(producer.isAlive(), "the producer is blocked one batch ahead");
        }
        producer.join(5000);
        assertFalse(producer.isAlive(), "closing stopped the producer");
    }

    @Test
    void breakingOutAndStartingTheNextEpochStopsTheOldProducer() throws InterruptedException {
        DataLoader<Tensor[], Batch> loader = DataLoader.builder(numbered(100), Collate.pairs()).batchSize(2).build();
        BatchIterator<Batch> first = loader.iterator();
        Thread producer = ((PrefetchIterator<Batch>) first).producerThread();
        first.next(); // then abandon it, as a `break` would
        assertEquals(100, targets(loader).size(), "the next epoch is complete");
        producer.join(5000);
        assertFalse(producer.isAlive());
        IllegalStateException e = assertThrows(IllegalStateException.class, first::hasNext);
        assertTrue(e.getMessage().contains("a new epoch was started"), e.getMessage());
    }

    @Test
    void anAbandonedIteratorIsStoppedWhenCollected() throws InterruptedException {
        DataLoader<Tensor[], Batch> loader = DataLoader.builder(numbered(100), Collate.pairs()).batchSize(2).build();
        Thread producer = startAndAbandon(loader);
        for (int i = 0; i < 100 && producer.isAlive(); i++) {
            System.gc();
            producer.join(50);
        }
        assertFalse(producer.isAlive(), "the Cleaner stopped the producer of an unreachable iterator");
    }

    private static Thread startAndAbandon(DataLoader<Tensor[], Batch> loader) {
        BatchIterator<Batch> it = loader.iterator();
        it.next(); // then drop the iterator without closing it
        return ((PrefetchIterator<Batch>) it).producerThread();
    }

    @Test
    void closingTheLoaderStopsItsEpoch() throws InterruptedException {
        DataLoader<Tensor[], Batch> loader = DataLoader.builder(numbered(100), Collate.pairs()).batchSize(2).build();
        BatchIterator<Batch> it = loader.iterator();
        Thread producer = ((PrefetchIterator<Batch>) it).producerThread();
        loader.close();
        producer.join(5000);
        assertFalse(producer.isAlive());
        assertThrows(IllegalStateException.class, it::hasNext);
        assertEquals(100, targets(loader).size(), "the loader is still usable");
    }

    @Test
    void producerFailuresSurfaceInTheConsumerWithTheirCause() {
        for (boolean prefetch : new boolean[] {true, false}) {
            AtomicInteger calls = new AtomicInteger();
            Dataset<Tensor[]> failing = numbered(20).map(s -> {
                calls.incrementAndGet();
                if (s[1].data().getLong() == 13) throw new IllegalStateException("sample 13 is corrupt");
                return s;
            });
            DataLoader<Tensor[], Batch> loader = DataLoader.builder(failing, Collate.pairs()).batchSize(5)
                    .prefetch(prefetch).build();
            List<Long> got = new ArrayList<>();
            DataLoaderException e = assertThrows(DataLoaderException.class, () -> {
                for (Batch b : loader) for (long v : b.targets().data().toLongArray()) got.add(v);
            });
            assertEquals(10, got.size(), "the batches before the failing one arrive");
            assertInstanceOf(IllegalStateException.class, e.getCause());
            assertEquals("sample 13 is corrupt", e.getCause().getMessage());
            assertTrue(e.getMessage().contains("batch 2 of 4 (dataset indices [10, 11, 12, 13, 14])"), e.getMessage());
        }
    }

    @Test
    void collationErrorsNameTheSample() {
        Dataset<Tensor[]> ragged = new Dataset<>() {
            @Override
            public int size() { return 3; }

            @Override
            public Tensor[] get(int i) { return new Tensor[] {Tensor.zeros(DType.F32, 2, i == 2 ? 3 : 2), Tensor.of(new long[] {i})}; }
        };
        DataLoader<Tensor[], List<Tensor>> loader = DataLoader.builder(ragged).batchSize(3).build();
        DataLoaderException e = assertThrows(DataLoaderException.class, () -> loader.iterator().next());
        assertTrue(e.getCause().getMessage().contains("field 0 of sample 2 is f32 [2, 3] but sample 0's is f32 [2, 2]"),
                e.getCause().getMessage());
    }

    @Test
    void stackCopiesAndListCollationKeepsAllFields() {
        Tensor a = Tensor.of(new float[] {1, 2}), b = Tensor.of(new float[] {3, 4});
        Tensor s = Collate.stackTensors(List.of(a, b));
        assertArrayEquals(new long[] {2, 2}, s.shape());
        assertArrayEquals(new float[] {1, 2, 3, 4}, s.data().toFloatArray());
        a.data().setFlat(0, 99);
        assertEquals(1f, s.data().getFlat(0), "stacking copies");

        TensorDataset three = new TensorDataset(Tensor.of(new float[] {1, 2, 3}), Tensor.of(new long[] {4, 5, 6}),
                Tensor.of(new int[] {7, 8, 9}));
        List<List<Tensor>> batches = new ArrayList<>();
        DataLoader.builder(three).batchSize(2).build().forEach(batches::add);
        assertEquals(2, batches.size());
        assertEquals(3, batches.get(0).size());
        assertEquals(DType.I32, batches.get(0).get(2).dtype());
        assertArrayEquals(new long[] {9}, batches.get(1).get(2).data().toLongArray());
        IllegalArgumentException pairs = assertThrows(IllegalArgumentException.class,
                () -> Collate.pairs().apply(java.util.Collections.singletonList(three.get(0))));
        assertTrue(pairs.getMessage().contains("sample 0 has 3 fields"), pairs.getMessage());
    }

    @Test
    void tensorDatasetValidatesAndShares() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new TensorDataset(Tensor.zeros(DType.F32, 3, 2), Tensor.zeros(DType.I64, 4)));
        assertTrue(e.getMessage().contains("tensor 1 has shape [4] but tensor 0 has 3 samples"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new TensorDataset(Tensor.scalar(DType.F32, 1)));
        TensorDataset d = numbered(5);
        assertThrows(IndexOutOfBoundsException.class, () -> d.get(5));
        TensorDataset sub = d.subset(2, 4);
        assertEquals(2, sub.size());
        assertArrayEquals(new float[] {3, 30}, sub.get(1)[0].data().toFloatArray());
        assertSame(d.tensors()[0].data().segment(), sub.get(0)[0].data().segment(), "views, not copies");
        assertThrows(IllegalArgumentException.class, () -> DataLoader.builder(d).batchSize(0));
    }

    @Test
    void emptyDatasetHasNoBatches() {
        DataLoader<Tensor[], Batch> loader = DataLoader.builder(numbered(0), Collate.pairs()).batchSize(3).build();
        assertEquals(0, loader.numBatches());
        assertEquals(List.of(), targets(loader));
    }
}
