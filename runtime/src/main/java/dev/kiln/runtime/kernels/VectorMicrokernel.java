package dev.kiln.runtime.kernels;

import dev.kiln.ir.KilnException;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static dev.kiln.runtime.Elements.F32;

/**
 * The Vector API {@link Microkernel}: a tile of {@code MR} rows by two {@code SPECIES_PREFERRED} vectors, A's
 * elements broadcast and fused-multiply-added into {@code 2 * MR} accumulators. The packed panels are heap
 * {@code float[]}: measured in isolation (panels in L1, kc 256, best of 35 rounds, 2-core Zen 5 with AVX-512),
 * array loads reach 95-99% of the FMA peak where the same kernel over native segments reaches 50-85%, and C2
 * removes the array bounds checks from the k loop. {@code MR} is 4 for vectors of at most 8 floats (AVX2: 16
 * registers; 12 accumulators measured at half the speed of 8 under C2, from spills) and 8 for 16 floats (AVX-512:
 * 32 registers). In isolation 6 x 2 measured fastest of 4..12 x 2..4, but in whole GEMMs of the anchor models'
 * shapes 8 x 2 wins, since their row counts (a convolution's 64..512 channels, 128-row Transformer activations) are
 * multiples of 8 and leave no partial row panel (GemmBenchmark, 1 thread, best GFLOP/s, 6 against 8: ResNet-18's
 * convolutions 125-166 vs 142-166 for 64..256 channels and 71 vs 81 for 512 x 49 x 4608; 1024^3 125 vs 186).
 * System property {@code kiln.gemm.mr} (4, 6 or 8) overrides it. Each tile method is straight-line vector code with no call taking a vector and no branch: a
 * helper taking vectors (a shared "store or add" method) was measured to cut a full GEMM to a fifth of the
 * kernel's speed, because once the first K block with accumulation deoptimised the kernel, C2's recompilation hit
 * its node-count inlining cutoff, left the helper out of line and boxed the vectors passed to it. Hence the
 * separate write and add variants. Only loaded when {@code jdk.incubator.vector} is present.
 */
final class VectorMicrokernel implements Microkernel {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int W = S.length();
    static final int MR = chooseMr();
    static final int NR = 2 * W;
    /** Bytes of one vector: the offset of a tile row's second vector. */
    private static final long V = W * 4L;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private static int chooseMr() {
        int mr = Integer.getInteger("kiln.gemm.mr", W >= 16 ? 8 : 4);
        if (mr != 4 && mr != 6 && mr != 8) {
            throw new KilnException("kiln.gemm.mr must be 4, 6 or 8, got " + mr);
        }
        return mr;
    }

    VectorMicrokernel() {}

    @Override
    public int mr() { return MR; }

    @Override
    public int nr() { return NR; }

    @Override
    public void tile(int kc, float[] a, int ao, float[] b, int bo, MemorySegment c, long co, long ldcBytes,
                     boolean accumulate) {
        if (accumulate) {
            switch (MR) {
                case 4 -> tile4Add(kc, a, ao, b, bo, c, co, ldcBytes);
                case 6 -> tile6Add(kc, a, ao, b, bo, c, co, ldcBytes);
                default -> tile8Add(kc, a, ao, b, bo, c, co, ldcBytes);
            }
        } else {
            switch (MR) {
                case 4 -> tile4(kc, a, ao, b, bo, c, co, ldcBytes);
                case 6 -> tile6(kc, a, ao, b, bo, c, co, ldcBytes);
                default -> tile8(kc, a, ao, b, bo, c, co, ldcBytes);
            }
        }
    }


    @Override
    public void packRows(MemorySegment src, long from, long strideBytes, int rows, int kc, float[] dst, int to) {
        int p = 0;
        if (rows == MR && MR == 8 && W == 16) {
            // 8 rows x 16 k: rows loaded as vectors, transposed by three rounds of two-vector zips into 16 k-steps of
            // 8 (element by element, packing A took 8% of a Transformer layer at batch 32; a scatter store per
            // row was slower still)
            for (; p + W <= kc; p += W) {
                FloatVector r0 = FloatVector.fromMemorySegment(S, src, from + p * 4L, ORDER);
                FloatVector r1 = FloatVector.fromMemorySegment(S, src, from + strideBytes + p * 4L, ORDER);
                FloatVector r2 = FloatVector.fromMemorySegment(S, src, from + 2 * strideBytes + p * 4L, ORDER);
                FloatVector r3 = FloatVector.fromMemorySegment(S, src, from + 3 * strideBytes + p * 4L, ORDER);
                FloatVector r4 = FloatVector.fromMemorySegment(S, src, from + 4 * strideBytes + p * 4L, ORDER);
                FloatVector r5 = FloatVector.fromMemorySegment(S, src, from + 5 * strideBytes + p * 4L, ORDER);
                FloatVector r6 = FloatVector.fromMemorySegment(S, src, from + 6 * strideBytes + p * 4L, ORDER);
                FloatVector r7 = FloatVector.fromMemorySegment(S, src, from + 7 * strideBytes + p * 4L, ORDER);
                // zip pairs of rows (0,4) (1,5) (2,6) (3,7), then pairs of those, then again: lane order r0..r7 per k
                FloatVector a0 = r0.rearrange(VectorZips.LOW, r4), a1 = r0.rearrange(VectorZips.HIGH, r4);
                FloatVector b0 = r1.rearrange(VectorZips.LOW, r5), b1 = r1.rearrange(VectorZips.HIGH, r5);
                FloatVector c0 = r2.rearrange(VectorZips.LOW, r6), c1 = r2.rearrange(VectorZips.HIGH, r6);
                FloatVector d0 = r3.rearrange(VectorZips.LOW, r7), d1 = r3.rearrange(VectorZips.HIGH, r7);
                FloatVector e0 = a0.rearrange(VectorZips.LOW, c0), e1 = a0.rearrange(VectorZips.HIGH, c0), e2 = a1.rearrange(VectorZips.LOW, c1), e3 = a1.rearrange(VectorZips.HIGH, c1);
                FloatVector f0 = b0.rearrange(VectorZips.LOW, d0), f1 = b0.rearrange(VectorZips.HIGH, d0), f2 = b1.rearrange(VectorZips.LOW, d1), f3 = b1.rearrange(VectorZips.HIGH, d1);
                int at = to + p * MR;
                e0.rearrange(VectorZips.LOW, f0).intoArray(dst, at);
                e0.rearrange(VectorZips.HIGH, f0).intoArray(dst, at + W);
                e1.rearrange(VectorZips.LOW, f1).intoArray(dst, at + 2 * W);
                e1.rearrange(VectorZips.HIGH, f1).intoArray(dst, at + 3 * W);
                e2.rearrange(VectorZips.LOW, f2).intoArray(dst, at + 4 * W);
                e2.rearrange(VectorZips.HIGH, f2).intoArray(dst, at + 5 * W);
                e3.rearrange(VectorZips.LOW, f3).intoArray(dst, at + 6 * W);
                e3.rearrange(VectorZips.HIGH, f3).intoArray(dst, at + 7 * W);
            }
        }
        for (; p < kc; p++) {
            int at = to + p * MR;
            for (int r = 0; r < rows; r++) dst[at + r] = src.get(F32, from + r * strideBytes + p * 4L);
            for (int r = rows; r < MR; r++) dst[at + r] = 0f;
        }
    }

    @Override
    public void packPanel(MemorySegment src, long from, long strideBytes, int rows, int cols, float[] dst, int to) {
        if (cols == NR) {
            for (int p = 0; p < rows; p++) {
                long row = from + p * strideBytes;
                int at = to + p * NR;
                FloatVector.fromMemorySegment(S, src, row, ORDER).intoArray(dst, at);
                FloatVector.fromMemorySegment(S, src, row + V, ORDER).intoArray(dst, at + W);
            }
        } else {
            // the edge panel: element by element (masked segment loads that reach past the segment's end take a
            // slow path measured at ~50x the cost of this loop)
            for (int p = 0; p < rows; p++) {
                long row = from + p * strideBytes;
                int at = to + p * NR;
                for (int j = 0; j < cols; j++) dst[at + j] = src.get(F32, row + j * 4L);
                for (int j = cols; j < NR; j++) dst[at + j] = 0f;
            }
        }
    }

    /** 4 rows x 2 vectors (8 accumulators), written to C. */
    private static void tile4(int kc, float[] a, int ao, float[] b, int bo, MemorySegment c, long co, long ldc) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z;
        FloatVector c10 = z, c11 = z;
        FloatVector c20 = z, c21 = z;
        FloatVector c30 = z, c31 = z;
        for (int p = 0; p < kc; p++) {
            int bi = bo + p * NR, ai = ao + p * 4;
            FloatVector b0 = FloatVector.fromArray(S, b, bi), b1 = FloatVector.fromArray(S, b, bi + W);
            FloatVector a0 = FloatVector.broadcast(S, a[ai + 0]);
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
        }
        c00.intoMemorySegment(c, co, ORDER);
        c01.intoMemorySegment(c, co + V, ORDER);
        c10.intoMemorySegment(c, co + 1 * ldc, ORDER);
        c11.intoMemorySegment(c, co + 1 * ldc + V, ORDER);
        c20.intoMemorySegment(c, co + 2 * ldc, ORDER);
        c21.intoMemorySegment(c, co + 2 * ldc + V, ORDER);
        c30.intoMemorySegment(c, co + 3 * ldc, ORDER);
        c31.intoMemorySegment(c, co + 3 * ldc + V, ORDER);
    }

    /** 4 rows x 2 vectors (8 accumulators), added to C. */
    private static void tile4Add(int kc, float[] a, int ao, float[] b, int bo, MemorySegment c, long co, long ldc) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z;
        FloatVector c10 = z, c11 = z;
        FloatVector c20 = z, c21 = z;
        FloatVector c30 = z, c31 = z;
        for (int p = 0; p < kc; p++) {
            int bi = bo + p * NR, ai = ao + p * 4;
            FloatVector b0 = FloatVector.fromArray(S, b, bi), b1 = FloatVector.fromArray(S, b, bi + W);
            FloatVector a0 = FloatVector.broadcast(S, a[ai + 0]);
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
        }
        c00.add(FloatVector.fromMemorySegment(S, c, co, ORDER)).intoMemorySegment(c, co, ORDER);
        c01.add(FloatVector.fromMemorySegment(S, c, co + V, ORDER)).intoMemorySegment(c, co + V, ORDER);
        c10.add(FloatVector.fromMemorySegment(S, c, co + 1 * ldc, ORDER)).intoMemorySegment(c, co + 1 * ldc, ORDER);
        c11.add(FloatVector.fromMemorySegment(S, c, co + 1 * ldc + V, ORDER)).intoMemorySegment(c, co + 1 * ldc + V, ORDER);
        c20.add(FloatVector.fromMemorySegment(S, c, co + 2 * ldc, ORDER)).intoMemorySegment(c, co + 2 * ldc, ORDER);
        c21.add(FloatVector.fromMemorySegment(S, c, co + 2 * ldc + V, ORDER)).intoMemorySegment(c, co + 2 * ldc + V, ORDER);
        c30.add(FloatVector.fromMemorySegment(S, c, co + 3 * ldc, ORDER)).intoMemorySegment(c, co + 3 * ldc, ORDER);
        c31.add(FloatVector.fromMemorySegment(S, c, co + 3 * ldc + V, ORDER)).intoMemorySegment(c, co + 3 * ldc + V, ORDER);
    }

    /** 6 rows x 2 vectors (12 accumulators), written to C. */
    private static void tile6(int kc, float[] a, int ao, float[] b, int bo, MemorySegment c, long co, long ldc) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z;
        FloatVector c10 = z, c11 = z;
        FloatVector c20 = z, c21 = z;
        FloatVector c30 = z, c31 = z;
        FloatVector c40 = z, c41 = z;
        FloatVector c50 = z, c51 = z;
        for (int p = 0; p < kc; p++) {
            int bi = bo + p * NR, ai = ao + p * 6;
            FloatVector b0 = FloatVector.fromArray(S, b, bi), b1 = FloatVector.fromArray(S, b, bi + W);
            FloatVector a0 = FloatVector.broadcast(S, a[ai + 0]);
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
        }
        c00.intoMemorySegment(c, co, ORDER);
        c01.intoMemorySegment(c, co + V, ORDER);
        c10.intoMemorySegment(c, co + 1 * ldc, ORDER);
        c11.intoMemorySegment(c, co + 1 * ldc + V, ORDER);
        c20.intoMemorySegment(c, co + 2 * ldc, ORDER);
        c21.intoMemorySegment(c, co + 2 * ldc + V, ORDER);
        c30.intoMemorySegment(c, co + 3 * ldc, ORDER);
        c31.intoMemorySegment(c, co + 3 * ldc + V, ORDER);
        c40.intoMemorySegment(c, co + 4 * ldc, ORDER);
        c41.intoMemorySegment(c, co + 4 * ldc + V, ORDER);
        c50.intoMemorySegment(c, co + 5 * ldc, ORDER);
        c51.intoMemorySegment(c, co + 5 * ldc + V, ORDER);
    }

    /** 6 rows x 2 vectors (12 accumulators), added to C. */
    private static void tile6Add(int kc, float[] a, int ao, float[] b, int bo, MemorySegment c, long co, long ldc) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z;
        FloatVector c10 = z, c11 = z;
        FloatVector c20 = z, c21 = z;
        FloatVector c30 = z, c31 = z;
        FloatVector c40 = z, c41 = z;
        FloatVector c50 = z, c51 = z;
        for (int p = 0; p < kc; p++) {
            int bi = bo + p * NR, ai = ao + p * 6;
            FloatVector b0 = FloatVector.fromArray(S, b, bi), b1 = FloatVector.fromArray(S, b, bi + W);
            FloatVector a0 = FloatVector.broadcast(S, a[ai + 0]);
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
        }
        c00.add(FloatVector.fromMemorySegment(S, c, co, ORDER)).intoMemorySegment(c, co, ORDER);
        c01.add(FloatVector.fromMemorySegment(S, c, co + V, ORDER)).intoMemorySegment(c, co + V, ORDER);
        c10.add(FloatVector.fromMemorySegment(S, c, co + 1 * ldc, ORDER)).intoMemorySegment(c, co + 1 * ldc, ORDER);
        c11.add(FloatVector.fromMemorySegment(S, c, co + 1 * ldc + V, ORDER)).intoMemorySegment(c, co + 1 * ldc + V, ORDER);
        c20.add(FloatVector.fromMemorySegment(S, c, co + 2 * ldc, ORDER)).intoMemorySegment(c, co + 2 * ldc, ORDER);
        c21.add(FloatVector.fromMemorySegment(S, c, co + 2 * ldc + V, ORDER)).intoMemorySegment(c, co + 2 * ldc + V, ORDER);
        c30.add(FloatVector.fromMemorySegment(S, c, co + 3 * ldc, ORDER)).intoMemorySegment(c, co + 3 * ldc, ORDER);
        c31.add(FloatVector.fromMemorySegment(S, c, co + 3 * ldc + V, ORDER)).intoMemorySegment(c, co + 3 * ldc + V, ORDER);
        c40.add(FloatVector.fromMemorySegment(S, c, co + 4 * ldc, ORDER)).intoMemorySegment(c, co + 4 * ldc, ORDER);
        c41.add(FloatVector.fromMemorySegment(S, c, co + 4 * ldc + V, ORDER)).intoMemorySegment(c, co + 4 * ldc + V, ORDER);
        c50.add(FloatVector.fromMemorySegment(S, c, co + 5 * ldc, ORDER)).intoMemorySegment(c, co + 5 * ldc, ORDER);
        c51.add(FloatVector.fromMemorySegment(S, c, co + 5 * ldc + V, ORDER)).intoMemorySegment(c, co + 5 * ldc + V, ORDER);
    }

    /** 8 rows x 2 vectors (16 accumulators), written to C. */
    private static void tile8(int kc, float[] a, int ao, float[] b, int bo, MemorySegment c, long co, long ldc) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z;
        FloatVector c10 = z, c11 = z;
        FloatVector c20 = z, c21 = z;
        FloatVector c30 = z, c31 = z;
        FloatVector c40 = z, c41 = z;
        FloatVector c50 = z, c51 = z;
        FloatVector c60 = z, c61 = z;
        FloatVector c70 = z, c71 = z;
        for (int p = 0; p < kc; p++) {
            int bi = bo + p * NR, ai = ao + p * 8;
            FloatVector b0 = FloatVector.fromArray(S, b, bi), b1 = FloatVector.fromArray(S, b, bi + W);
            FloatVector a0 = FloatVector.broadcast(S, a[ai + 0]);
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
        c00.intoMemorySegment(c, co, ORDER);
        c01.intoMemorySegment(c, co + V, ORDER);
        c10.intoMemorySegment(c, co + 1 * ldc, ORDER);
        c11.intoMemorySegment(c, co + 1 * ldc + V, ORDER);
        c20.intoMemorySegment(c, co + 2 * ldc, ORDER);
        c21.intoMemorySegment(c, co + 2 * ldc + V, ORDER);
        c30.intoMemorySegment(c, co + 3 * ldc, ORDER);
        c31.intoMemorySegment(c, co + 3 * ldc + V, ORDER);
        c40.intoMemorySegment(c, co + 4 * ldc, ORDER);
        c41.intoMemorySegment(c, co + 4 * ldc + V, ORDER);
        c50.intoMemorySegment(c, co + 5 * ldc, ORDER);
        c51.intoMemorySegment(c, co + 5 * ldc + V, ORDER);
        c60.intoMemorySegment(c, co + 6 * ldc, ORDER);
        c61.intoMemorySegment(c, co + 6 * ldc + V, ORDER);
        c70.intoMemorySegment(c, co + 7 * ldc, ORDER);
        c71.intoMemorySegment(c, co + 7 * ldc + V, ORDER);
    }

    /** 8 rows x 2 vectors (16 accumulators), added to C. */
    private static void tile8Add(int kc, float[] a, int ao, float[] b, int bo, MemorySegment c, long co, long ldc) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z;
        FloatVector c10 = z, c11 = z;
        FloatVector c20 = z, c21 = z;
        FloatVector c30 = z, c31 = z;
        FloatVector c40 = z, c41 = z;
        FloatVector c50 = z, c51 = z;
        FloatVector c60 = z, c61 = z;
        FloatVector c70 = z, c71 = z;
        for (int p = 0; p < kc; p++) {
            int bi = bo + p * NR, ai = ao + p * 8;
            FloatVector b0 = FloatVector.fromArray(S, b, bi), b1 = FloatVector.fromArray(S, b, bi + W);
            FloatVector a0 = FloatVector.broadcast(S, a[ai + 0]);
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
        c00.add(FloatVector.fromMemorySegment(S, c, co, ORDER)).intoMemorySegment(c, co, ORDER);
        c01.add(FloatVector.fromMemorySegment(S, c, co + V, ORDER)).intoMemorySegment(c, co + V, ORDER);
        c10.add(FloatVector.fromMemorySegment(S, c, co + 1 * ldc, ORDER)).intoMemorySegment(c, co + 1 * ldc, ORDER);
        c11.add(FloatVector.fromMemorySegment(S, c, co + 1 * ldc + V, ORDER)).intoMemorySegment(c, co + 1 * ldc + V, ORDER);
        c20.add(FloatVector.fromMemorySegment(S, c, co + 2 * ldc, ORDER)).intoMemorySegment(c, co + 2 * ldc, ORDER);
        c21.add(FloatVector.fromMemorySegment(S, c, co + 2 * ldc + V, ORDER)).intoMemorySegment(c, co + 2 * ldc + V, ORDER);
        c30.add(FloatVector.fromMemorySegment(S, c, co + 3 * ldc, ORDER)).intoMemorySegment(c, co + 3 * ldc, ORDER);
        c31.add(FloatVector.fromMemorySegment(S, c, co + 3 * ldc + V, ORDER)).intoMemorySegment(c, co + 3 * ldc + V, ORDER);
        c40.add(FloatVector.fromMemorySegment(S, c, co + 4 * ldc, ORDER)).intoMemorySegment(c, co + 4 * ldc, ORDER);
        c41.add(FloatVector.fromMemorySegment(S, c, co + 4 * ldc + V, ORDER)).intoMemorySegment(c, co + 4 * ldc + V, ORDER);
        c50.add(FloatVector.fromMemorySegment(S, c, co + 5 * ldc, ORDER)).intoMemorySegment(c, co + 5 * ldc, ORDER);
        c51.add(FloatVector.fromMemorySegment(S, c, co + 5 * ldc + V, ORDER)).intoMemorySegment(c, co + 5 * ldc + V, ORDER);
        c60.add(FloatVector.fromMemorySegment(S, c, co + 6 * ldc, ORDER)).intoMemorySegment(c, co + 6 * ldc, ORDER);
        c61.add(FloatVector.fromMemorySegment(S, c, co + 6 * ldc + V, ORDER)).intoMemorySegment(c, co + 6 * ldc + V, ORDER);
        c70.add(FloatVector.fromMemorySegment(S, c, co + 7 * ldc, ORDER)).intoMemorySegment(c, co + 7 * ldc, ORDER);
        c71.add(FloatVector.fromMemorySegment(S, c, co + 7 * ldc + V, ORDER)).intoMemorySegment(c, co + 7 * ldc + V, ORDER);
    }
}
