package dev.kiln.runtime;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Native memory for large tensors made outside any {@link MemoryScope} (the results a compiled model returns to its
 * caller, say): still GC-managed, but recycled. {@code Arena.ofAuto()} gives every tensor fresh memory that is freed
 * only when the collector finds the tensor unreachable, and a serving loop allocates almost nothing on the Java heap,
 * so collections are rare: every call touched fresh pages (page faults were 9-17% of a Transformer layer's compiled
 * run) and native memory grew until the next collection. Here a tensor's bytes are a block of a size class (bytes
 * rounded up to 4 KiB), handed out through an automatic arena whose cleanup returns the block to its class's free
 * list; a later tensor of that class takes it, zeroed, with its pages already mapped. When the blocks made exceed
 * {@link #BUDGET} bytes and none is free, a collection is requested (at most once a second, as NIO does for direct
 * buffers) so that dropped tensors give their blocks back; free blocks past half the budget are released to the
 * system. Tensors below {@link #MIN_BYTES} keep using {@code Arena.ofAuto()}, whose small chunks malloc reuses.
 */
final class RecycledMemory {
    /** Smaller tensors are not recycled. */
    static final long MIN_BYTES = 64 << 10;
    /** Bytes of blocks (in use or free) past which a collection is requested; {@code kiln.recycledBytes}, default 64 MiB. */
    static final long BUDGET = Long.getLong("kiln.recycledBytes", 64L << 20);
    private static final long PAGE = 4096;
    private static final long ALIGNMENT = 64;

    /** A block and the arena that owns it (closed when the block is released). */
    private record Block(Arena arena, MemorySegment segment) {}

    private static final Map<Long, ConcurrentLinkedDeque<Block>> FREE = new ConcurrentHashMap<>();
    private static final AtomicLong MADE = new AtomicLong(), FREE_BYTES = new AtomicLong();
    private static volatile long lastCollection;

    private RecycledMemory() {}

    /** A zeroed segment of {@code bytes} (at least {@link #MIN_BYTES}), 64-byte aligned, freed to the pool when unreachable. */
    static MemorySegment allocate(long bytes) {
        long size = (bytes + PAGE - 1) / PAGE * PAGE;
        ConcurrentLinkedDeque<Block> free = FREE.computeIfAbsent(size, s -> new ConcurrentLinkedDeque<>());
        Block block = free.pollFirst();
        if (block != null) {
            FREE_BYTES.addAndGet(-size);
            block.segment().fill((byte) 0);
        } else {
            if (MADE.get() + size > BUDGET) requestCollection();
            Arena owner = Arena.ofShared();
            block = new Block(owner, owner.allocate(size, ALIGNMENT));
            MADE.addAndGet(size);
        }
        Block given = block;
        return given.segment().reinterpret(bytes, Arena.ofAuto(), s -> release(given, size));
    }

    /** The cleanup of a tensor's arena: its block goes back to the free list, or to the system past half the budget. */
    private static void release(Block block, long size) {
        if (FREE_BYTES.get() + size > BUDGET / 2) {
            MADE.addAndGet(-size);
            block.arena().close();
            return;
        }
        FREE_BYTES.addAndGet(size);
        FREE.get(size).addFirst(block);
    }

    private static void requestCollection() {
        long now = System.nanoTime();
        if (now - lastCollection < 1_000_000_000L) return;
        lastCollection = now;
        System.gc();
    }

    /** Bytes of free blocks waiting for reuse: for tests. */
    static long freeBytes() { return FREE_BYTES.get(); }

    /** Bytes of blocks made and not released (in use or free): for tests. */
    static long blockBytes() { return MADE.get(); }
}
