package dev.kiln.runtime.kernels;

import dev.kiln.ir.KilnException;

import java.lang.foreign.MemorySegment;

import static dev.kiln.runtime.Elements.F32;

/**
 * Pointwise (1x1, stride 1, no padding) convolution with constant filters for generated code, grouped or not, with
 * its epilogue fused: {@code out = act(W x + bias + residual)} written once, while the tile is in registers. It is
 * the shape of ShuffleNet's and MobileNet's 1x1 layers: few input channels (20 to 500), small planes (49 to 3136
 * pixels) and several groups, where a general packed GEMM spends as much on its separate epilogue pass over the
 * output and on partial edge tiles as on the multiply-adds.
 *
 * <p>Per image and group, each block of 32 pixels (two 16-float vectors) of the input's {@code k} rows is copied
 * into a per-thread panel once, then every block of 8 filter rows (packed at compile time, {@link Filters}) is swept
 * over it: 16 accumulators, one broadcast filter value and two panel loads per input channel. A plane that is not a
 * multiple of the block ends with a block overlapping the one before, whose already written pixels are not stored
 * again (so a residual that is the output itself is added once). Work is split over the pool by (image, group, pixel
 * block). Only with the Vector API at 16 floats per vector ({@link #available()}); generated code otherwise keeps
 * the packed GEMM.
 */
public final class Pointwise {
    /** The Vector API kernel, or null. */
    static final Kernel VECTOR = VectorApi.instanceOr(Kernel.class, "dev.kiln.runtime.kernels.VectorPointwise", null);
    /** Filter rows per tile. */
    static final int MR = 8;

    /** Multiply-adds of a call worth splitting over the pool's threads. */
    private static final long PARALLEL_MACS = 1 << 20;
    /** Bytes of one group's packed filters the kernel keeps in L2 while sweeping it over each panel. */
    private static final long FILTERS_IN_L2 = 512 * 1024;
    /** Input channels at most: the panel ({@code k x 32} floats) stays in L1/L2. */
    private static final int MAX_K = 512;

    private Pointwise() {}

    /** The vector kernel: units {@code [u0, u1)} of a call (unit = (image, group, pixel block), block fastest). */
    interface Kernel {
        /** Pixels per block (two vectors). */
        int block();

        void units(Filters f, int n, MemorySegment x, long xImage, MemorySegment bias, MemorySegment residual, boolean relu,
                   MemorySegment out, long u0, long u1);
    }

    /** Whether the kernel is available on this JVM and machine. */
    public static boolean available() { return VECTOR != null; }

    /**
     * Whether this kernel suits a convolution of {@code groups} groups of {@code m} filters over {@code k} input
     * channels each and {@code n} pixels: available, the plane at least one block wide, and a group's filters small
     * enough to stay in L2.
     */
    public static boolean suits(long groups, long m, long k, long n) {
        return available() && groups >= 1 && m >= 1 && k >= 1 && k <= MAX_K && n >= VECTOR.block()
                && n <= Integer.MAX_VALUE / 2 && groups * m * k <= Integer.MAX_VALUE / 2
                && ceilDiv(m, MR) * MR * k * 4 <= FILTERS_IN_L2;
    }

    /**
     * Filters {@code [groups * m, k]} (row-major, group after group) packed per group into blocks of {@link #MR}
     * rows, input channel by input channel ({@code [k][MR]}), the last block padded with zero rows.
     */
    public static final class Filters {
        final int groups, m, k, mPadded;
        final float[] data;

        private Filters(int groups, int m, int k, float[] data) {
            this.groups = groups;
            this.m = m;
            this.k = k;
            this.mPadded = (int) ceilDiv(m, MR) * MR;
            this.data = data;
        }

        /** Packs {@code weight} ({@code groups * m * k} f32 from element 0); sizes as {@link #suits} accepts. */
        public static Filters pack(MemorySegment weight, int groups, int m, int k) {
            if (groups < 1 || m < 1 || k < 1 || k > MAX_K || (long) groups * m * k > Integer.MAX_VALUE / 2) {
                throw new KilnException("pointwise conv: cannot pack " + groups + " group(s) of " + m + " x " + k
                        + " filters (each size >= 1, at most " + MAX_K + " input channels)");
            }
            if (weight.byteSize() < 4L * groups * m * k) {
                throw new KilnException("pointwise conv: " + groups + " group(s) of " + m + " x " + k + " filters need "
                        + 4L * groups * m * k + " bytes, the weight segment has " + weight.byteSize());
            }
            int mPadded = (int) ceilDiv(m, MR) * MR;
            float[] data = new float[groups * mPadded * k];
            for (int g = 0; g < groups; g++) {
                for (int r = 0; r < m; r++) {
                    long row = ((long) g * m + r) * k;
                    int block = g * mPadded * k + r / MR * MR * k, lane = r % MR;
                    for (int c = 0; c < k; c++) data[block + c * MR + lane] = weight.getAtIndex(F32, row + c);
                }
            }
            return new Filters(groups, m, k, data);
        }

        public int groups() { return groups; }
        public int m() { return m; }
        public int k() { return k; }
    }

    /**
     * {@code out[i, g*m + r, p] = act(sum_c W[g*m + r, c] x[i, g*k + c, p] + bias[g*m + r] + residual[i, g*m + r, p])}
     * for {@code images} images of {@code groups * k} contiguous channels of {@code n} pixels, image {@code i} of
     * {@code x} from element {@code i * xImageStride} (at least {@code groups * k * n}: a channel slice of a larger
     * batch, as ShuffleNet v2's split, reads in place); the output is contiguous; {@code bias} and {@code residual}
     * (the output's layout) may be null; {@code relu} applies max(., 0) last. f32 segments from element 0; the
     * output must not share bytes with {@code x} (the residual may be the output itself).
     */
    public static void f32(Filters f, int images, int n, MemorySegment x, long xImageStride, MemorySegment bias,
                           MemorySegment residual, boolean relu, MemorySegment out) {
        if (VECTOR == null) throw new KilnException("pointwise conv: the kernel needs the Vector API (jdk.incubator.vector)");
        long channelsIn = (long) f.groups * f.k, channelsOut = (long) f.groups * f.m;
        long xBytes = images == 0 ? 0 : 4L * ((images - 1) * xImageStride + channelsIn * n), outBytes = 4L * images * channelsOut * n;
        if (images < 0 || n < VECTOR.block() || xImageStride < channelsIn * n || x.byteSize() < xBytes || out.byteSize() < outBytes
                || (bias != null && bias.byteSize() < 4L * channelsOut) || (residual != null && residual.byteSize() < outBytes)) {
            throw new KilnException("pointwise conv: " + images + " image(s) of " + channelsIn + " -> " + channelsOut
                    + " channels x " + n + " pixels (at least " + VECTOR.block() + "), input images " + xImageStride
                    + " elements apart (at least channels x pixels), need " + xBytes + " bytes of input (has "
                    + x.byteSize() + "), " + outBytes + " of output (has " + out.byteSize() + ")"
                    + (bias == null ? "" : ", " + 4L * channelsOut + " of bias (has " + bias.byteSize() + ")")
                    + (residual == null ? "" : ", " + outBytes + " of residual (has " + residual.byteSize() + ")"));
        }
        long blocks = ceilDiv(n, VECTOR.block()), units = (long) images * f.groups * blocks;
        long macsPerUnit = (long) f.m * f.k * VECTOR.block();
        if (Parallel.threads() > 1 && units > 1 && units * macsPerUnit >= PARALLEL_MACS && Parallel.shareable(x, bias, residual, out)) {
            Parallel.forRange(units, Math.max(1, PARALLEL_MACS / 8 / macsPerUnit),
                    (u0, u1) -> VECTOR.units(f, n, x, xImageStride, bias, residual, relu, out, u0, u1));
        } else {
            VECTOR.units(f, n, x, xImageStride, bias, residual, relu, out, 0, units);
        }
    }

    private static long ceilDiv(long a, long b) { return (a + b - 1) / b; }
}
