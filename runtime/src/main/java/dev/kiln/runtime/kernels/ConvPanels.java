package dev.kiln.runtime.kernels;

import dev.kiln.ir.KilnException;
import java.lang.foreign.MemorySegment;

import static dev.kiln.runtime.Elements.F32;

/**
 * Implicit im2col: unfolds one f32 image straight into the packed B panels of {@link PackedGemm}, so that a
 * convolution is one packed GEMM ({@code out[cout, oh*ow] = filters[cout, c*kh*kw] * patches}) with no column
 * matrix written and read back ({@link PackedGemm#convolve} unfolds each panel right before the microkernel reads
 * it). Row {@code (ci, i, j)} and column {@code (y, x)} of the patch matrix hold
 * {@code image[ci, y*sh - ph + i*dh, x*sw - pw + j*dw]}, or 0 in the padding: the same matrix as
 * {@link DirectConv#im2colF32}. A panel is {@link PackedGemm#NR} columns by up to {@link PackedGemm#KC} rows,
 * k-major, columns past {@code oh*ow} zero (the layout of {@link PackedGemm#packB}).
 *
 * <p>For every tap the ranges of output rows and columns that read inside the image are found once; a panel row
 * is then filled run by run (a run is the part of the panel in one output row; stride-2 runs a half-vector at a
 * time), or, for stride 1 and dilation 1 with output rows as long as input rows ("same" convolutions, where a
 * patch row is the image shifted by a constant), a vector at a time ({@link F32Windows#convPanel}); stride-2
 * convolutions are unfolded the same way from the image's four phases ({@link #phases}).
 */
public final class ConvPanels {
    private ConvPanels() {}

    /**
     * The geometry of one image's convolution (one group): {@code c} input channels of {@code h x w}, a
     * {@code kh x kw} kernel with strides, padding and dilations, an {@code oh x ow} output. Immutable; it keeps the
     * per-tap tables of the vector path once computed, so generated code that holds one as a constant computes them
     * once.
     */
    public static final class Geometry {
        private final int c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow;
        /** {@link Taps} of a {@link #same()} or {@link #phased()} geometry, made on first use (racy but idempotent: Taps is immutable). */
        private Taps taps, phasedTaps;
        private boolean[] phasesRead;

        public Geometry(int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int oh, int ow) {
            if ((c | h | w | kh | kw | ph | pw | oh | ow) < 0 || sh < 1 || sw < 1 || dh < 1 || dw < 1) {
                throw new KilnException("conv: sizes and padding must be >= 0 and strides and dilations >= 1, got c=" + c
                        + " h=" + h + " w=" + w + " kernel " + kh + "x" + kw + " stride " + sh + "x" + sw + " padding "
                        + ph + "x" + pw + " dilation " + dh + "x" + dw + " output " + oh + "x" + ow);
            }
            if ((long) c * kh * kw > Integer.MAX_VALUE || (long) oh * ow > Integer.MAX_VALUE - PackedGemm.NR
                    || (long) c * h * w > Integer.MAX_VALUE) {
                throw new KilnException("conv: image " + c + "x" + h + "x" + w + " with kernel " + kh + "x" + kw
                        + " and output " + oh + "x" + ow + " is too large for one GEMM");
            }
            this.c = c; this.h = h; this.w = w; this.kh = kh; this.kw = kw; this.sh = sh; this.sw = sw;
            this.ph = ph; this.pw = pw; this.dh = dh; this.dw = dw; this.oh = oh; this.ow = ow;
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
        public int oh() { return oh; }
        public int ow() { return ow; }

        /** Rows of the patch matrix: {@code c * kh * kw}. */
        public int k() { return c * kh * kw; }

        /** Columns of the patch matrix: {@code oh * ow}. */
        public int n() { return oh * ow; }

        /** Bytes of one image: {@code c * h * w} floats. */
        public long imageBytes() { return 4L * c * h * w; }

        /** Whether patch rows are the image shifted by a constant: stride 1, dilation 1, {@code w == ow}. */
        boolean same() {
            return sh == 1 && sw == 1 && dh == 1 && dw == 1 && w == ow;
        }

        Taps taps() {
            Taps t = taps;
            if (t == null) taps = t = new Taps(this, false);
            return t;
        }

        /**
         * Whether panels are unfolded from the image's four stride-2 phases ({@link #phases}) a vector at a time:
         * stride 2, dilation 1, every input column's phase fits in an output row ({@code ceil(w/2) <= ow}, true
         * of padded convolutions), on the Vector API.
         */
        boolean phased() {
            return F32Windows.VECTOR != null && sh == 2 && sw == 2 && dh == 1 && dw == 1 && (w + 1) / 2 <= ow
                    && phasedImageFloats() <= Integer.MAX_VALUE - 2L * PackedGemm.NR * ow;
        }

        /** Rows of each phase plane: {@code ceil(h/2)}. */
        int phaseRows() {
            return (h + 1) / 2;
        }

        /** Floats of one image's phases: {@code c} channels of 4 planes of {@code ceil(h/2) x ow}. */
        long phasedImageFloats() {
            return 4L * c * phaseRows() * ow;
        }

        /**
         * Which of the four stride-2 phases {@code (py, px)} (at {@code 2 py + px}) some tap reads: all of them but for
         * kernels that skip rows or columns, such as a pointwise stride-2 convolution, which reads phase (0, 0) only.
         */
        boolean[] phasesRead() {
            boolean[] read = phasesRead;
            if (read == null) {
                read = new boolean[4];
                for (int i = 0; i < kh; i++) {
                    for (int j = 0; j < kw; j++) read[2 * Math.floorMod(i - ph, 2) + Math.floorMod(j - pw, 2)] = true;
                }
                phasesRead = read;
            }
            return read;
        }

        Taps phasedTaps() {
            Taps t = phasedTaps;
            if (t == null) phasedTaps = t = new Taps(this, true);
            return t;
        }

        @Override
        public String toString() {
            return "conv " + c + "x" + h + "x" + w + " kernel " + kh + "x" + kw + " stride " + sh + "x" + sw + " padding "
                    + ph + "x" + pw + " dilation " + dh + "x" + dw + " -> " + oh + "x" + ow;
        }
    }

    /**
     * Per patch row (tap) of a {@link Geometry#same()} geometry over the image, or of a {@link Geometry#phased()}
     * one over its phases: pixel {@code q} reads element {@code q + shift[row]}, inside the image vertically for
     * {@code q} in {@code [rowsFrom[row], rowsTo[row])}, and horizontally for output columns
     * {@code [colFrom[j], colTo[j])} of tap column {@code j = column[row]} (see {@link F32Windows#convPanel}); plus
     * the bounds over all rows, which tell a panel that needs no vertical checks at all, and the floats read from.
     */
    static final class Taps {
        final int[] shift, rowsFrom, rowsTo, column, colFrom, colTo;
        final int maxRowsFrom, minRowsTo, minShift, maxShift, ow, imageFloats;

        /**
         * A tap at kernel offset {@code (i - ph, j - pw)} reads, in the phases, plane {@code (ci, py, px)} shifted
         * by {@code (dy, dx)}: input row {@code 2y + i - ph = 2 (y + dy) + py}, so {@code py = (i - ph) mod 2} and
         * {@code dy = floor((i - ph) / 2)}, and the same across.
         */
        Taps(Geometry g, boolean phased) {
            int k = g.k();
            shift = new int[k];
            rowsFrom = new int[k];
            rowsTo = new int[k];
            column = new int[k];
            colFrom = new int[g.kw];
            colTo = new int[g.kw];
            ow = g.ow;
            for (int j = 0; j < g.kw; j++) {
                int shiftW = j - g.pw, dx = phased ? Math.floorDiv(shiftW, 2) : shiftW;
                int width = phased ? (g.w - Math.floorMod(shiftW, 2) + 1) / 2 : g.w;
                colFrom[j] = Math.min(g.ow, Math.max(0, -dx));
                colTo[j] = Math.max(colFrom[j], Math.min(g.ow, width - dx));
            }
            int plane = phased ? g.phaseRows() * g.ow : g.h * g.w;
            int maxFrom = 0, minTo = Integer.MAX_VALUE, minS = Integer.MAX_VALUE, maxS = Integer.MIN_VALUE;
            for (int row = 0; row < k; row++) {
                int ci = row / (g.kh * g.kw), i = row / g.kw % g.kh, j = row % g.kw;
                int shiftH = i - g.ph, shiftW = j - g.pw, yLo, yHi;
                if (phased) {
                    int dy = Math.floorDiv(shiftH, 2), py = Math.floorMod(shiftH, 2);
                    int dx = Math.floorDiv(shiftW, 2), px = Math.floorMod(shiftW, 2);
                    int height = (g.h - py + 1) / 2;
                    yLo = Math.min(g.oh, Math.max(0, -dy));
                    yHi = Math.max(yLo, Math.min(g.oh, height - dy));
                    shift[row] = ((ci * 2 + py) * 2 + px) * plane + dy * g.ow + dx;
                } else {
                    yLo = Math.min(g.oh, Math.max(0, -shiftH));
                    yHi = Math.max(yLo, Math.min(g.oh, g.h - shiftH));
                    shift[row] = ci * plane + shiftH * g.w + shiftW;
                }
                rowsFrom[row] = yLo * g.ow;
                rowsTo[row] = yHi * g.ow;
                column[row] = j;
                maxFrom = Math.max(maxFrom, rowsFrom[row]);
                minTo = Math.min(minTo, rowsTo[row]);
                minS = Math.min(minS, shift[row]);
                maxS = Math.max(maxS, shift[row]);
            }
            maxRowsFrom = maxFrom;
            minRowsTo = k == 0 ? 0 : minTo;
            minShift = minS;
            maxShift = maxS;
            imageFloats = phased ? (int) g.phasedImageFloats() : g.c * g.h * g.w;
        }
    }

    /**
     * Writes the four stride-2 phases of the image at element {@code base} of {@code image} to {@code out} from
     * {@code at}: for each channel, planes {@code (py, px)} of {@code ceil(h/2) x ow} holding input element
     * {@code (2r + py, 2x + px)} at {@code (r, x)}, 0 past the input. A stride-2 patch row is then one plane
     * shifted by a constant, unfolded a vector at a time like a stride-1 one ({@link #packPhasedPanel}).
     */
    static void phases(Geometry g, MemorySegment image, long base, MemorySegment out, long at) {
        phases(g, image, base, out, at, 0, g.c());
    }

    /**
     * {@link #phases} of channels {@code [c0, c1)} only. {@code out} is native, like every segment the vector
     * kernels read: one heap segment among them made C2's code for all of them generic (and allocating).
     */
    static void phases(Geometry g, MemorySegment image, long base, MemorySegment out, long at, int c0, int c1) {
        int h = g.h(), w = g.w(), ow = g.ow(), rows = g.phaseRows();
        long plane = (long) h * w;
        F32Windows vector = F32Windows.VECTOR;
        long dst = at + (long) c0 * 4 * rows * ow;
        boolean[] read = g.phasesRead();
        for (int ci = c0; ci < c1; ci++) {
            for (int py = 0; py < 2; py++) {
                for (int px = 0; px < 2; px++) {
                    if (!read[2 * py + px]) {
                        // never read (its lanes masked out where a vector reaches into it): left as it is
                        dst += (long) rows * ow;
                        continue;
                    }
                    int width = (w - px + 1) / 2;
                    for (int r = 0; r < rows; r++, dst += ow) {
                        int y = 2 * r + py;
                        if (y >= h) {
                            zero(out, dst, ow);
                            continue;
                        }
                        long src = base + ci * plane + (long) y * w + px;
                        int x = vector.everySecond(image, src, out, dst, width);
                        for (; x < width; x++) out.setAtIndex(F32, dst + x, image.getAtIndex(F32, src + 2L * x));
                        zero(out, dst + width, ow - width);
                    }
                }
            }
        }
    }

    private static void zero(MemorySegment a, long from, int n) {
        for (int i = 0; i < n; i++) a.setAtIndex(F32, from + i, 0f);
    }

    /**
     * {@link #packPanel} for a {@link Geometry#phased()} geometry, from the image's phases at element {@code base}
     * of {@code phases} ({@link #phases}); the same panel, bit for bit.
     */
    static void packPhasedPanel(Geometry g, MemorySegment phases, long base, int pc, int kc, int jp, float[] bp, int to) {
        F32Windows.VECTOR.convPanel(g.phasedTaps(), phases, base, pc, kc, jp, bp, to);
    }

    /**
     * Packs panel {@code jp} (columns {@code [jp*NR, jp*NR + NR)}) of rows {@code [pc, pc + kc)} of the patch matrix
     * of the image at element {@code base} of {@code image} into {@code bp} from {@code to}, k-major
     * ({@code kc x NR} floats), columns past {@code oh*ow} zero.
     */
    static void packPanel(Geometry g, MemorySegment image, long base, int pc, int kc, int jp, float[] bp, int to) {
        F32Windows vector = F32Windows.VECTOR;
        if (vector != null && g.same()) {
            vector.convPanel(g.taps(), image, base, pc, kc, jp, bp, to);
            return;
        }
        int nr = PackedGemm.NR, n = g.n(), ow = g.ow(), kh = g.kh(), kw = g.kw();
        long plane = (long) g.h() * g.w();
        int dst = to;
        int ci = pc / (kh * kw), i = pc / kw % kh, j = pc % kw;
        for (int p = 0; p < kc; p++, dst += nr) {
            long shiftH = (long) i * g.dh() - g.ph(), shiftW = (long) j * g.dw() - g.pw();
            // output rows [yLo, yHi) and columns [xLo, xHi) read inside the image
            int yLo = (int) Math.min(g.oh(), Math.max(0, ceilDiv(-shiftH, g.sh())));
            int yHi = (int) Math.max(yLo, Math.min(g.oh(), floorDiv(g.h() - 1 - shiftH, g.sh()) + 1));
            int xLo = (int) Math.min(ow, Math.max(0, ceilDiv(-shiftW, g.sw())));
            int xHi = (int) Math.max(xLo, Math.min(ow, floorDiv(g.w() - 1 - shiftW, g.sw()) + 1));
            fillRow(image, base + ci * plane, shiftH, shiftW, g, n, jp * nr, yLo, yHi, xLo, xHi, bp, dst);
            if (++j == kw) {
                j = 0;
                if (++i == kh) {
                    i = 0;
                    ci++;
                }
            }
        }
    }

    /** One panel row: pixels {@code [pix, pix + NR)} of the patch row of a tap, run by run (one run per output row). */
    private static void fillRow(MemorySegment image, long xPlane, long shiftH, long shiftW, Geometry g, int n, int pix,
                                int yLo, int yHi, int xLo, int xHi, float[] bp, int dst) {
        int nr = PackedGemm.NR, ow = g.ow(), sw = g.sw();
        int y = pix / ow, x = pix - y * ow;
        for (int col = 0; col < nr; ) {
            int run = Math.min(nr - col, ow - x);
            if (pix >= n) {
                run = nr - col;
                zero(bp, dst + col, run);
            } else if (y < yLo || y >= yHi) {
                zero(bp, dst + col, run);
            } else {
                int lo = Math.max(x, xLo), hi = Math.max(lo, Math.min(x + run, xHi));
                int d = dst + col - x;   // pixel column xo goes to d + xo
                zero(bp, d + x, lo - x);
                long src = xPlane + (y * g.sh() + shiftH) * g.w() + shiftW;
                int xo = lo;
                if (sw == 2 && F32Windows.VECTOR != null) xo += F32Windows.VECTOR.everySecond(image, src + 2L * lo, bp, d + lo, hi - lo);
                for (; xo < hi; xo++) bp[d + xo] = image.getAtIndex(F32, src + (long) xo * sw);
                zero(bp, d + hi, x + run - hi);
            }
            col += run;
            pix += run;
            x += run;
            if (x == ow) {
                x = 0;
                y++;
            }
        }
    }

    /** {@code floor(a / b)} for {@code b > 0}; small enough for C2 to inline, unlike {@link Math#floorDiv} here. */
    private static long floorDiv(long a, int b) {
        return a >= 0 ? a / b : -((-a + b - 1) / b);
    }

    /** {@code ceil(a / b)} for {@code b > 0}. */
    private static long ceilDiv(long a, int b) {
        return -floorDiv(-a, b);
    }

    private static void zero(float[] a, int from, int n) {
        for (int i = 0; i < n; i++) a[from + i] = 0f;
    }
}
