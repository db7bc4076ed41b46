package dev.kiln.runtime;

import dev.kiln.ir.DType;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Large tensors made outside any scope reuse the blocks of dropped ones, zeroed, instead of fresh memory. */
class RecycledMemoryTest {

    /** A size class no other test uses, so the free list is this test's own. */
    private static final long ELEMENTS = (3 << 20) / 4 + 4096 + 7;

    @Test
    void aDroppedTensorsBlockIsReusedZeroed() throws InterruptedException {
        NDArray first = NDArray.zeros(DType.F32, ELEMENTS);
        for (long i = 0; i < ELEMENTS; i += 1000) first.setFlat(i, 1.5);
        long address = first.segment().address();
        first = null;
        NDArray again = null;
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(20);
            NDArray candidate = NDArray.zeros(DType.F32, ELEMENTS);
            if (candidate.segment().address() == address) {
                again = candidate;
                break;
            }
        }
        assertTrue(again != null, "the dropped tensor's block was handed out again");
        for (long i = 0; i < ELEMENTS; i += 1000) assertEquals(0.0, again.getFlat(i), "element " + i);
        assertEquals(0.0, again.getFlat(ELEMENTS - 1));
        assertTrue(RecycledMemory.blockBytes() >= ELEMENTS * 4, "blocks are counted");
    }
}
