package dev.kiln.runtime.kernels;

import dev.kiln.ir.KilnException;
import java.lang.foreign.MemorySegment;

/**
 * A constant f32 left-hand GEMM operand packed once into the row panels of Kiln's packed GEMM, so that calls with
 * it skip packing A: a convolution's filters ({@code out[cout, pixels] = filters[cout, cin*kh*kw] * patches}), the
 * operand that is re-packed on every call otherwise and costs as much as the arithmetic when the image is small
 * (ResNet's last stage: 512 x 4608 filters against 49 pixels). The layout is that of every K block of A packed
 * whole: the block of K rows from {@code pc} starts at {@code pc * mPadded}, and in it the panel of MR rows from
 * row {@code r} starts at {@code r * kc}, k-major. Heap-resident and independent of the source afterwards; its
 * layout depends on this JVM's vector width, so it is only meaningful in the process that packed it.
 */
public final class PackedA {
    final int m, k;
    /** Rows rounded up to whole panels of MR. */
    final int mPadded;
    final float[] data;

    private PackedA(int m, int k, int mPadded, float[] data) {
        this.m = m;
        this.k = k;
        this.mPadded = mPadded;
        this.data = data;
    }

    /**
     * Packs A ({@code m x k} row-major, row stride {@code lda}, element 0 at byte 0 of the native segment
     * {@code a}). Throws {@link KilnException} for negative sizes, a too-small lda or segment, or a matrix too
     * large for one Java array.
     */
    public static PackedA pack(MemorySegment a, int m, int k, int lda) {
        if (m < 0 || k < 0) throw new KilnException("PackedA.pack: sizes must be non-negative, got m=" + m + ", k=" + k);
        DirectGemm.checkMatrix("PackedA.pack", "A", a, m, k, lda, 4);
        int mr = PackedGemm.MR;
        int mPadded = PackedB.ceilDiv(m, mr) * mr;
        long size = (long) mPadded * k;
        if (size > Integer.MAX_VALUE - 16) {
            throw new KilnException("PackedA.pack: A of " + m + " x " + k + " is too large to pack (" + size
                    + " floats after padding to panels of " + mr + " rows; at most " + (Integer.MAX_VALUE - 16) + ")");
        }
        float[] data = new float[(int) size];
        for (int pc = 0; pc < k; pc += PackedGemm.KC) {
            int kc = Math.min(PackedGemm.KC, k - pc);
            PackedGemm.packA(a, lda, 0, m, pc, kc, data, pc * mPadded);
        }
        return new PackedA(m, k, mPadded, data);
    }

    /** Packs {@code a} ({@code m x k} row-major floats on the heap), which the caller made (sizes already checked). */
    static PackedA ofRows(float[] a, int m, int k) {
        int mr = PackedGemm.MR, mPadded = PackedB.ceilDiv(m, mr) * mr;
        float[] data = new float[Math.multiplyExact(mPadded, k)];
        for (int pc = 0; pc < k; pc += PackedGemm.KC) {
            int kc = Math.min(PackedGemm.KC, k - pc);
            for (int r = 0; r < m; r++) {
                int to = pc * mPadded + (r - r % mr) * kc + r % mr;
                for (int p = 0; p < kc; p++) data[to + p * mr] = a[r * k + pc + p];
            }
        }
        return new PackedA(m, k, mPadded, data);
    }

    /** Element {@code (r, kk)} of A, read back from the packed layout. */
    float get(int r, int kk) {
        int pc = kk / PackedGemm.KC * PackedGemm.KC, kc = Math.min(PackedGemm.KC, k - pc), mr = PackedGemm.MR;
        return data[pc * mPadded + (r - r % mr) * kc + (kk - pc) * mr + r % mr];
    }

    /** The Winograd form of these filters when they are 3x3 ones used that way ({@link Winograd}), made on first use. */
    Winograd.Filters winograd;

    /** {@link #transposed()}, made on first use. */
    private volatile float[] transposed;

    /**
     * A transposed, in the column panels of a packed right-hand operand ({@link PackedGemm#packB}'s layout for
     * {@code k x m}): the filters of a convolution computed with pixels as the GEMM's rows
     * ({@link PackedGemm#convolve}). Made on first use from the packed rows and kept.
     */
    float[] transposed() {
        float[] t = transposed;
        if (t != null) return t;
        int mr = PackedGemm.MR, nr = PackedGemm.NR;
        t = new float[PackedGemm.packedBSize("conv", k, m)];
        int nPadded = PackedB.ceilDiv(m, nr) * nr;
        for (int pc = 0; pc < k; pc += PackedGemm.KC) {
            int kc = Math.min(PackedGemm.KC, k - pc);
            for (int r = 0; r < m; r++) {
                int from = pc * mPadded + (r - r % mr) * kc + r % mr, to = pc * nPadded + (r - r % nr) * kc + r % nr;
                for (int p = 0; p < kc; p++) t[to + p * nr] = data[from + p * mr];
            }
        }
        return transposed = t;
    }

    /** Rows of A: the output rows. */
    public int m() { return m; }

    /** Columns of A: the inner (reduction) dimension. */
    public int k() { return k; }
}
