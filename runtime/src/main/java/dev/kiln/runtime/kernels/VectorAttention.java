package dev.kiln.runtime.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static dev.kiln.runtime.Elements.F32;

/**
 * {@link Attention} on the Vector API. Per leading index: k is packed transposed ({@code kt[d][j]}, S padded to a
 * whole number of vectors, zeros past S) and v row-major ({@code vp[j][c]}, Dv padded likewise). Query rows go four at
 * a time: scores of a key block are 4 rows x 4 vectors of accumulators over d (broadcasting q's elements), then
 * scaled, masked (keys past S, causal, the mask operand), exponentiated against the running row max and summed; the
 * output accumulators (4 rows x Dv, kept in a scratch array across key blocks and rescaled when the max grows) take
 * {@code p[j] * v[j]} the same way. Scratch arrays are per thread and reused, so a warm call allocates nothing.
 * Exponentials are {@link VectorExp}'s and lane sums in lane order, so every JIT tier gives the same bits. Only loaded when {@code jdk.incubator.vector} is present.
 */
final class VectorAttention implements Attention.Kernel {
    private static final VectorSpecies<Float> SP = FloatVector.SPECIES_PREFERRED;
    private static final int W = SP.length();
    private static final int ROWS = 4;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Leading index x query-row blocks per parallel unit: rows of one (batch, head) per unit. */
    private static final int UNIT_ROWS = 64;
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    VectorAttention() {}

    /** Per-thread buffers, grown as needed. */
    private static final class Scratch {
        float[] kt = new float[0], vp = new float[0], qt = new float[0], scores = new float[0], acc = new float[0], row = new float[0];
        final float[] max = new float[ROWS], sum = new float[ROWS], lanes = new float[W];
        long packedBatch = -1;
        Attention.Geometry packedFor;

        float[] grow(float[] a, int n) { return a.length >= n ? a : new float[n]; }
    }

    @Override
    public void run(Attention.Geometry g, MemorySegment q, MemorySegment k, MemorySegment v, MemorySegment mask, MemorySegment out) {
        long batches = g.batches();
        if (batches == 0 || g.l() == 0 || g.dv() == 0) return;
        if (g.s() == 0) {   // no keys: softmax over nothing times an empty v is zero, as the unfused matmul gives
            zeros(g, out, batches);
            return;
        }
        long blocksPerBatch = Math.ceilDiv(g.l(), UNIT_ROWS), units = batches * blocksPerBatch;
        long work = units * (long) UNIT_ROWS * g.s() * (g.d() + g.dv());
        boolean parallel = Parallel.threads() > 1 && units > 1 && work >= 4 * Parallel.PARALLEL_THRESHOLD * 16
                && Parallel.shareable(q, k, v, mask, out);
        if (!parallel) {
            units(g, q, k, v, mask, out, 0, units, blocksPerBatch);
            return;
        }
        Parallel.forRange(units, 1, (u0, u1) -> units(g, q, k, v, mask, out, u0, u1, blocksPerBatch));
    }

    private static void zeros(Attention.Geometry g, MemorySegment out, long batches) {
        int rank = g.lead().length + 2;
        long[] os = g.outStrides();
        for (long b = 0; b < batches; b++) {
            long ob = g.offset(os, b);
            for (int i = 0; i < g.l(); i++) {
                for (int c = 0; c < g.dv(); c++) out.set(F32, (ob + i * os[rank - 2] + c * os[rank - 1]) * 4, 0f);
            }
        }
    }

    private static void units(Attention.Geometry g, MemorySegment q, MemorySegment k, MemorySegment v, MemorySegment mask,
                              MemorySegment out, long u0, long u1, long blocksPerBatch) {
        Scratch sc = SCRATCH.get();
        sc.packedBatch = -1;
        int s = g.s(), d = g.d(), dv = g.dv();
        int sPad = roundUp(Math.max(s, 1), W), dvPad = roundUp(dv, W);
        sc.kt = sc.grow(sc.kt, d * sPad);
        sc.vp = sc.grow(sc.vp, s * dvPad);
        sc.qt = sc.grow(sc.qt, d * ROWS);
        sc.scores = sc.grow(sc.scores, ROWS * Math.min(sPad, roundUp(Attention.KEY_BLOCK, W)));
        sc.acc = sc.grow(sc.acc, ROWS * dvPad);
        sc.row = sc.grow(sc.row, Math.max(d, dv));
        for (long u = u0; u < u1; u++) {
            long b = u / blocksPerBatch;
            int r0 = (int) ((u % blocksPerBatch) * UNIT_ROWS), r1 = Math.min(g.l(), r0 + UNIT_ROWS);
            if (sc.packedBatch != b) {
                pack(g, k, v, b, sc, sPad, dvPad);
                sc.packedBatch = b;
            }
            for (int i0 = r0; i0 < r1; i0 += ROWS) rows(g, q, mask, out, b, i0, Math.min(ROWS, r1 - i0), sc, sPad, dvPad);
        }
    }

    /** kt[dd][j] = k[b, j, dd] (zeros for j >= S); vp[j][c] = v[b, j, c] (zeros for c >= Dv). */
    private static void pack(Attention.Geometry g, MemorySegment k, MemorySegment v, long b, Scratch sc, int sPad, int dvPad) {
        int rank = g.lead().length + 2, s = g.s(), d = g.d(), dv = g.dv();
        long[] ks = g.kStrides(), vs = g.vStrides();
        long kb = g.offset(ks, b), vb = g.offset(vs, b);
        long kRow = ks[rank - 2], kCol = ks[rank - 1], vRow = vs[rank - 2], vCol = vs[rank - 1];
        float[] kt = sc.kt, vp = sc.vp;
        float[] row = sc.row;
        for (int j = 0; j < s; j++) {
            long base = (kb + j * kRow) * 4;
            if (kCol == 1) {
                MemorySegment.copy(k, F32, base, row, 0, d);   // one bounds check per row, then array reads
                for (int dd = 0; dd < d; dd++) kt[dd * sPad + j] = row[dd];
            } else {
                for (int dd = 0; dd < d; dd++) kt[dd * sPad + j] = k.get(F32, base + dd * kCol * 4);
            }
        }
        for (int dd = 0; dd < d; dd++) java.util.Arrays.fill(kt, dd * sPad + s, dd * sPad + sPad, 0f);
        int upper = vCol == 1 ? dv - dv % W : 0;
        for (int j = 0; j < s; j++) {
            long base = (vb + j * vRow) * 4;
            int c = 0;
            for (; c < upper; c += W) FloatVector.fromMemorySegment(SP, v, base + c * 4L, ORDER).intoArray(vp, j * dvPad + c);
            for (; c < dv; c++) vp[j * dvPad + c] = v.get(F32, base + c * vCol * 4);
            for (; c < dvPad; c++) vp[j * dvPad + c] = 0f;
        }
    }

    /** Query rows {@code [i0, i0 + n)} of leading index {@code b}, n <= 4. */
    private static void rows(Attention.Geometry g, MemorySegment q, MemorySegment mask, MemorySegment out, long b, int i0, int n,
                             Scratch sc, int sPad, int dvPad) {
        int rank = g.lead().length + 2, s = g.s(), d = g.d(), dv = g.dv();
        long[] qs = g.qStrides();
        long qb = g.offset(qs, b), qRow = qs[rank - 2], qCol = qs[rank - 1];
        float[] qt = sc.qt, acc = sc.acc, max = sc.max, sum = sc.sum;
        float[] row = sc.row;
        for (int r = 0; r < ROWS; r++) {
            long base = (qb + (long) (i0 + Math.min(r, n - 1)) * qRow) * 4;
            if (qCol == 1) {
                MemorySegment.copy(q, F32, base, row, 0, d);
                for (int dd = 0; dd < d; dd++) qt[dd * ROWS + r] = row[dd];
            } else {
                for (int dd = 0; dd < d; dd++) qt[dd * ROWS + r] = q.get(F32, base + dd * qCol * 4);
            }
            max[r] = Float.NEGATIVE_INFINITY;
            sum[r] = 0f;
        }
        java.util.Arrays.fill(acc, 0, ROWS * dvPad, 0f);
        int block = Math.min(sPad, roundUp(Attention.KEY_BLOCK, W));
        for (int j0 = 0; j0 < sPad; j0 += block) {
            int width = Math.min(block, sPad - j0);
            scores(sc.kt, qt, sc.scores, sPad, d, j0, width, block);
            for (int r = 0; r < n; r++) softmaxBlock(g, mask, b, i0 + r, r, j0, width, block, sc, dvPad);
            accumulate(sc.vp, sc.scores, acc, j0, Math.min(width, s - j0), block, dvPad);
        }
        long[] os = g.outStrides();
        long ob = g.offset(os, b), oRow = os[rank - 2], oCol = os[rank - 1];
        int upper = oCol == 1 ? dv - dv % W : 0;
        for (int r = 0; r < n; r++) {
            long base = (ob + (long) (i0 + r) * oRow) * 4;
            float inv = 1f / sum[r];
            FloatVector vinv = FloatVector.broadcast(SP, inv);
            int c = 0;
            for (; c < upper; c += W) FloatVector.fromArray(SP, acc, r * dvPad + c).mul(vinv).intoMemorySegment(out, base + c * 4L, ORDER);
            for (; c < dv; c++) out.set(F32, base + c * oCol * 4, acc[r * dvPad + c] * inv);
        }
    }

    /** scores[r][j - j0] = sum_dd qt[dd][r] * kt[dd][j] for the block's columns, 4 rows x up to 4 vectors at a time. */
    private static void scores(float[] kt, float[] qt, float[] scores, int sPad, int d, int j0, int width, int block) {
        int j = 0;
        for (; j + 4 * W <= width; j += 4 * W) {
            FloatVector a00 = FloatVector.zero(SP), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
            FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
            int col = j0 + j;
            for (int dd = 0; dd < d; dd++) {
                int kOff = dd * sPad + col;
                FloatVector b0 = FloatVector.fromArray(SP, kt, kOff), b1 = FloatVector.fromArray(SP, kt, kOff + W);
                FloatVector b2 = FloatVector.fromArray(SP, kt, kOff + 2 * W), b3 = FloatVector.fromArray(SP, kt, kOff + 3 * W);
                FloatVector q0 = FloatVector.broadcast(SP, qt[dd * ROWS]), q1 = FloatVector.broadcast(SP, qt[dd * ROWS + 1]);
                FloatVector q2 = FloatVector.broadcast(SP, qt[dd * ROWS + 2]), q3 = FloatVector.broadcast(SP, qt[dd * ROWS + 3]);
                a00 = q0.fma(b0, a00); a01 = q0.fma(b1, a01); a02 = q0.fma(b2, a02); a03 = q0.fma(b3, a03);
                a10 = q1.fma(b0, a10); a11 = q1.fma(b1, a11); a12 = q1.fma(b2, a12); a13 = q1.fma(b3, a13);
                a20 = q2.fma(b0, a20); a21 = q2.fma(b1, a21); a22 = q2.fma(b2, a22); a23 = q2.fma(b3, a23);
                a30 = q3.fma(b0, a30); a31 = q3.fma(b1, a31); a32 = q3.fma(b2, a32); a33 = q3.fma(b3, a33);
            }
            a00.intoArray(scores, j); a01.intoArray(scores, j + W); a02.intoArray(scores, j + 2 * W); a03.intoArray(scores, j + 3 * W);
            a10.intoArray(scores, block + j); a11.intoArray(scores, block + j + W);
            a12.intoArray(scores, block + j + 2 * W); a13.intoArray(scores, block + j + 3 * W);
            a20.intoArray(scores, 2 * block + j); a21.intoArray(scores, 2 * block + j + W);
            a22.intoArray(scores, 2 * block + j + 2 * W); a23.intoArray(scores, 2 * block + j + 3 * W);
            a30.intoArray(scores, 3 * block + j); a31.intoArray(scores, 3 * block + j + W);
            a32.intoArray(scores, 3 * block + j + 2 * W); a33.intoArray(scores, 3 * block + j + 3 * W);
        }
        for (; j < width; j += W) {
            FloatVector a0 = FloatVector.zero(SP), a1 = a0, a2 = a0, a3 = a0;
            int col = j0 + j;
            for (int dd = 0; dd < d; dd++) {
                FloatVector b0 = FloatVector.fromArray(SP, kt, dd * sPad + col);
                a0 = FloatVector.broadcast(SP, qt[dd * ROWS]).fma(b0, a0);
                a1 = FloatVector.broadcast(SP, qt[dd * ROWS + 1]).fma(b0, a1);
                a2 = FloatVector.broadcast(SP, qt[dd * ROWS + 2]).fma(b0, a2);
                a3 = FloatVector.broadcast(SP, qt[dd * ROWS + 3]).fma(b0, a3);
            }
            a0.intoArray(scores, j);
            a1.intoArray(scores, block + j);
            a2.intoArray(scores, 2 * block + j);
            a3.intoArray(scores, 3 * block + j);
        }
    }

    /**
     * Row {@code r} (query {@code i}) of a key block: scale, mask, then {@code p = exp(score - shift)} in place with the
     * running max's shift (0 while the max is infinite, as the reference softmax does), the running sum and the
     * output accumulators rescaled when the shift moves.
     */
    private static void softmaxBlock(Attention.Geometry g, MemorySegment mask, long b, int i, int r, int j0, int width, int block,
                                     Scratch sc, int dvPad) {
        float[] scores = sc.scores;
        int s = g.s(), rowOff = r * block;
        FloatVector vscale = FloatVector.broadcast(SP, g.scale());
        int valid = Math.min(width, s - j0);   // keys past S are padding
        int allowed = g.causal() ? Math.max(0, Math.min(valid, i + 1 - j0)) : valid;
        FloatVector vmax = FloatVector.broadcast(SP, Float.NEGATIVE_INFINITY);
        if (g.mask() == Attention.Mask.NONE) {   // scale and max in one pass; the masked tail set after
            for (int j = 0; j < width; j += W) {
                FloatVector x = FloatVector.fromArray(SP, scores, rowOff + j).mul(vscale);
                x.intoArray(scores, rowOff + j);
                if (j + W <= allowed) vmax = vmax.max(x);
            }
            for (int j = allowed; j < width; j++) scores[rowOff + j] = Float.NEGATIVE_INFINITY;
            for (int j = allowed - allowed % W; j < allowed; j++) vmax = vmax.max(scores[rowOff + j]);
        } else {
            for (int j = 0; j < width; j += W) {
                FloatVector.fromArray(SP, scores, rowOff + j).mul(vscale).intoArray(scores, rowOff + j);
            }
            applyMask(g, mask, b, i, scores, rowOff, j0, valid);
            for (int j = allowed; j < width; j++) scores[rowOff + j] = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < width; j += W) vmax = vmax.max(FloatVector.fromArray(SP, scores, rowOff + j));
        }
        float oldMax = sc.max[r], newMax = Math.max(oldMax, vmax.reduceLanes(VectorOperators.MAX));
        float oldShift = Float.isInfinite(oldMax) ? 0f : oldMax, shift = Float.isInfinite(newMax) ? 0f : newMax;
        sc.max[r] = newMax;
        FloatVector vshift = FloatVector.broadcast(SP, shift), vsum = FloatVector.zero(SP);
        for (int j = 0; j < width; j += W) {
            FloatVector e = FloatVector.fromArray(SP, scores, rowOff + j).sub(vshift);
            e = VectorExp.exp(e);
            e.intoArray(scores, rowOff + j);
            vsum = vsum.add(e);
        }
        vsum.intoArray(sc.lanes, 0);   // lane order, the same in every JIT tier; no vector leaves this method (C2 boxes those)
        float blockSum = 0f;
        for (int l = 0; l < W; l++) blockSum += sc.lanes[l];
        if (oldShift != shift && j0 > 0) {
            float factor = (float) Math.exp((double) oldShift - shift);
            FloatVector vf = FloatVector.broadcast(SP, factor);
            for (int c = 0; c < dvPad; c += W) FloatVector.fromArray(SP, sc.acc, r * dvPad + c).mul(vf).intoArray(sc.acc, r * dvPad + c);
            sc.sum[r] = sc.sum[r] * factor + blockSum;
        } else {
            sc.sum[r] += blockSum;
        }
    }

    /** The mask operand on row {@code i}'s scores of keys {@code [j0, j0 + valid)}: -inf where a bool mask is false, or added. */
    private static void applyMask(Attention.Geometry g, MemorySegment mask, long b, int i, float[] scores, int rowOff, int j0, int valid) {
        int rank = g.lead().length + 2;
        long[] ms = g.maskStrides();
        long base = g.offset(ms, b) + (long) i * ms[rank - 2], col = ms[rank - 1];
        if (g.mask() == Attention.Mask.BOOL) {
            for (int j = 0; j < valid; j++) {
                if (mask.get(ValueLayout.JAVA_BYTE, base + (j0 + j) * col) == 0) scores[rowOff + j] = Float.NEGATIVE_INFINITY;
            }
        } else {
            for (int j = 0; j < valid; j++) scores[rowOff + j] += mask.get(F32, (base + (j0 + j) * col) * 4);
        }
    }

    /** acc[r][c] += sum_j p[r][j] * vp[j0 + j][c] over the block's real keys, 4 rows x up to 4 vectors of c at a time. */
    private static void accumulate(float[] vp, float[] p, float[] acc, int j0, int keys, int block, int dvPad) {
        int c = 0;
        for (; c + 4 * W <= dvPad; c += 4 * W) {
            FloatVector a00 = FloatVector.fromArray(SP, acc, c), a01 = FloatVector.fromArray(SP, acc, c + W);
            FloatVector a02 = FloatVector.fromArray(SP, acc, c + 2 * W), a03 = FloatVector.fromArray(SP, acc, c + 3 * W);
            FloatVector a10 = FloatVector.fromArray(SP, acc, dvPad + c), a11 = FloatVector.fromArray(SP, acc, dvPad + c + W);
            FloatVector a12 = FloatVector.fromArray(SP, acc, dvPad + c + 2 * W), a13 = FloatVector.fromArray(SP, acc, dvPad + c + 3 * W);
            FloatVector a20 = FloatVector.fromArray(SP, acc, 2 * dvPad + c), a21 = FloatVector.fromArray(SP, acc, 2 * dvPad + c + W);
            FloatVector a22 = FloatVector.fromArray(SP, acc, 2 * dvPad + c + 2 * W), a23 = FloatVector.fromArray(SP, acc, 2 * dvPad + c + 3 * W);
            FloatVector a30 = FloatVector.fromArray(SP, acc, 3 * dvPad + c), a31 = FloatVector.fromArray(SP, acc, 3 * dvPad + c + W);
            FloatVector a32 = FloatVector.fromArray(SP, acc, 3 * dvPad + c + 2 * W), a33 = FloatVector.fromArray(SP, acc, 3 * dvPad + c + 3 * W);
            for (int j = 0; j < keys; j++) {
                int vOff = (j0 + j) * dvPad + c;
                FloatVector b0 = FloatVector.fromArray(SP, vp, vOff), b1 = FloatVector.fromArray(SP, vp, vOff + W);
                FloatVector b2 = FloatVector.fromArray(SP, vp, vOff + 2 * W), b3 = FloatVector.fromArray(SP, vp, vOff + 3 * W);
                FloatVector p0 = FloatVector.broadcast(SP, p[j]), p1 = FloatVector.broadcast(SP, p[block + j]);
                FloatVector p2 = FloatVector.broadcast(SP, p[2 * block + j]), p3 = FloatVector.broadcast(SP, p[3 * block + j]);
                a00 = p0.fma(b0, a00); a01 = p0.fma(b1, a01); a02 = p0.fma(b2, a02); a03 = p0.fma(b3, a03);
                a10 = p1.fma(b0, a10); a11 = p1.fma(b1, a11); a12 = p1.fma(b2, a12); a13 = p1.fma(b3, a13);
                a20 = p2.fma(b0, a20); a21 = p2.fma(b1, a21); a22 = p2.fma(b2, a22); a23 = p2.fma(b3, a23);
                a30 = p3.fma(b0, a30); a31 = p3.fma(b1, a31); a32 = p3.fma(b2, a32); a33 = p3.fma(b3, a33);
            }
            a00.intoArray(acc, c); a01.intoArray(acc, c + W); a02.intoArray(acc, c + 2 * W); a03.intoArray(acc, c + 3 * W);
            a10.intoArray(acc, dvPad + c); a11.intoArray(acc, dvPad + c + W);
            a12.intoArray(acc, dvPad + c + 2 * W); a13.intoArray(acc, dvPad + c + 3 * W);
            a20.intoArray(acc, 2 * dvPad + c); a21.intoArray(acc, 2 * dvPad + c + W);
            a22.intoArray(acc, 2 * dvPad + c + 2 * W); a23.intoArray(acc, 2 * dvPad + c + 3 * W);
            a30.intoArray(acc, 3 * dvPad + c); a31.intoArray(acc, 3 * dvPad + c + W);
            a32.intoArray(acc, 3 * dvPad + c + 2 * W); a33.intoArray(acc, 3 * dvPad + c + 3 * W);
        }
        for (; c < dvPad; c += W) {
            FloatVector a0 = FloatVector.fromArray(SP, acc, c), a1 = FloatVector.fromArray(SP, acc, dvPad + c);
            FloatVector a2 = FloatVector.fromArray(SP, acc, 2 * dvPad + c), a3 = FloatVector.fromArray(SP, acc, 3 * dvPad + c);
            for (int j = 0; j < keys; j++) {
                FloatVector b0 = FloatVector.fromArray(SP, vp, (j0 + j) * dvPad + c);
                a0 = FloatVector.broadcast(SP, p[j]).fma(b0, a0);
                a1 = FloatVector.broadcast(SP, p[block + j]).fma(b0, a1);
                a2 = FloatVector.broadcast(SP, p[2 * block + j]).fma(b0, a2);
                a3 = FloatVector.broadcast(SP, p[3 * block + j]).fma(b0, a3);
            }
            a0.intoArray(acc, c);
            a1.intoArray(acc, dvPad + c);
            a2.intoArray(acc, 2 * dvPad + c);
            a3.intoArray(acc, 3 * dvPad + c);
        }
    }

    private static int roundUp(int x, int m) { return (x + m - 1) / m * m; }
}
