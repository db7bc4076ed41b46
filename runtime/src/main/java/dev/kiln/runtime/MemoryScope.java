package dev.kiln.runtime;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * A region of tensor memory that is freed all at once. Opening a scope makes every tensor allocated on this
 * thread come from it until it is closed; closing it frees them deterministically instead of waiting for the
 * garbage collector:
 *
 * <pre>{@code
 * try (MemoryScope _ = MemoryScope.open()) {
 *     NDArray y = Elementwise.add(x, b);   // freed when the scope closes
 * }
 * }</pre>
 *
 * Scopes nest (a thread-local stack) and are backed by shared arenas, so kernels may touch their tensors from
 * worker threads. Outside any scope tensors are GC-managed ({@link Arena#ofAuto()}; large ones recycled through
 * {@link RecycledMemory}).
 */
public final class MemoryScope implements AutoCloseable {
    private static final ThreadLocal<Deque<MemoryScope>> STACK = ThreadLocal.withInitial(ArrayDeque::new);

    private final Arena arena = Arena.ofShared();
    private final Thread owner = Thread.currentThread();
    private boolean closed;

    private MemoryScope() {}

    /** Opens a scope on the current thread; new tensors on this thread are allocated in it until it closes. */
    public static MemoryScope open() {
        MemoryScope scope = new MemoryScope();
        STACK.get().push(scope);
        return scope;
    }

    /**
     * Memory for a new tensor of {@code bytes}: from the innermost open scope, or outside any scope GC-managed, large
     * tensors through {@link RecycledMemory} (blocks reused once their tensors are unreachable).
     */
    static MemorySegment allocateTensor(long bytes, long alignment) {
        MemoryScope top = STACK.get().peek();
        if (top != null) return top.arena.allocate(bytes, alignment);
        return bytes >= RecycledMemory.MIN_BYTES && alignment <= 64 ? RecycledMemory.allocate(bytes) : Arena.ofAuto().allocate(bytes, alignment);
    }

    /** The arena new tensors on this thread come from: the innermost open scope, or a GC-managed one. */
    public static Arena currentArena() {
        MemoryScope top = STACK.get().peek();
        return top != null ? top.arena : Arena.ofAuto();
    }

    /**
     * Runs {@code work} with no scope open on this thread, so the tensors it makes are GC-managed whatever scopes
     * the caller has open: for what must outlive them, such as compiled code, its constants and folded weights.
     */
    public static <T> T outsideScopes(java.util.function.Supplier<T> work) {
        Deque<MemoryScope> saved = STACK.get();
        STACK.set(new ArrayDeque<>());
        try {
            return work.get();
        } finally {
            STACK.set(saved);
        }
    }

    /** The arena backing this scope, for callers that allocate their own segments with the same lifetime. */
    public Arena arena() {
        return arena;
    }

    /** Whether this scope is still open (its tensors still usable). */
    public boolean isOpen() {
        return !closed;
    }

    /**
     * Frees every tensor allocated in this scope. Must be called on the thread that opened it, innermost scope
     * first; calling it again is a no-op.
     */
    @Override
    public void close() {
        Thread current = Thread.currentThread();
        if (current != owner) {
            throw new IllegalStateException("MemoryScope was opened on thread '" + owner.getName()
                    + "' and cannot be closed from thread '" + current.getName()
                    + "'; close it on the thread that opened it");
        }
        if (closed) return;
        Deque<MemoryScope> stack = STACK.get();
        if (stack.peek() != this) {
            throw new IllegalStateException("MemoryScope closed out of order: a scope opened inside it is still open;"
                    + " close inner scopes first (nest them in try-with-resources)");
        }
        stack.pop();
        closed = true;
        arena.close();
    }
}
