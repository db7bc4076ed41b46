package dev.kiln.runtime.kernels;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static dev.kiln.runtime.Elements.F32;

/**
 * {@link F32Windows} on the Vector API: im2col runs are copied and zeroed a vector at a time with a masked last
 * vector, and 2x2 stride-2 max pooling reduces two input rows a vector at a time, then packs the even lanes with
 * one permute. Only loaded when {@code jdk.incubator.vector} is present, so nothing else in the runtime may
 * refer to this class directly.
 */
final class VectorF32Windows implements F32Windows {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length(), HALF = L / 2;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Lane l < L/2 takes lane 2l: packs the even lanes into the low half (a plain permute, unlike compress). */
    private static final VectorShuffle<Float> PACK = VectorShuffle.fromOp(S, i -> (2 * i) % L);
    /** Lane l takes lane l+1 (the last lane wraps to lane 0; it is odd, so never used). */
    private static final VectorShuffle<Float> NEXT = VectorShuffle.fromOp(S, i -> (i + 1) % L);
    /** Half the preferred width: one chunk of pooled outputs after PACK. */
    @SuppressWarnings("unchecked")
    private static final VectorSpecies<Float> H = (VectorSpecies<Float>) VectorSpecies.of(float.class,
            VectorShape.forBitSize(S.vectorBitSize() / 2));
    private static final FloatVector ZERO = FloatVector.zero(S);
    /** Ints as wide as {@link #S}: the bit masks of {@link #convPanel}. */
    private static final VectorSpecies<Integer> IS = S.withLanes(int.class);
    /** Lane numbers 0 .. L-1, as ints. */
    private static final IntVector LANES = IntVector.fromArray(IS, java.util.stream.IntStream.range(0, S.length()).toArray(), 0);

    VectorF32Windows() {}

    @Override
    public void im2colUnitStride(MemorySegment x, int c, int h, int w, int kh, int kw, int ph, int pw, int oh,
                                 int ow, MemorySegment col) {
        long plane = (long) h * w, cols = (long) oh * ow;
        long row = 0;
        for (int ci = 0; ci < c; ci++) {
            long xPlane = ci * plane;
            for (int i = 0; i < kh; i++) {
                int shiftH = i - ph;
                // output rows [yLo, yHi) read input row y + shiftH inside [0, h)
                int yLo = Math.min(oh, Math.max(0, -shiftH));
                int yHi = Math.max(yLo, Math.min(oh, h - shiftH));
                for (int j = 0; j < kw; j++, row += cols) {
                    int shiftW = j - pw;
                    // output columns [xLo, xHi) read input column x + shiftW inside [0, w)
                    int xLo = Math.min(ow, Math.max(0, -shiftW));
                    int xHi = Math.max(xLo, Math.min(ow, w - shiftW));
                    int n = xHi - xLo, tail = ow - xHi;
                    zero(col, row, (long) yLo * ow);
                    long dst = row + (long) yLo * ow;
                    long src = xPlane + (long) (yLo + shiftH) * w + xLo + shiftW;
                    if (w == ow && n > 0 && yHi > yLo) {
                        // input and output rows have the same length, so the runs of all rows [yLo, yHi) sit at
                        // the same distance in x and col: copy from the first run's start to the last run's end
                        // in one go (the gaps between runs get in-bounds neighbours), then zero the gaps
                        copy(x, src, col, dst + xLo, (long) (yHi - yLo) * ow - xLo - tail);
                        zero(col, dst, xLo);
                        zeroEvery(col, dst + xHi, ow, yHi - yLo - 1, tail + xLo);
                        zero(col, dst + (long) (yHi - yLo - 1) * ow + xHi, tail);
                    } else {
                        copyEvery(x, src, w, col, dst + xLo, ow, yHi - yLo, n);
                        zeroEvery(col, dst, ow, yHi - yLo, xLo);
                        zeroEvery(col, dst + xHi, ow, yHi - yLo, tail);
                    }
                    zero(col, row + (long) yHi * ow, (long) (oh - yHi) * ow);
                }
            }
        }
    }

    /** Per thread: for each tap column, {@code -1} where a panel's pixel reads inside the image horizontally, else 0. */
    private static final ThreadLocal<int[][]> COLUMN_MASKS = ThreadLocal.withInitial(() -> new int[1][0]);

    @Override
    public void convPanel(ConvPanels.Taps taps, MemorySegment image, long base, int pc, int kc, int jp, float[] bp,
                          int to) {
        int nr = PackedGemm.NR, ow = taps.ow, kw = taps.colFrom.length;
        int imageFloats = taps.imageFloats;
        int pix = jp * nr;
        // the horizontal padding of this panel's pixels, per tap column j: bits to keep (-1) or clear (0)
        int[][] holder = COLUMN_MASKS.get();
        if (holder[0].length < kw * nr) holder[0] = new int[kw * nr];
        int[] keep = holder[0];
        for (int j = 0; j < kw; j++) {
            int xLo = taps.colFrom[j], xHi = taps.colTo[j];
            for (int col = 0, x = pix % ow; col < nr; col++, x = x + 1 == ow ? 0 : x + 1) {
                keep[j * nr + col] = x >= xLo && x < xHi ? -1 : 0;
            }
        }
        int[] shift = taps.shift, column = taps.column;
        if (pix >= taps.maxRowsFrom && pix + nr <= taps.minRowsTo && pix + taps.minShift >= 0
                && pix + nr + taps.maxShift <= imageFloats) {
            // every tap reads this panel's pixels inside the image's rows: two loads, masks and stores per tap
            for (int p = 0, dst = to; p < kc; p++, dst += nr) {
                long from = (base + pix + shift[pc + p]) * 4L;
                int mask = column[pc + p] * nr;
                for (int v = 0; v < nr; v += L) {
                    FloatVector.fromMemorySegment(S, image, from + v * 4L, ORDER).reinterpretAsInts()
                            .lanewise(VectorOperators.AND, IntVector.fromArray(IS, keep, mask + v))
                            .reinterpretAsFloats().intoArray(bp, dst + v);
                }
            }
            return;
        }
        int[] rowsFrom = taps.rowsFrom, rowsTo = taps.rowsTo;
        for (int p = 0, dst = to; p < kc; p++, dst += nr) {
            int validFrom = rowsFrom[pc + p], validTo = rowsTo[pc + p], mask = column[pc + p] * nr, s = shift[pc + p];
            // a vector straddling the first or last valid row goes element by element: a masked vector load
            // (VectorMask from indexInRange) in this loop made C2 compile all of it 3x slower
            for (int v = 0; v < nr; v += L) {
                int q = pix + v, from = q + s;
                if (q >= validFrom && q + L <= validTo && from >= 0 && from + L <= imageFloats) {
                    FloatVector.fromMemorySegment(S, image, (base + from) * 4L, ORDER).reinterpretAsInts()
                            .lanewise(VectorOperators.AND, IntVector.fromArray(IS, keep, mask + v))
                            .reinterpretAsFloats().intoArray(bp, dst + v);
                } else if (q + L <= validFrom || q >= validTo) {
                    FloatVector.zero(S).intoArray(bp, dst + v);
                } else if (from >= 0 && from + L <= imageFloats) {
                    // straddles the first or last valid row (small images: most panels): lanes outside cleared
                    IntVector pixels = LANES.add(q);
                    VectorMask<Integer> outside = pixels.compare(VectorOperators.LT, validFrom)
                            .or(pixels.compare(VectorOperators.GE, validTo));
                    FloatVector.fromMemorySegment(S, image, (base + from) * 4L, ORDER).reinterpretAsInts()
                            .lanewise(VectorOperators.AND, IntVector.fromArray(IS, keep, mask + v))
                            .blend(0, outside).reinterpretAsFloats().intoArray(bp, dst + v);
                } else {
                    // lanes [lo, hi) are inside the valid rows and the image; no branch in the loops (a branch here
                    // kept failing C2's profile-based loop predicates: a deoptimise-recompile cycle lasting seconds)
                    int lo = Math.max(0, Math.max(validFrom - q, -from)), hi = Math.min(L, Math.min(validTo - q, imageFloats - from));
                    for (int t = 0; t < L; t++) bp[dst + v + t] = 0f;
                    for (int t = lo; t < hi; t++) {
                        bp[dst + v + t] = Float.intBitsToFloat(Float.floatToRawIntBits(image.getAtIndex(F32, base + from + t)) & keep[mask + v + t]);
                    }
                }
            }
        }
    }

    /**
     * {@code count} runs of {@code n} elements, from {@code src + t*srcStep} to {@code dst + t*dstStep}. The
     * elements between runs may be overwritten: the caller writes them afterwards (the padding columns).
     */
    private static void copyEvery(MemorySegment x, long src, long srcStep, MemorySegment col, long dst, long dstStep,
                                  int count, int n) {
        if (n <= 0) return;
        if (n > L) {
            for (int t = 0; t < count; t++, src += srcStep, dst += dstStep) copy(x, src, col, dst, n);
            return;
        }
        VectorMask<Float> m = S.indexInRange(0, n);   // one masked vector per run, the mask made once
        long xEnd = x.byteSize(), colEnd = col.byteSize(), lastEnd = dst + (count - 1L) * dstStep + n;
        for (int t = 0; t < count; t++, src += srcStep, dst += dstStep) {
            if (dst + L <= lastEnd && (src + L) * 4 <= xEnd) {
                // a whole vector: its lanes past the run land on later runs or between runs, written afterwards
                // (short runs, as in LeNet's second convolution, went 6 ns a run masked)
                FloatVector.fromMemorySegment(S, x, src * 4, ORDER).intoMemorySegment(col, dst * 4, ORDER);
            } else if ((src + L) * 4 <= xEnd && (dst + L) * 4 <= colEnd) {
                // a masked access is only intrinsified when the whole vector lies inside the segment
                FloatVector.fromMemorySegment(S, x, src * 4, ORDER, m).intoMemorySegment(col, dst * 4, ORDER, m);
            } else {
                for (int k = 0; k < n; k++) col.setAtIndex(F32, dst + k, x.getAtIndex(F32, src + k));
            }
        }
    }

    /** Zeroes {@code count} runs of {@code n} elements at {@code from + t*step}. */
    private static void zeroEvery(MemorySegment col, long from, long step, int count, int n) {
        if (n <= 0) return;
        if (n > L) {
            for (int t = 0; t < count; t++, from += step) zero(col, from, n);
            return;
        }
        VectorMask<Float> m = S.indexInRange(0, n);
        long colEnd = col.byteSize();
        for (int t = 0; t < count; t++, from += step) {
            if ((from + L) * 4 <= colEnd) ZERO.intoMemorySegment(col, from * 4, ORDER, m);
            else for (int k = 0; k < n; k++) col.setAtIndex(F32, from + k, 0f);
        }
    }

    private static void copy(MemorySegment x, long src, MemorySegment col, long dst, long n) {
        long k = 0;
        for (; k <= n - L; k += L) {
            FloatVector.fromMemorySegment(S, x, (src + k) * 4, ORDER).intoMemorySegment(col, (dst + k) * 4, ORDER);
        }
        if (k < n) {
            // a masked access is only intrinsified when the whole vector lies inside the segment
            if ((src + k + L) * 4 <= x.byteSize() && (dst + k + L) * 4 <= col.byteSize()) {
                VectorMask<Float> m = S.indexInRange(k, n);
                FloatVector.fromMemorySegment(S, x, (src + k) * 4, ORDER, m)
                        .intoMemorySegment(col, (dst + k) * 4, ORDER, m);
            } else {
                for (; k < n; k++) col.setAtIndex(F32, dst + k, x.getAtIndex(F32, src + k));
            }
        }
    }

    private static void zero(MemorySegment col, long from, long n) {
        long k = 0;
        for (; k <= n - L; k += L) ZERO.intoMemorySegment(col, (from + k) * 4, ORDER);
        if (k < n) {
            if ((from + k + L) * 4 <= col.byteSize()) {
                ZERO.intoMemorySegment(col, (from + k) * 4, ORDER, S.indexInRange(k, n));
            } else {
                for (; k < n; k++) col.setAtIndex(F32, from + k, 0f);
            }
        }
    }

    @Override
    public int everySecond(MemorySegment x, long src, float[] dst, int to, int n) {
        long lastStart = x.byteSize() / 4 - L;
        int k = 0;
        for (; k + HALF <= n && src + 2L * k <= lastStart; k += HALF) {
            ((FloatVector) FloatVector.fromMemorySegment(S, x, (src + 2L * k) * 4, ORDER).rearrange(PACK).reinterpretShape(H, 0))
                    .intoArray(dst, to + k);
        }
        return k;
    }

    /** Lane l < L/4 takes lane 4l. */
    private static final VectorShuffle<Float> PACK4 = VectorShuffle.fromOp(S, i -> (4 * i) % L);
    /** A quarter of the preferred width (null below 8 lanes): one chunk of {@link #everyFourth}. */
    @SuppressWarnings("unchecked")
    private static final VectorSpecies<Float> Q = L < 8 ? null : (VectorSpecies<Float>) VectorSpecies.of(float.class,
            VectorShape.forBitSize(S.vectorBitSize() / 4));

    @Override
    public int everyFourth(MemorySegment x, long src, float[] dst, int to, int n) {
        if (Q == null) return 0;
        long lastStart = x.byteSize() / 4 - L;
        int quarter = L / 4, k = 0;
        for (; k + quarter <= n && src + 4L * k <= lastStart; k += quarter) {
            ((FloatVector) FloatVector.fromMemorySegment(S, x, (src + 4L * k) * 4, ORDER).rearrange(PACK4).reinterpretShape(Q, 0))
                    .intoArray(dst, to + k);
        }
        return k;
    }

    @Override
    public int everySecond(MemorySegment x, long src, MemorySegment dst, long to, int n) {
        long lastStart = x.byteSize() / 4 - L, dstEnd = dst.byteSize() / 4 - HALF;
        int k = 0;
        for (; k + HALF <= n && src + 2L * k <= lastStart && to + k <= dstEnd; k += HALF) {
            FloatVector.fromMemorySegment(S, x, (src + 2L * k) * 4, ORDER).rearrange(PACK).reinterpretShape(H, 0)
                    .intoMemorySegment(dst, (to + k) * 4, ORDER);
        }
        return k;
    }

    @Override
    public void max2x2Row(MemorySegment x, long first, long w, MemorySegment out, long o, int n) {
        int k = 0;
        for (; k <= n - HALF; k += HALF) chunk(x, first + 2L * k, w, out, o + k);
        if (k < n) tail(x, first + 2L * k, w, out, o + k, n - k);
    }

    /**
     * L/2 outputs from element {@code at} of the upper row, reading exactly L elements of each row: lane l of
     * {@code a} and of {@code a} moved down one lane holds elements {@code at+l} and {@code at+l+1}, so the even
     * lanes hold whole windows; {@code PACK} moves them into the low half, stored as a half-width vector.
     */
    private static void chunk(MemorySegment x, long at, long w, MemorySegment out, long o) {
        long bt = at + w;
        FloatVector a = FloatVector.fromMemorySegment(S, x, at * 4, ORDER);
        FloatVector b = FloatVector.fromMemorySegment(S, x, bt * 4, ORDER);
        // step(earlier, later) written out, here and in tail: a helper taking vectors is boxed when C2 leaves it out
        // of line (seen under load: 130 KB of garbage per LeNet run)
        FloatVector a1 = a.rearrange(NEXT), b1 = b.rearrange(NEXT);
        FloatVector top = a.blend(a1, a1.compare(VectorOperators.GT, a).or(a1.test(VectorOperators.IS_NAN)));
        FloatVector bottom = b.blend(b1, b1.compare(VectorOperators.GT, b).or(b1.test(VectorOperators.IS_NAN)));
        top.blend(bottom, bottom.compare(VectorOperators.GT, top).or(bottom.test(VectorOperators.IS_NAN)))
                .rearrange(PACK).reinterpretShape(H, 0).intoMemorySegment(out, o * 4, ORDER);
    }

    /**
     * The last {@code n < L/2} outputs of a row, as {@link #chunk} with masked accesses when whole vectors fit in
     * the segments (only then is a masked access intrinsified), else one window at a time.
     */
    private static void tail(MemorySegment x, long at, long w, MemorySegment out, long o, int n) {
        long bt = at + w;
        if ((bt + L) * 4 <= x.byteSize() && (o + HALF) * 4 <= out.byteSize()) {
            VectorMask<Float> in = S.indexInRange(0, 2 * n);
            FloatVector a = FloatVector.fromMemorySegment(S, x, at * 4, ORDER, in);
            FloatVector b = FloatVector.fromMemorySegment(S, x, bt * 4, ORDER, in);
            FloatVector a1 = a.rearrange(NEXT), b1 = b.rearrange(NEXT);
            FloatVector top = a.blend(a1, a1.compare(VectorOperators.GT, a).or(a1.test(VectorOperators.IS_NAN)));
            FloatVector bottom = b.blend(b1, b1.compare(VectorOperators.GT, b).or(b1.test(VectorOperators.IS_NAN)));
            top.blend(bottom, bottom.compare(VectorOperators.GT, top).or(bottom.test(VectorOperators.IS_NAN)))
                    .rearrange(PACK).reinterpretShape(H, 0).intoMemorySegment(out, o * 4, ORDER, H.indexInRange(0, n));
        } else {
            for (int k = 0; k < n; k++) {
                long r0 = at + 2L * k, r1 = bt + 2L * k;
                float p = x.getAtIndex(F32, r0), q = x.getAtIndex(F32, r0 + 1);
                float c = x.getAtIndex(F32, r1), d = x.getAtIndex(F32, r1 + 1);
                float top = q > p || q != q ? q : p, bottom = d > c || d != d ? d : c;
                out.setAtIndex(F32, o + k, bottom > top || bottom != bottom ? bottom : top);
            }
        }
    }

    /**
     * One step of the max fold, {@code later > earlier || later is NaN ? later : earlier}, lanewise: associative
     * when earlier parts stay on the left, so pairing the taps changes no bits.
     */
    /**
     * Whole vectors of outputs: with stride 1, lane l of a vector starting at output {@code ox} is output
     * {@code ox + l}; with stride 2, the even lanes hold whole windows and are packed into a half-width vector of
     * outputs. The fold is written out in place (no helper taking vectors, no vector merged with null), so that
     * C2 keeps every vector in registers whatever else it has compiled.
     */
    @Override
    public int maxRow(MemorySegment x, long first, long rowStep, int rows, int kw, int sw, int dw, MemorySegment out, long o,
                      int from, int to) {
        if (rows <= 0 || (sw != 1 && sw != 2)) return from;
        int perChunk = sw == 1 ? L : HALF;
        // the last sw*ox whose vectors stay inside the segment
        long limit = x.byteSize() / 4 - (first + (rows - 1L) * rowStep) - ((kw - 1L) * dw + L);
        int ox = from;
        for (; ox + perChunk <= to && (long) sw * ox <= limit; ox += perChunk) {
            maxChunk(x, first + (long) sw * ox, rowStep, rows, kw, sw, dw, out, o + ox);
        }
        // a last chunk ending at `to` overlaps the previous one (recomputing a few outputs) instead of a scalar tail
        int last = to - perChunk;
        if (ox < to && ox > from && (long) sw * last <= limit) {
            maxChunk(x, first + (long) sw * last, rowStep, rows, kw, sw, dw, out, o + last);
            ox = to;
        }
        return ox;
    }

    /** Doubles as many as the floats of {@link #H}: an average pool's sums of half a vector of outputs. */
    private static final VectorSpecies<Double> HD = VectorSpecies.of(double.class, VectorShape.forBitSize(S.vectorBitSize()));

    @Override
    public int avgRow(MemorySegment x, long first, long rowStep, int rows, int kw, int sw, double divisor, MemorySegment out,
                      long o, int from, int to) {
        if (rows <= 0 || (sw != 1 && sw != 2)) return from;
        int perChunk = HALF;
        // the last sw*ox whose vectors (a whole S vector for stride 2) stay inside the segment
        long limit = x.byteSize() / 4 - (first + (rows - 1L) * rowStep) - (kw - 1L + L);
        int ox = from;
        for (; ox + perChunk <= to && (long) sw * ox <= limit; ox += perChunk) {
            if (sw == 1) avgChunkUnitStride(x, first + ox, rowStep, rows, kw, divisor, out, o + ox);
            else avgChunkStride2(x, first + 2L * ox, rowStep, rows, kw, divisor, out, o + ox);
        }
        return ox;
    }

    /** Half a vector of stride-1 averages from input element {@code at}: sums widened to double, as the scalar loop. */
    private static void avgChunkUnitStride(MemorySegment x, long at, long rowStep, int rows, int kw, double divisor,
                                           MemorySegment out, long o) {
        DoubleVector sum = DoubleVector.zero(HD);
        for (int i = 0; i < rows; i++, at += rowStep) {
            for (int j = 0; j < kw; j++) {
                sum = sum.add(FloatVector.fromMemorySegment(H, x, (at + j) * 4, ORDER).convertShape(VectorOperators.F2D, HD, 0));
            }
        }
        sum.div(divisor).convertShape(VectorOperators.D2F, H, 0).intoMemorySegment(out, o * 4, ORDER);
    }

    /** Half a vector of stride-2 averages from input element {@code at}: the even lanes of whole-vector loads. */
    private static void avgChunkStride2(MemorySegment x, long at, long rowStep, int rows, int kw, double divisor,
                                        MemorySegment out, long o) {
        DoubleVector sum = DoubleVector.zero(HD);
        for (int i = 0; i < rows; i++, at += rowStep) {
            for (int j = 0; j < kw; j++) {
                sum = sum.add(FloatVector.fromMemorySegment(S, x, (at + j) * 4, ORDER).rearrange(PACK).reinterpretShape(H, 0)
                        .convertShape(VectorOperators.F2D, HD, 0));
            }
        }
        sum.div(divisor).convertShape(VectorOperators.D2F, H, 0).intoMemorySegment(out, o * 4, ORDER);
    }

    /** One chunk of outputs at {@code out[o ..]}: the window maxima starting at input element {@code at}. */
    private static void maxChunk(MemorySegment x, long at, long rowStep, int rows, int kw, int sw, int dw,
                                 MemorySegment out, long o) {
        FloatVector m = FloatVector.fromMemorySegment(S, x, at * 4, ORDER);
        for (int i = 0; i < rows; i++, at += rowStep) {
            for (int j = i == 0 ? 1 : 0; j < kw; j++) {
                FloatVector v = FloatVector.fromMemorySegment(S, x, (at + (long) j * dw) * 4, ORDER);
                m = m.blend(v, v.compare(VectorOperators.GT, m).or(v.test(VectorOperators.IS_NAN)));
            }
        }
        if (sw == 1) m.intoMemorySegment(out, o * 4, ORDER);
        else m.rearrange(PACK).reinterpretShape(H, 0).intoMemorySegment(out, o * 4, ORDER);
    }

    @Override
    public int axpy(float alpha, MemorySegment x, long src, MemorySegment out, long o, int from, int to) {
        int k = from;
        for (; k + L <= to; k += L) {
            FloatVector v = FloatVector.fromMemorySegment(S, x, (src + k) * 4, ORDER).mul(alpha);
            FloatVector.fromMemorySegment(S, out, (o + k) * 4, ORDER).add(v).intoMemorySegment(out, (o + k) * 4, ORDER);
        }
        return k;
    }
}
