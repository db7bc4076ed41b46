package dev.kiln.runtime.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static dev.kiln.runtime.Elements.F32;

/**
 * {@link Depthwise}'s phase-plane kernel on the Vector API. Per input channel the phase planes are filled into a
 * per-thread float array (a bulk copy per row for unit horizontal stride, an even/odd lane split for stride 2), then
 * every output channel it feeds is computed a vector of output pixels at a time, the last vector overlapping the one
 * before (or, for a plane smaller than a vector, computed whole in the scratch and its pixels copied out). Per tap
 * column the taps are summed into a partial vector, which is added to the accumulator only in the lanes whose column
 * reads inside the plane (a masked add: whatever the other lanes read, NaN included, is dropped). The accumulator
 * starts at the bias. Only loaded when {@code jdk.incubator.vector} is present.
 */
final class VectorDepthwise implements Depthwise.PhasedKernel {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /**
     * Two-vector shuffles over a pair {@code (a, b)} of consecutive vectors: lane l takes element 2l (EVEN) or 2l+1
     * (ODD) of the pair; indices past the first vector are exceptional and so come from {@code b}.
     */
    private static final VectorShuffle<Float> EVEN = VectorShuffle.fromOp(S, i -> 2 * i);
    private static final VectorShuffle<Float> ODD = VectorShuffle.fromOp(S, i -> 2 * i + 1);
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[1][0]);

    VectorDepthwise() {}

    @Override
    public int lanes() { return L; }

    @Override
    public void channels(Depthwise.Geometry g, MemorySegment x, long xImage, MemorySegment weight, MemorySegment bias,
                         MemorySegment out, long outImage, int ic0, int ic1) {
        float[][] holder = SCRATCH.get();
        if (holder[0].length < g.scratchFloats) holder[0] = new float[g.scratchFloats];
        float[] s = holder[0];
        long plane = (long) g.h() * g.w(), pixels = (long) g.oh() * g.ow();
        int taps = g.kh() * g.kw(), mult = g.mult();
        for (int ic = ic0; ic < ic1; ic++) {
            fill(g, x, xImage + g.sourceChannel(ic) * plane, s);
            for (int oc = ic * mult; oc < (ic + 1) * mult; oc++) {
                MemorySegment.copy(weight, F32, (long) oc * taps * 4, s, g.weightsAt, taps);
                float b = bias == null ? 0f : bias.getAtIndex(F32, oc);
                outputPlane(g, s, b, out, outImage + oc * pixels);
            }
        }
    }

    /** One output plane from the phase planes in {@code s} and the channel's taps at {@code s[g.weightsAt]}. */
    private static void outputPlane(Depthwise.Geometry g, float[] s, float bias, MemorySegment out, long o) {
        int kh = g.kh(), kw = g.kw(), pixels = g.oh() * g.ow(), weights = g.weightsAt;
        int[] tapOffset = g.tapOffset;
        float[] columnOf = g.columnOf, columnFrom = g.columnFrom, columnTo = g.columnTo;
        boolean[] masked = g.columnMasked;
        boolean whole = pixels >= L;
        int last = whole ? pixels - L : 0;
        for (int q = 0; ; q = Math.min(q + L, last)) {
            FloatVector acc = FloatVector.broadcast(S, bias);
            for (int j = 0; j < kw; j++) {
                if (!masked[j]) {
                    for (int t = j; t < kh * kw; t += kw) {
                        acc = FloatVector.fromArray(S, s, tapOffset[t] + q).fma(FloatVector.broadcast(S, s[weights + t]), acc);
                    }
                } else {
                    FloatVector part = FloatVector.fromArray(S, s, tapOffset[j] + q).mul(s[weights + j]);
                    for (int t = j + kw; t < kh * kw; t += kw) {
                        part = FloatVector.fromArray(S, s, tapOffset[t] + q).fma(FloatVector.broadcast(S, s[weights + t]), part);
                    }
                    FloatVector column = FloatVector.fromArray(S, columnOf, q);
                    VectorMask<Float> inside = column.compare(VectorOperators.GE, columnFrom[j])
                            .and(column.compare(VectorOperators.LT, columnTo[j]));
                    acc = acc.add(part, inside);
                }
            }
            if (whole) {
                acc.intoMemorySegment(out, (o + q) * 4, ORDER);
            } else {
                acc.intoArray(s, g.outputAt);
                MemorySegment.copy(s, g.outputAt, out, F32, o * 4, pixels);
            }
            if (q == last) break;
        }
    }

    /**
     * Fills the phase planes of input plane {@code src} (element index in {@code x}) into {@code s}: rows outside
     * the input zeroed; unit horizontal stride copies each run of consecutive input rows in one bulk copy when the
     * plane is as wide as the input (a "same" convolution), stride 2 splits each row into both column phases at
     * once, a vector pair at a time.
     */
    private static void fill(Depthwise.Geometry g, MemorySegment x, long src, float[] s) {
        int h = g.h(), w = g.w(), sh = g.sh(), sw = g.sw(), ow = g.ow(), rows = g.phaseRows;
        for (int ri = 0; ri < sh; ri++) {
            int[] start = g.phaseStart;
            // phase rows [r0, r1) hold input rows sh*(r + rowFrom) + ri inside [0, h)
            int r0 = Math.clamp(Math.ceilDiv(-ri, sh) - g.rowFrom, 0, rows);
            int r1 = Math.clamp(Math.ceilDiv(h - ri, sh) - g.rowFrom, r0, rows);
            if (sw == 1 && w == ow && sh == 1) {
                MemorySegment.copy(x, F32, (src + (long) (r0 + g.rowFrom + ri) * w) * 4, s, start[ri] + r0 * ow, (r1 - r0) * ow);
            }
            for (int r = r0; r < r1 && !(sw == 1 && w == ow && sh == 1); r++) {
                long row = src + ((long) sh * (r + g.rowFrom) + ri) * w;
                if (sw == 2) {
                    splitRow(x, row, w, s, start[ri * 2] + r * ow, start[ri * 2 + 1] + r * ow, ow);
                    continue;
                }
                for (int rj = 0; rj < sw; rj++) {
                    int dst = start[ri * sw + rj] + r * ow;
                    int inside = Math.clamp(Math.ceilDiv(w - rj, sw), 0, ow);
                    if (sw == 1) MemorySegment.copy(x, F32, (row + rj) * 4, s, dst, inside);
                    else for (int k = 0; k < inside; k++) s[dst + k] = x.getAtIndex(F32, row + rj + (long) sw * k);
                    java.util.Arrays.fill(s, dst + inside, dst + ow, 0f);
                }
            }
            // the zero rows last: a split row may have written past its end into the row after it
            for (int rj = 0; rj < sw; rj++) {
                int base = start[ri * sw + rj];
                java.util.Arrays.fill(s, base, base + r0 * ow, 0f);
                java.util.Arrays.fill(s, base + r1 * ow, base + rows * ow, 0f);
            }
        }
    }

    /**
     * Input row {@code row} ({@code w} elements) split into its even columns at {@code s[even]} and odd columns at
     * {@code s[odd]}, {@code ow} each, zero past the row. A vector pair at a time; the last pair may write past
     * {@code ow} (into the next phase row, filled after this one, or the plane's margin) and read into the next
     * input row, but never past the segment (those rows go element by element).
     */
    private static void splitRow(MemorySegment x, long row, int w, float[] s, int even, int odd, int ow) {
        int evens = Math.min(ow, (w + 1) / 2), odds = Math.min(ow, w / 2);
        int k = 0;
        if ((row + 2L * ow + 2L * L) * 4 <= x.byteSize()) {
            for (; k < ow; k += L) {
                long at = (row + 2L * k) * 4;
                FloatVector a = FloatVector.fromMemorySegment(S, x, at, ORDER), b = FloatVector.fromMemorySegment(S, x, at + 4L * L, ORDER);
                a.rearrange(EVEN, b).intoArray(s, even + k);
                a.rearrange(ODD, b).intoArray(s, odd + k);
            }
        } else {
            for (; k < evens; k++) s[even + k] = x.getAtIndex(F32, row + 2L * k);
            for (k = 0; k < odds; k++) s[odd + k] = x.getAtIndex(F32, row + 2L * k + 1);
        }
        java.util.Arrays.fill(s, even + evens, even + ow, 0f);
        java.util.Arrays.fill(s, odd + odds, odd + ow, 0f);
    }
}
