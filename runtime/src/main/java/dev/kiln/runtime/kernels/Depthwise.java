package dev.kiln.runtime.kernels;

import dev.kiln.ir.KilnException;

import java.lang.foreign.MemorySegment;

import static dev.kiln.runtime.Elements.F32;

/**
 * Allocation-free depthwise convolution of a batch of f32 images for generated code ({@link #f32}): {@code mult}
 * output channels per input channel, each output channel one small filter over one input plane, plus an optional
 * per-channel bias. Unlike a grouped GEMM per channel, the work per call is tiny (ShuffleNet's 3x3 depthwise layers
 * are 9 multiply-adds per output), so what counts is keeping the vector lanes full on small planes (7x7 to 56x56).
 *
 * <p>The Vector API kernel ({@link VectorDepthwise}) works on <em>phase planes</em>: for strides {@code sh x sw}
 * the input plane is split into {@code sh*sw} planes (phase {@code (ri, rj)} holds input element
 * {@code [sh*Y + ri, sw*X + rj]} at {@code [Y, X]}) that are exactly {@code ow} wide and have zero rows where the
 * filter reaches past the top or bottom. Every tap then reads one phase plane at a constant offset from the output
 * pixel, so an output plane is computed as one flat run of whole vectors, across row ends, whatever its width (a 7x7
 * plane is four vectors of 16); the lanes whose tap column falls in the horizontal padding are masked out per tap
 * column. {@link Geometry#phased()} says when a geometry fits (every tap column past the plane's right edge is
 * padding: true for the usual "same" and stride-2 layers); other geometries, and JVMs without the Vector API, run a
 * plain per-row loop.
 *
 * <p>The input may be read through a channel shuffle ({@link Geometry#shuffleGroups()}, ShuffleNet's reshape,
 * transpose, reshape), so the permuted copy feeding the depthwise layer is never written.
 */
public final class Depthwise {
    /** The Vector API kernel, or null when the Vector API is not in use. */
    static final PhasedKernel VECTOR = VectorApi.instanceOr(PhasedKernel.class, "dev.kiln.runtime.kernels.VectorDepthwise", null);

    /** Multiply-adds of a call worth splitting over the pool's threads. */
    private static final long PARALLEL_WORK = 1 << 17;

    private Depthwise() {}

    /** The phase-plane kernel: input channels {@code [ic0, ic1)} of one image, every output channel they feed. */
    interface PhasedKernel {
        /** Vector lanes of the kernel: the geometry's scratch margins and column table are sized for it. */
        int lanes();

        void channels(Geometry g, MemorySegment x, long xImage, MemorySegment weight, MemorySegment bias,
                      MemorySegment out, long outImage, int ic0, int ic1);
    }

    /**
     * A depthwise convolution's sizes, checked once, with what the phase-plane kernel needs precomputed (tap
     * offsets into the phase planes, the column of every output pixel): made at compile time for generated code.
     * {@code shuffleGroups > 1} reads input channel {@code (ic % G) * (c / G) + ic / G} as channel {@code ic} (a
     * channel shuffle of {@code G} groups applied to the input first).
     */
    public static final class Geometry {
        private final int c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, mult, oh, ow, shuffleGroups;
        private final boolean phased;
        /** Phase-plane kernel tables (null unless phased): per tap {@code i*kw+j}, its offset from the output pixel. */
        final int[] tapOffset;
        /** Per tap column {@code j}: output columns {@code [columnFrom, columnTo)} read inside the plane. */
        final float[] columnFrom, columnTo;
        /** Per tap column: whether some output column reads padding (so lanes are masked). */
        final boolean[] columnMasked;
        /** {@code q % ow} for output pixel {@code q}, past the plane by a vector. */
        final float[] columnOf;
        /** Phase planes: rows from {@code rowFrom} (relative to output row 0), rows per plane, first element of each plane. */
        final int rowFrom, phaseRows;
        final int[] phaseStart;
        /** Floats of scratch per thread: the phase planes with their margins, the taps of one channel, one vector of output. */
        final int scratchFloats, weightsAt, outputAt;

        public Geometry(int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int mult,
                        int oh, int ow, int shuffleGroups) {
            if ((c | h | w | ph | pw | oh | ow) < 0 || kh < 1 || kw < 1 || sh < 1 || sw < 1 || dh < 1 || dw < 1 || mult < 1
                    || shuffleGroups < 1 || c % shuffleGroups != 0) {
                throw new KilnException("depthwise conv: sizes and padding must be >= 0, kernel, strides, dilations and the "
                        + "channel multiplier >= 1 and the shuffle groups must divide the channels; got c=" + c + " h=" + h
                        + " w=" + w + " kernel " + kh + "x" + kw + " stride " + sh + "x" + sw + " padding " + ph + "x" + pw
                        + " dilation " + dh + "x" + dw + " multiplier " + mult + " output " + oh + "x" + ow
                        + " shuffle groups " + shuffleGroups);
            }
            if ((long) c * mult * oh * ow > Integer.MAX_VALUE || (long) h * w > Integer.MAX_VALUE / 4) {
                throw new KilnException("depthwise conv: " + c + " x " + mult + " channels of " + oh + "x" + ow
                        + " outputs from " + h + "x" + w + " planes exceed the kernel's int indexing");
            }
            this.c = c;
            this.h = h;
            this.w = w;
            this.kh = kh;
            this.kw = kw;
            this.sh = sh;
            this.sw = sw;
            this.ph = ph;
            this.pw = pw;
            this.dh = dh;
            this.dw = dw;
            this.mult = mult;
            this.oh = oh;
            this.ow = ow;
            this.shuffleGroups = shuffleGroups;
            int lanes = VECTOR == null ? 0 : VECTOR.lanes();
            boolean fits = lanes > 0 && oh > 0 && ow > 0 && sh <= 4 && sw <= 4 && kh * kw <= 64;
            int minRow = 0, maxRow = 0, maxColumnShift = 0;
            for (int i = 0; fits && i < kh; i++) {
                int q = Math.floorDiv(i * dh - ph, sh);
                minRow = i == 0 ? q : Math.min(minRow, q);
                maxRow = i == 0 ? q : Math.max(maxRow, q);
            }
            for (int j = 0; fits && j < kw; j++) {
                int q = Math.floorDiv(j * dw - pw, sw), r = Math.floorMod(j * dw - pw, sw);
                // a lane whose column x + q lies past the plane is masked out: it must be horizontal padding
                if (q > 0 && (long) sw * ow + r < w) fits = false;
                maxColumnShift = Math.max(maxColumnShift, Math.abs(q));
            }
            long rows = (long) maxRow - minRow + oh, margin = lanes + maxColumnShift;
            long planeFloats = rows * ow + margin, phases = (long) sh * sw;
            long scratch = margin + phases * planeFloats + lanes + (long) kh * kw + lanes;
            fits &= scratch <= 1 << 26 && (long) oh * ow + 2L * lanes <= Integer.MAX_VALUE;
            this.phased = fits;
            if (!fits) {
                tapOffset = null;
                columnFrom = columnTo = columnOf = null;
                columnMasked = null;
                rowFrom = phaseRows = 0;
                phaseStart = null;
                scratchFloats = weightsAt = outputAt = 0;
                return;
            }
            rowFrom = minRow;
            phaseRows = (int) rows;
            phaseStart = new int[(int) phases];
            for (int p = 0; p < phases; p++) phaseStart[p] = (int) (margin + p * planeFloats);
            weightsAt = (int) (margin + phases * planeFloats + lanes);
            outputAt = weightsAt + kh * kw;
            scratchFloats = outputAt + lanes;
            tapOffset = new int[kh * kw];
            columnFrom = new float[kw];
            columnTo = new float[kw];
            columnMasked = new boolean[kw];
            for (int j = 0; j < kw; j++) {
                int qj = Math.floorDiv(j * dw - pw, sw), rj = Math.floorMod(j * dw - pw, sw);
                int from = Math.max(0, -qj), to = Math.min(ow, ow - qj);
                columnFrom[j] = from;
                columnTo[j] = Math.max(from, to);
                columnMasked[j] = from > 0 || to < ow;
                for (int i = 0; i < kh; i++) {
                    int qi = Math.floorDiv(i * dh - ph, sh), ri = Math.floorMod(i * dh - ph, sh);
                    tapOffset[i * kw + j] = phaseStart[ri * sw + rj] + (qi - minRow) * ow + qj;
                }
            }
            int pixels = oh * ow, covered = (pixels + lanes - 1) / lanes * lanes + lanes;
            columnOf = new float[covered];
            for (int q = 0; q < covered; q++) columnOf[q] = q % ow;
        }

        public int c() { return c; }
        public int h() { return h; }
        public int w() { return w; }
        public int kh() { return kh; }
        public int kw() { return kw; }
        public int sh() { return sh; }
        public int sw() { return sw; }
        public int ph() { return ph; }
        public int pw() { return pw; }
        public int dh() { return dh; }
        public int dw() { return dw; }
        public int mult() { return mult; }
        public int oh() { return oh; }
        public int ow() { return ow; }
        public int shuffleGroups() { return shuffleGroups; }

        /** Whether the Vector API phase-plane kernel runs this geometry (else the plain per-row loop). */
        public boolean phased() { return phased; }

        /** Input channel read as channel {@code ic}: itself, or its source under the channel shuffle. */
        int sourceChannel(int ic) {
            return shuffleGroups == 1 ? ic : (ic % shuffleGroups) * (c / shuffleGroups) + ic / shuffleGroups;
        }

        long imageFloats() { return (long) c * h * w; }

        long outputFloats() { return (long) c * mult * oh * ow; }

        @Override
        public String toString() {
            return "depthwise " + c + " channels x " + mult + ", " + kh + "x" + kw + " taps, stride " + sh + "x" + sw
                    + ", padding " + ph + "x" + pw + ", dilation " + dh + "x" + dw + ", " + h + "x" + w + " -> " + oh + "x"
                    + ow + (shuffleGroups > 1 ? ", input read through a channel shuffle of " + shuffleGroups + " groups" : "")
                    + (phased ? " (vector phase planes)" : " (per-row loop)");
        }
    }

    /**
     * {@code out[img, oc] = bias[oc] + sum over taps of weight[oc, 0, i, j] * x[img, source(oc / mult), ...]} for
     * {@code images} images ({@code x}: {@code c x h x w} each, contiguous, image {@code i} from element
     * {@code i * xImageStride}, at least {@code c*h*w}; {@code out}: {@code images x c*mult x oh x ow}, contiguous;
     * {@code weight}: {@code c*mult x 1 x kh x kw}; {@code bias}: {@code c*mult} or null), native or heap f32
     * segments from element 0. Split over the pool's threads by channel when large enough.
     */
    public static void f32(Geometry g, int images, MemorySegment x, long xImageStride, MemorySegment weight, MemorySegment bias,
                           MemorySegment out) {
        check(g, images, x, xImageStride, weight, bias, out);
        long units = (long) images * g.c;
        if (units == 0 || g.oh == 0 || g.ow == 0) return;
        long perChannel = (long) g.mult * g.oh * g.ow * g.kh * g.kw;
        if (Parallel.threads() > 1 && units > 1 && units * perChannel >= PARALLEL_WORK && Parallel.shareable(x, weight, bias, out)) {
            Parallel.forRange(units, Math.max(1, PARALLEL_WORK / 4 / perChannel),
                    (u0, u1) -> units(g, x, xImageStride, weight, bias, out, u0, u1));
        } else {
            units(g, x, xImageStride, weight, bias, out, 0, units);
        }
    }

    /** Channels {@code [u0, u1)} counted over the whole batch ({@code image * c + channel}). */
    private static void units(Geometry g, MemorySegment x, long xImageStride, MemorySegment weight, MemorySegment bias,
                              MemorySegment out, long u0, long u1) {
        for (long u = u0; u < u1; ) {
            long img = u / g.c;
            int ic0 = (int) (u % g.c), ic1 = (int) Math.min(g.c, ic0 + (u1 - u));
            long xImage = img * xImageStride, outImage = img * g.outputFloats();
            if (g.phased) VECTOR.channels(g, x, xImage, weight, bias, out, outImage, ic0, ic1);
            else rows(g, x, xImage, weight, bias, out, outImage, ic0, ic1);
            u += ic1 - ic0;
        }
    }

    /**
     * The plain kernel: each output row accumulates its taps in order, per tap over the output columns whose input
     * column lies inside the image (a vector scaled add for unit horizontal stride when available).
     */
    private static void rows(Geometry g, MemorySegment x, long xImage, MemorySegment weight, MemorySegment bias,
                             MemorySegment out, long outImage, int ic0, int ic1) {
        int h = g.h, w = g.w, kh = g.kh, kw = g.kw, sh = g.sh, sw = g.sw, oh = g.oh, ow = g.ow;
        long plane = (long) h * w, outPlane = (long) oh * ow;
        F32Windows vector = F32Windows.VECTOR;
        for (int ic = ic0; ic < ic1; ic++) {
            long xPlane = xImage + g.sourceChannel(ic) * plane;
            for (long oc = (long) ic * g.mult; oc < (long) (ic + 1) * g.mult; oc++) {
                long oPlane = outImage + oc * outPlane, taps = oc * kh * kw;
                float b = bias == null ? 0f : bias.getAtIndex(F32, oc);
                for (long i = 0; i < outPlane; i++) out.setAtIndex(F32, oPlane + i, b);
                for (int i = 0; i < kh; i++) {
                    long shiftH = (long) i * g.dh - g.ph;
                    long yLo = Math.min(oh, Math.max(0, Math.ceilDiv(-shiftH, sh)));
                    long yHi = Math.max(yLo, Math.min(oh, Math.floorDiv(h - 1 - shiftH, sh) + 1));
                    for (int j = 0; j < kw; j++) {
                        float tap = weight.getAtIndex(F32, taps + (long) i * kw + j);
                        long shiftW = (long) j * g.dw - g.pw;
                        int xLo = (int) Math.min(ow, Math.max(0, Math.ceilDiv(-shiftW, sw)));
                        int xHi = (int) Math.max(xLo, Math.min(ow, Math.floorDiv(w - 1 - shiftW, sw) + 1));
                        for (long y = yLo; y < yHi; y++) {
                            long src = xPlane + (y * sh + shiftH) * w + shiftW, dst = oPlane + y * ow;
                            int from = xLo;
                            if (vector != null && sw == 1 && out.isNative() && x.isNative()) from = vector.axpy(tap, x, src, out, dst, xLo, xHi);
                            for (long ox = from; ox < xHi; ox++) {
                                out.setAtIndex(F32, dst + ox, out.getAtIndex(F32, dst + ox) + tap * x.getAtIndex(F32, src + ox * sw));
                            }
                        }
                    }
                }
            }
        }
    }

    private static void check(Geometry g, int images, MemorySegment x, long xImageStride, MemorySegment weight,
                              MemorySegment bias, MemorySegment out) {
        long channels = (long) g.c * g.mult;
        long xBytes = images <= 0 ? 0 : 4L * ((images - 1) * xImageStride + g.imageFloats()), outBytes = 4L * images * g.outputFloats();
        long weightBytes = 4L * channels * g.kh * g.kw;
        if (images < 0 || xImageStride < g.imageFloats() || x.byteSize() < xBytes || out.byteSize() < outBytes || weight.byteSize() < weightBytes
                || (bias != null && bias.byteSize() < 4L * channels)) {
            throw new KilnException("depthwise conv (" + g + ") of " + images + " image(s), input images " + xImageStride
                    + " elements apart (at least c*h*w): needs " + xBytes
                    + " bytes of input (segment has " + x.byteSize() + "), " + outBytes + " of output (has "
                    + out.byteSize() + "), " + weightBytes + " of weights (has " + weight.byteSize() + ")"
                    + (bias == null ? "" : " and " + 4L * channels + " of bias (has " + bias.byteSize() + ")"));
        }
    }
}
