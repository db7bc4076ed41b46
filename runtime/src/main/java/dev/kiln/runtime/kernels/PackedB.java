package dev.kiln.runtime.kernels;

import dev.kiln.ir.KilnException;
import java.lang.foreign.MemorySegment;

/**
 * A constant f32 right-hand GEMM operand packed once into the panel layout of Kiln's packed GEMM, so that calls
 * with it ({@link DirectGemm#sgemm(int, int, int, MemorySegment, int, PackedB, MemorySegment, int, RowEpilogue)})
 * skip packing: the compile-time weight packing ONNX Runtime does. {@code op(B)} is {@code k x n}; the main case
 * is an nn.Linear weight stored {@code [n, k]} with {@code transB = true}. The packed copy lives on the Java heap
 * (the microkernel reads heap arrays fastest) and is independent of the source segment afterwards. Its layout
 * depends on this JVM's vector width, so a PackedB is only meaningful in the process that packed it.
 */
public final class PackedB {
    final int k, n;
    /** Panel width and K block length the data was packed for. */
    final int nr, kc;
    /** Columns rounded up to whole panels. */
    final int nPadded;
    final float[] data;

    private PackedB(int k, int n, int nr, int kc, float[] data) {
        this.k = k;
        this.n = n;
        this.nr = nr;
        this.kc = kc;
        this.nPadded = ceilDiv(n, nr) * nr;
        this.data = data;
    }

    /**
     * Packs {@code op(B)} ({@code k x n}): B stored {@code [n, k]} (row stride {@code ldb}) when {@code transB},
     * else {@code [k, n]}; element 0 at byte 0 of the native segment {@code b}. Throws
     * {@link IllegalArgumentException} for negative sizes, a too-small ldb or segment, or a matrix too large to
     * pack into one Java array.
     */
    public static PackedB pack(MemorySegment b, int k, int n, int ldb, boolean transB) {
        if (k < 0 || n < 0) throw new KilnException("PackedB.pack: sizes must be non-negative, got k=" + k + ", n=" + n);
        DirectGemm.checkMatrix("PackedB.pack", "B", b, transB ? n : k, transB ? k : n, ldb, 4);
        int nr = PackedGemm.NR;
        float[] data = new float[PackedGemm.packedBSize("PackedB.pack", k, n)];
        PackedGemm.packB(b, ldb, transB, k, n, data, 0, ceilDiv(n, nr));
        return new PackedB(k, n, nr, PackedGemm.KC, data);
    }

    /** Rows of op(B): the inner (reduction) dimension. */
    public int k() { return k; }

    /** Columns of op(B): the output columns. */
    public int n() { return n; }

    static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
