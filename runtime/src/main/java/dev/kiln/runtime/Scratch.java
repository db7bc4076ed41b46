package dev.kiln.runtime;

import dev.kiln.ir.KilnException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Temporary memory a kernel needs only while it runs (im2col matrices, packed GEMM operands), freed
 * when the scratch is closed:
 *
 * <pre>{@code
 * try (Scratch scratch = Scratch.open()) {
 *     MemorySegment col = scratch.allocate(bytes);   // zero-filled, 64-byte aligned
 * }
 * }</pre>
 *
 * Normally each scratch is a shared arena of its own (fresh memory, counted in {@link Allocations}).
 * During a planned interpreter run the scratch space at the end of the arena is installed instead:
 * requests are carved from it, stack-wise, and only what does not fit is allocated fresh. The run
 * reports the most scratch it asked for, so a planned executable can size its next arena to fit.
 */
public final class Scratch implements AutoCloseable {
    private static final long ALIGNMENT = 64;
    private static final ThreadLocal<Region> INSTALLED = new ThreadLocal<>();

    /** Installed scratch space: {@code top} is where the next request starts, whether or not it fits. */
    static final class Region {
        final MemorySegment space;
        long top;
        long highWater;

        Region(MemorySegment space) { this.space = space; }
    }

    private final Region region;
    private final long mark;
    private Arena own;
    private boolean closed;

    private Scratch(Region region) {
        this.region = region;
        this.mark = region == null ? 0 : region.top;
    }

    /** Opens a scratch on the current thread; close it before the kernel returns. */
    public static Scratch open() {
        return new Scratch(INSTALLED.get());
    }

    /** {@code bytes} of zero-filled memory (at least one byte), aligned to 64 bytes, valid until {@link #close}. */
    public MemorySegment allocate(long bytes) {
        if (closed) throw new IllegalStateException("Scratch.allocate: this scratch is closed");
        if (bytes < 0) throw new KilnException("Scratch.allocate: negative size " + bytes);
        long size = Math.max(1, bytes);
        if (region != null) {
            long start = (region.top + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
            region.top = start + size;
            region.highWater = Math.max(region.highWater, region.top);
            if (region.top <= region.space.byteSize()) {
                MemorySegment s = region.space.asSlice(start, size);
                s.fill((byte) 0);
                return s;
            }
        }
        if (size > TensorLimits.maxTensorBytes()) {
            throw new dev.kiln.ir.KilnException("kernel scratch of " + TensorLimits.describe(size) + " is more than the tensor size limit of "
                    + TensorLimits.describe(TensorLimits.maxTensorBytes()) + " (system property " + TensorLimits.PROPERTY + ")");
        }
        if (own == null) own = Arena.ofShared();
        Allocations.record(size);
        return own.allocate(size, ALIGNMENT);
    }

    /** Frees this scratch's memory (installed space is handed back for the next request). */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        if (region != null) region.top = mark;
        if (own != null) own.close();
    }

    /** Installs {@code space} as this thread's scratch space until {@link #uninstall}; returns its bookkeeping. */
    static Region install(MemorySegment space) {
        Region r = new Region(space);
        INSTALLED.set(r);
        return r;
    }

    /** Removes the installed scratch space, restoring {@code previous} (null for none). */
    static void uninstall(Region previous) {
        INSTALLED.set(previous);
    }

    /** The installed scratch space of this thread, or null. */
    static Region installed() {
        return INSTALLED.get();
    }
}
