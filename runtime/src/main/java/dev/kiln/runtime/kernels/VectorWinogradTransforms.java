package dev.kiln.runtime.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * {@link WinogradTransforms} on the Vector API: one tile per lane, each transform a fixed sequence of additions
 * (no multiplications: B and A of F(2x2, 3x3) hold only 0 and +-1). Only loaded when {@code jdk.incubator.vector}
 * is present.
 */
final class VectorWinogradTransforms implements WinogradTransforms {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    VectorWinogradTransforms() {}

    @Override
    public int lanes() {
        return L;
    }

    @Override
    public int tile() {
        return 2;
    }

    @Override
    public void input(float[] planes, int base, int planeStride, int wp, int tiles, float[][] v, int rowBase,
                      int panelStride, int g0) {
        int p00 = base, p01 = base + planeStride, p10 = base + 2 * planeStride, p11 = base + 3 * planeStride;
        int nr = PackedGemm.NR;
        for (int t = 0; t < tiles; t += L) {
            // d[i][j] = plane (i%2, j%2) at t + (i/2)*wp + j/2
            FloatVector d00 = FloatVector.fromArray(S, planes, p00 + t), d01 = FloatVector.fromArray(S, planes, p01 + t), d02 = FloatVector.fromArray(S, planes, p00 + t + 1), d03 = FloatVector.fromArray(S, planes, p01 + t + 1);
            FloatVector d10 = FloatVector.fromArray(S, planes, p10 + t), d11 = FloatVector.fromArray(S, planes, p11 + t), d12 = FloatVector.fromArray(S, planes, p10 + t + 1), d13 = FloatVector.fromArray(S, planes, p11 + t + 1);
            FloatVector d20 = FloatVector.fromArray(S, planes, p00 + t + wp), d21 = FloatVector.fromArray(S, planes, p01 + t + wp), d22 = FloatVector.fromArray(S, planes, p00 + t + wp + 1), d23 = FloatVector.fromArray(S, planes, p01 + t + wp + 1);
            FloatVector d30 = FloatVector.fromArray(S, planes, p10 + t + wp), d31 = FloatVector.fromArray(S, planes, p11 + t + wp), d32 = FloatVector.fromArray(S, planes, p10 + t + wp + 1), d33 = FloatVector.fromArray(S, planes, p11 + t + wp + 1);
            // rows: B^T d
            FloatVector r00 = d00.sub(d20), r01 = d01.sub(d21), r02 = d02.sub(d22), r03 = d03.sub(d23);
            FloatVector r10 = d10.add(d20), r11 = d11.add(d21), r12 = d12.add(d22), r13 = d13.add(d23);
            FloatVector r20 = d20.sub(d10), r21 = d21.sub(d11), r22 = d22.sub(d12), r23 = d23.sub(d13);
            FloatVector r30 = d10.sub(d30), r31 = d11.sub(d31), r32 = d12.sub(d32), r33 = d13.sub(d33);
            int g = g0 + t, at = rowBase + (g / nr) * panelStride + g % nr;
            // columns: (B^T d) B
            r00.sub(r02).intoArray(v[0], at);
            r01.add(r02).intoArray(v[1], at);
            r02.sub(r01).intoArray(v[2], at);
            r01.sub(r03).intoArray(v[3], at);
            r10.sub(r12).intoArray(v[4], at);
            r11.add(r12).intoArray(v[5], at);
            r12.sub(r11).intoArray(v[6], at);
            r11.sub(r13).intoArray(v[7], at);
            r20.sub(r22).intoArray(v[8], at);
            r21.add(r22).intoArray(v[9], at);
            r22.sub(r21).intoArray(v[10], at);
            r21.sub(r23).intoArray(v[11], at);
            r30.sub(r32).intoArray(v[12], at);
            r31.add(r32).intoArray(v[13], at);
            r32.sub(r31).intoArray(v[14], at);
            r31.sub(r33).intoArray(v[15], at);
        }
    }

    @Override
    public void output(MemorySegment m, long base, long xiStride, int tiles, float[] q) {
        long step = xiStride * 4;
        for (int t = 0; t < tiles; t += L) {
            long b = (base + t) * 4;
            FloatVector m00 = FloatVector.fromMemorySegment(S, m, b, ORDER), m01 = FloatVector.fromMemorySegment(S, m, b + step, ORDER);
            FloatVector m02 = FloatVector.fromMemorySegment(S, m, b + 2 * step, ORDER), m03 = FloatVector.fromMemorySegment(S, m, b + 3 * step, ORDER);
            FloatVector m10 = FloatVector.fromMemorySegment(S, m, b + 4 * step, ORDER), m11 = FloatVector.fromMemorySegment(S, m, b + 5 * step, ORDER);
            FloatVector m12 = FloatVector.fromMemorySegment(S, m, b + 6 * step, ORDER), m13 = FloatVector.fromMemorySegment(S, m, b + 7 * step, ORDER);
            FloatVector m20 = FloatVector.fromMemorySegment(S, m, b + 8 * step, ORDER), m21 = FloatVector.fromMemorySegment(S, m, b + 9 * step, ORDER);
            FloatVector m22 = FloatVector.fromMemorySegment(S, m, b + 10 * step, ORDER), m23 = FloatVector.fromMemorySegment(S, m, b + 11 * step, ORDER);
            FloatVector m30 = FloatVector.fromMemorySegment(S, m, b + 12 * step, ORDER), m31 = FloatVector.fromMemorySegment(S, m, b + 13 * step, ORDER);
            FloatVector m32 = FloatVector.fromMemorySegment(S, m, b + 14 * step, ORDER), m33 = FloatVector.fromMemorySegment(S, m, b + 15 * step, ORDER);
            // rows: A^T M
            FloatVector s00 = m00.add(m10).add(m20), s01 = m01.add(m11).add(m21), s02 = m02.add(m12).add(m22), s03 = m03.add(m13).add(m23);
            FloatVector s10 = m10.sub(m20).sub(m30), s11 = m11.sub(m21).sub(m31), s12 = m12.sub(m22).sub(m32), s13 = m13.sub(m23).sub(m33);
            // columns: (A^T M) A
            s00.add(s01).add(s02).intoArray(q, t);
            s01.sub(s02).sub(s03).intoArray(q, tiles + t);
            s10.add(s11).add(s12).intoArray(q, 2 * tiles + t);
            s11.sub(s12).sub(s13).intoArray(q, 3 * tiles + t);
        }
    }


    @Override
    public int interleave(float[] q, int tiles, int a, int t0, int n, MemorySegment out, long at) {
        int even = 2 * a * tiles + t0, odd = even + tiles, i = 0;
        for (; i + L <= n; i += L) zip(q, even + i, odd + i, out, at + 2L * i);
        if (i < n && i > 0) {
            zip(q, even + n - L, odd + n - L, out, at + 2L * (n - L));   // overlaps the previous vector
            i = n;
        } else if (i < n && odd + L <= q.length) {
            // fewer tiles than lanes (a 28-wide output has 14 tiles of 2): zipped whole into a buffer, then copied
            float[] row = ROW.get();
            FloatVector x = FloatVector.fromArray(S, q, even), y = FloatVector.fromArray(S, q, odd);
            x.rearrange(VectorZips.LOW, y).intoArray(row, 0);
            x.rearrange(VectorZips.HIGH, y).intoArray(row, L);
            MemorySegment.copy(row, 0, out, java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, at * 4, 2 * n);
            i = n;
        }
        return i;
    }

    /** Per thread: one zipped pair of vectors. */
    private static final ThreadLocal<float[]> ROW = ThreadLocal.withInitial(() -> new float[2 * L]);

    private static void zip(float[] q, int even, int odd, MemorySegment out, long at) {
        FloatVector x = FloatVector.fromArray(S, q, even), y = FloatVector.fromArray(S, q, odd);
        x.rearrange(VectorZips.LOW, y).intoMemorySegment(out, at * 4, ORDER);
        x.rearrange(VectorZips.HIGH, y).intoMemorySegment(out, (at + L) * 4, ORDER);
    }
}
