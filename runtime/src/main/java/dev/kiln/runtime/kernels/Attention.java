package dev.kiln.runtime.kernels;

import dev.kiln.ir.KilnException;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Scaled dot-product attention on f32 as one kernel ({@code attention} op: {@code softmax(q k^T * scale, masked) v}),
 * the compiled path's and eager mode's: per leading index (batch, head), keys and values are packed once into
 * cache-resident panels, then query rows are taken four at a time through key blocks of {@value #KEY_BLOCK} with an
 * online softmax (FlashAttention's running max and sum), so the score matrix is never materialised beyond one block
 * of four rows, however long the sequence. q, k, v, the mask and the output are read and written in place through
 * their strides (attention's permuted heads need no copies). Needs the Vector API ({@link #available()}); the
 * reference kernel is the unfused composition ({@code runtime.FusionKernels}).
 */
public final class Attention {
    /** Keys per online-softmax block: four rows of scores stay within a few KiB. */
    public static final int KEY_BLOCK = 512;

    private static final Kernel KERNEL = VectorApi.instanceOr(Kernel.class, "dev.kiln.runtime.kernels.VectorAttention", null);

    private Attention() {}

    /** How a mask operand is applied. */
    public enum Mask { NONE, BOOL, ADD }

    /**
     * The shape of one call. {@code lead} are the leading dims (batch, heads, ...); each tensor's strides are in
     * elements over all {@code lead.length + 2} dims ({@code [..., L, D]} for q, {@code [..., S, D]} for k,
     * {@code [..., S, Dv]} for v and {@code [..., L, S]} for the mask, with stride 0 on broadcast dims;
     * {@code [..., L, Dv]} for the output), relative to the first element of the segment each is passed as.
     */
    public record Geometry(long[] lead, int l, int s, int d, int dv, long[] qStrides, long[] kStrides, long[] vStrides,
                           long[] maskStrides, long[] outStrides, float scale, boolean causal, Mask mask) {
        public Geometry {
            int rank = lead.length + 2;
            for (long[] st : new long[][] {qStrides, kStrides, vStrides, outStrides}) {
                if (st.length != rank) throw new KilnException("attention: strides " + Arrays.toString(st) + " must have " + rank + " entries");
            }
            if (mask != Mask.NONE && (maskStrides == null || maskStrides.length != rank)) {
                throw new KilnException("attention: the mask needs " + rank + " strides");
            }
            if (l < 0 || s < 0 || d < 0 || dv < 0) throw new KilnException("attention: negative size in L " + l + ", S " + s + ", D " + d + ", Dv " + dv);
        }

        /** Product of the leading dims. */
        public long batches() {
            long n = 1;
            for (long x : lead) n *= x;
            return n;
        }

        /** Element offset of leading index {@code b} (row-major over {@code lead}) in a tensor with {@code strides}. */
        long offset(long[] strides, long b) {
            long off = 0;
            for (int i = lead.length - 1; i >= 0; i--) {
                off += (b % lead[i]) * strides[i];
                b /= lead[i];
            }
            return off;
        }
    }

    /**
     * The geometry of {@code attention(q, k, v, mask?)} from each tensor's shape and element strides (as an
     * {@code NDArray} or a generated-code tensor reference has them); {@code maskShape} is null without a mask, and a
     * mask of lower rank or with size-1 dims is broadcast (stride 0). The output is contiguous
     * {@code [..., L, Dv]}. Null when a size does not fit an int.
     */
    public static Geometry geometry(long[] qShape, long[] qStrides, long[] kShape, long[] kStrides, long[] vShape, long[] vStrides,
                                    long[] maskShape, long[] maskStrides, boolean boolMask, double scale, boolean causal) {
        int rank = qShape.length;
        long l = qShape[rank - 2], d = qShape[rank - 1], s = kShape[rank - 2], dv = vShape[rank - 1];
        if (Math.max(Math.max(l, d), Math.max(s, dv)) > Integer.MAX_VALUE / 8) return null;
        long[] outStrides = new long[rank];
        long stride = 1;
        for (int i = rank - 1; i >= 0; i--) {
            outStrides[i] = stride;
            stride *= i == rank - 1 ? dv : qShape[i];
        }
        long[] ms = null;
        if (maskShape != null) {
            ms = new long[rank];
            int shift = rank - maskShape.length;
            for (int i = shift; i < rank; i++) ms[i] = maskShape[i - shift] == 1 ? 0 : maskStrides[i - shift];
        }
        return new Geometry(Arrays.copyOf(qShape, rank - 2), (int) l, (int) s, (int) d, (int) dv, qStrides.clone(), kStrides.clone(),
                vStrides.clone(), ms, outStrides, (float) scale, causal, maskShape == null ? Mask.NONE : boolMask ? Mask.BOOL : Mask.ADD);
    }

    /** The vector implementation, loaded by name. */
    interface Kernel {
        void run(Geometry g, MemorySegment q, MemorySegment k, MemorySegment v, MemorySegment mask, MemorySegment out);
    }

    /** Whether {@link #f32} can run here (the Vector API is present). */
    public static boolean available() { return KERNEL != null; }

    /**
     * Computes attention into {@code out}. Each segment starts at its tensor's first element; {@code mask} is
     * {@link MemorySegment#NULL} without a mask. {@code out} must not overlap the operands.
     */
    public static void f32(Geometry g, MemorySegment q, MemorySegment k, MemorySegment v, MemorySegment mask, MemorySegment out) {
        if (KERNEL == null) throw new KilnException("attention: the f32 kernel needs jdk.incubator.vector; run the reference kernel instead");
        KERNEL.run(g, q, k, v, mask, out);
    }
}
