package dev.kiln.runtime.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static dev.kiln.runtime.Elements.F32;

/**
 * {@link Pointwise}'s kernel on the Vector API, for 16-float vectors (AVX-512: its 8 x 2 tile holds 16 accumulators
 * in 32 registers). The tile method only multiplies and adds, then parks the tile in a per-thread array; the
 * epilogue method adds bias and residual, applies the activation and stores the pixels this block owns. Each keeps
 * its vectors to itself (a vector crossing a call C2 leaves out of line is boxed). The tile is
 * {@link VectorMicrokernel}'s 8 x 2 one storing to an array rather than a segment: a heap segment handed to the
 * microkernel would make C2's code for its native-segment stores generic. Only loaded when
 * {@code jdk.incubator.vector} is present; refuses to load for narrower vectors.
 */
final class VectorPointwise implements Pointwise.Kernel {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length(), NB = 2 * L, MR = Pointwise.MR;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    /** Per thread: the panel ({@code k x NB}) then the parked tile ({@code MR x NB}). */
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[1][0]);

    VectorPointwise() {
        if (L != 16) throw new UnsupportedOperationException("the pointwise kernel is tuned for 16-float vectors, this machine has " + L);
    }

    @Override
    public int block() { return NB; }

    @Override
    public void units(Pointwise.Filters f, int n, MemorySegment x, long xImage, MemorySegment bias, MemorySegment residual,
                      boolean relu, MemorySegment out, long u0, long u1) {
        int k = f.k, m = f.m, groups = f.groups, mPadded = f.mPadded;
        float[][] holder = SCRATCH.get();
        int tileAt = k * NB;
        if (holder[0].length < tileAt + MR * NB) holder[0] = new float[tileAt + MR * NB];
        float[] s = holder[0];
        long blocks = (n + NB - 1) / NB;
        for (long u = u0; u < u1; u++) {
            long block = u % blocks, rest = u / blocks;
            int g = (int) (rest % groups);
            long img = rest / groups;
            // the block's first pixel; a last partial block overlaps the one before and stores from `owned` on
            int at = (int) (block * NB), owned = 0;
            if (at + NB > n) {
                owned = at - (n - NB);
                at = n - NB;
            }
            long xRows = img * xImage + (long) g * k * n + at;
            for (int c = 0; c < k; c++) {
                long from = (xRows + (long) c * n) * 4;
                FloatVector.fromMemorySegment(S, x, from, ORDER).intoArray(s, c * NB);
                FloatVector.fromMemorySegment(S, x, from + L * 4L, ORDER).intoArray(s, c * NB + L);
            }
            long outRows = (img * groups + g) * (long) m;
            for (int r = 0; r < m; r += MR) {
                tile(k, f.data, (g * mPadded + r) * k, s, tileAt);
                epilogue(s, tileAt, Math.min(MR, m - r), (outRows + r) * n + at, n, bias, g * m + r, residual, relu, out, owned);
            }
        }
    }

    /** 8 filter rows x 2 vectors of pixels over all {@code k} input channels, parked at {@code s[tile]}. */
    private static void tile(int k, float[] a, int ao, float[] s, int tile) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
        FloatVector c40 = z, c41 = z, c50 = z, c51 = z, c60 = z, c61 = z, c70 = z, c71 = z;
        for (int p = 0; p < k; p++) {
            int bi = p * NB, ai = ao + p * MR;
            FloatVector b0 = FloatVector.fromArray(S, s, bi), b1 = FloatVector.fromArray(S, s, bi + L);
            FloatVector a0 = FloatVector.broadcast(S, a[ai]);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(S, a[ai + 1]);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(S, a[ai + 2]);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(S, a[ai + 3]);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
            FloatVector a4 = FloatVector.broadcast(S, a[ai + 4]);
            c40 = a4.fma(b0, c40);
            c41 = a4.fma(b1, c41);
            FloatVector a5 = FloatVector.broadcast(S, a[ai + 5]);
            c50 = a5.fma(b0, c50);
            c51 = a5.fma(b1, c51);
            FloatVector a6 = FloatVector.broadcast(S, a[ai + 6]);
            c60 = a6.fma(b0, c60);
            c61 = a6.fma(b1, c61);
            FloatVector a7 = FloatVector.broadcast(S, a[ai + 7]);
            c70 = a7.fma(b0, c70);
            c71 = a7.fma(b1, c71);
        }
        c00.intoArray(s, tile);
        c01.intoArray(s, tile + L);
        c10.intoArray(s, tile + NB);
        c11.intoArray(s, tile + NB + L);
        c20.intoArray(s, tile + 2 * NB);
        c21.intoArray(s, tile + 2 * NB + L);
        c30.intoArray(s, tile + 3 * NB);
        c31.intoArray(s, tile + 3 * NB + L);
        c40.intoArray(s, tile + 4 * NB);
        c41.intoArray(s, tile + 4 * NB + L);
        c50.intoArray(s, tile + 5 * NB);
        c51.intoArray(s, tile + 5 * NB + L);
        c60.intoArray(s, tile + 6 * NB);
        c61.intoArray(s, tile + 6 * NB + L);
        c70.intoArray(s, tile + 7 * NB);
        c71.intoArray(s, tile + 7 * NB + L);
    }

    /**
     * {@code rows} rows of the parked tile to the output from element {@code o} (row stride {@code n}): plus bias
     * (channel {@code channel + r}) and residual, then relu, in the generated epilogue's order; pixels before
     * {@code owned} belong to the previous block and are left alone.
     */
    private static void epilogue(float[] s, int tile, int rows, long o, int n, MemorySegment bias, int channel,
                                 MemorySegment residual, boolean relu, MemorySegment out, int owned) {
        FloatVector zero = FloatVector.zero(S);
        for (int r = 0; r < rows; r++, o += n) {
            float b = bias == null ? 0f : bias.getAtIndex(F32, channel + r);
            FloatVector v0 = FloatVector.fromArray(S, s, tile + r * NB), v1 = FloatVector.fromArray(S, s, tile + r * NB + L);
            if (bias != null) {
                v0 = v0.add(b);
                v1 = v1.add(b);
            }
            if (residual != null) {
                v0 = v0.add(FloatVector.fromMemorySegment(S, residual, o * 4, ORDER));
                v1 = v1.add(FloatVector.fromMemorySegment(S, residual, (o + L) * 4, ORDER));
            }
            if (relu) {
                v0 = v0.max(zero);
                v1 = v1.max(zero);
            }
            if (owned == 0) {
                v0.intoMemorySegment(out, o * 4, ORDER);
                v1.intoMemorySegment(out, (o + L) * 4, ORDER);
            } else {
                // lanes i >= owned of the first vector, i >= owned - L of the second
                v0.intoMemorySegment(out, o * 4, ORDER, S.indexInRange(-owned, L));
                v1.intoMemorySegment(out, (o + L) * 4, ORDER, S.indexInRange(L - owned, 2 * L));
            }
        }
    }
}
