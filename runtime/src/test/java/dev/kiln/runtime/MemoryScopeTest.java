package dev.kiln.runtime;

import dev.kiln.ir.DType;
import dev.kiln.runtime.kernels.Elementwise;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MemoryScopeTest {

    @Test
    void tensorsAllocatedInAScopeAreFreedWhenItCloses() {
        NDArray inside;
        try (MemoryScope scope = MemoryScope.open()) {
            inside = NDArray.full(DType.F32, 1, 4);
            assertSame(scope.arena().scope(), inside.segment().scope());
            assertEquals(4f, Elementwise.add(inside, inside).getFloat(0) + 2f);
        }
        assertThrows(IllegalStateException.class, () -> inside.getDouble(0), "freed memory cannot be read");
        assertTrue(inside.toString().contains("<memory freed>"));
    }

    @Test
    void outsideAnyScopeTensorsAreGarbageCollected() {
        NDArray t = NDArray.zeros(DType.F32, 2);
        assertTrue(t.segment().scope().isAlive());
        try (MemoryScope scope = MemoryScope.open()) {
            assertFalse(t.segment().scope().equals(scope.arena().scope()));
        }
        assertEquals(0.0, t.getDouble(1));
    }

    @Test
    void kernelsUseScopedTensorsFromWorkerThreads() {
        try (MemoryScope scope = MemoryScope.open()) {
            assertTrue(scope.isOpen());
            NDArray big = NDArray.full(DType.F32, 1.5, 512, 512);   // above the parallel threshold
            float[] sum = Elementwise.add(big, big).toFloatArray();
            for (float v : sum) assertEquals(3f, v);
        }
    }

    @Test
    void closingOutOfOrderIsAClearError() {
        MemoryScope outer = MemoryScope.open();
        MemoryScope inner = MemoryScope.open();
        try {
            IllegalStateException e = assertThrows(IllegalStateException.class, outer::close);
            assertTrue(e.getMessage().startsWith("MemoryScope closed out of order"), e.getMessage());
            assertTrue(outer.isOpen());
        } finally {
            inner.close();
            outer.close();
        }
        assertFalse(outer.isOpen());
        outer.close();   // closing twice is harmless
    }

    @Test
    void closingFromAnotherThreadIsAClearError() throws InterruptedException {
        MemoryScope scope = MemoryScope.open();
        try {
            CompletableFuture<Void> other = CompletableFuture.runAsync(scope::close);
            ExecutionException e = assertThrows(ExecutionException.class, other::get);
            assertTrue(e.getCause() instanceof IllegalStateException);
            assertTrue(e.getCause().getMessage().startsWith("MemoryScope was opened on thread '"
                    + Thread.currentThread().getName() + "' and cannot be closed from thread '"), e.getCause().getMessage());
        } finally {
            scope.close();
        }
    }

    @Test
    void scopesNestAndInnerAllocationsGoToTheInnerScope() {
        try (MemoryScope outer = MemoryScope.open()) {
            NDArray a = NDArray.zeros(DType.F32, 1);
            try (MemoryScope inner = MemoryScope.open()) {
                assertSame(inner.arena(), MemoryScope.currentArena());
                NDArray b = NDArray.zeros(DType.F32, 1);
                assertSame(inner.arena().scope(), b.segment().scope());
            }
            assertSame(outer.arena(), MemoryScope.currentArena());
            assertEquals(0.0, a.getDouble(0));
        }
    }
}
