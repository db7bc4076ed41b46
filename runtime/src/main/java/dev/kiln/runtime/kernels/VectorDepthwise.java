package dev.kiln.runtime.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
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
    private static final int L = S.length(), HALF = L / 2;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Half the preferred width: one de-interleaved phase row chunk. */
    @SuppressWarnings("unchecked")
    private static final VectorSpecies<Float> H = (VectorSpecies<Float>) VectorSpecies.of(float.class,
            VectorShape.forBitSize(Math.max(64, S.vectorBitSize() / 2)));
    /** Lane l < L/2 takes lane 2l: the even columns of a loaded row piece, packed into the low half. */
    private static final VectorShuffle<Float> EVEN = VectorShuffle.fromOp(S, i -> (2 * i) % L);
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

    /** Fills the phase planes of input plane {@code src} (element index in {@code x}) into {@code s}. */
    private static void fill(Depthwise.Geometry g, MemorySegment x, long src, float[] s) {
        int h = g.h(), w = g.w(), sh = g.sh(), sw = g.sw(), ow = g.ow(), rows = g.phaseRows;
        for (int ri = 0; ri < sh; ri++) {
            for (int rj = 0; rj < sw; rj++) {
                // phase columns [0, inside) hold input columns sw*X + rj < w; the rest are padding
                int inside = Math.max(0, Math.min(ow, Math.ceilDiv(w - rj, sw)));
                int base = g.phaseStart[ri * sw + rj];
                for (int r = 0; r < rows; r++) {
                    int dst = base + r * ow;
                    long y = (long) sh * (r + g.rowFrom) + ri;
                    if (y < 0 || y >= h) {
                        java.util.Arrays.fill(s, dst, dst + ow, 0f);
                        continue;
                    }
                    long row = src + y * w + rj;
                    if (sw == 1) {
                        MemorySegment.copy(x, F32, row * 4, s, dst, inside);
                    } else if (sw == 2) {
                        everySecond(x, row, s, dst, inside);
                    } else {
                        for (int k = 0; k < inside; k++) s[dst + k] = x.getAtIndex(F32, row + (long) sw * k);
                    }
                    if (inside < ow) java.util.Arrays.fill(s, dst + inside, dst + ow, 0f);
                }
            }
        }
    }

    /** {@code s[dst + k] = x[row + 2k]} for {@code k < n}: half a vector of even lanes per load while the loads fit. */
    private static void everySecond(MemorySegment x, long row, float[] s, int dst, int n) {
        long lastStart = x.byteSize() / 4 - L;
        int k = 0;
        for (; k + HALF <= n && row + 2L * k <= lastStart; k += HALF) {
            ((FloatVector) FloatVector.fromMemorySegment(S, x, (row + 2L * k) * 4, ORDER).rearrange(EVEN).reinterpretShape(H, 0))
                    .intoArray(s, dst + k);
        }
        for (; k < n; k++) s[dst + k] = x.getAtIndex(F32, row + 2L * k);
    }
}
