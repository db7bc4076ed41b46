package dev.kiln.runtime.kernels;

import dev.kiln.ir.KilnException;
import java.lang.foreign.MemorySegment;

import static dev.kiln.runtime.Elements.F32;

/**
 * Allocation-free 2-D pooling for generated code over {@code planes} (= N*C) contiguous f32 planes of
 * {@code h*w}, writing planes of {@code oh*ow}; both segments are native with element 0 at byte 0. Results are
 * bit-identical to {@link Pool#maxPool2d} and {@link Pool#avgPool2d}: same window clipping (padding, dilation, a
 * ceil-mode window hanging past the input), same order of visits (so NaN and signed zeros come out the same) and
 * the same double-precision mean. The output sizes (which reflect ceil mode) are the caller's.
 */
public final class DirectPool {
    private DirectPool() {}

    /**
     * Max over each window, PyTorch semantics: padded positions never win, NaN propagates, a window wholly in the
     * padding gives -inf. The window rows inside the input are found once per output row, and the output columns
     * {@code [xA, xB)} whose every tap is inside the input once per call; those are reduced with no bounds test,
     * the few edge columns test each tap.
     */
    public static void maxPool2dF32(MemorySegment x, int planes, int h, int w, int kh, int kw, int sh, int sw,
                                    int ph, int pw, int dh, int dw, int oh, int ow, MemorySegment out) {
        check("maxPool2dF32", x, planes, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, out);
        long plane = (long) h * w, outPlane = (long) oh * ow;
        // columns whose whole window (taps 0..kw-1) lies inside [0, w)
        int xA = Math.min(ow, Math.max(0, Math.ceilDiv(pw, sw)));
        int xB = (int) Math.max(xA, Math.min(ow, Math.floorDiv(w - 1L + pw - (kw - 1L) * dw, sw) + 1));
        // 2x2 window, stride 2, no padding or dilation (LeNet, most CNNs) with the Vector API: rows y < yFast and
        // columns ox < xFast have the whole window inside the input and take F32Windows.max2x2Row
        F32Windows vector = F32Windows.VECTOR;
        boolean fast = vector != null && kh == 2 && kw == 2 && sh == 2 && sw == 2 && ph == 0 && pw == 0 && dh == 1
                && dw == 1;
        int yFast = fast ? Math.min(oh, h / 2) : 0, xFast = Math.min(ow, w / 2);
        long taps = (long) planes * outPlane * kh * kw;
        if (Parallel.threads() > 1 && planes > 1 && taps >= PARALLEL_TAPS && Parallel.shareable(x, out)) {
            Parallel.forRange(planes, Math.max(1, PARALLEL_TAPS / 4 / ((long) outPlane * kh * kw)), (p0, p1) ->
                    maxPlanes(x, p0, p1, plane, outPlane, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, xA, xB, yFast, xFast, out));
        } else {
            maxPlanes(x, 0, planes, plane, outPlane, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, xA, xB, yFast, xFast, out);
        }
    }

    /** Window taps of a call worth splitting over the pool (ResNet's stem pool has 1.8 million). */
    private static final long PARALLEL_TAPS = 1 << 18;

    /** Planes {@code [p0, p1)} of {@link #maxPool2dF32}. */
    private static void maxPlanes(MemorySegment x, long p0, long p1, long plane, long outPlane, int h, int w, int kh,
                                  int kw, int sh, int sw, int ph, int pw, int dh, int dw, int oh, int ow, int xA, int xB,
                                  int yFast, int xFast, MemorySegment out) {
        F32Windows vector = F32Windows.VECTOR;
        for (long p = p0; p < p1; p++) {
            long xBase = p * plane, oBase = p * outPlane;
            for (int y = 0; y < yFast; y++) {
                long first = xBase + 2L * y * w, o = oBase + (long) y * ow;
                vector.max2x2Row(x, first, w, out, o, xFast);
                edge(x, first, w, 2, w, 2, 2, 0, 1, out, o, xFast, ow);
            }
            for (int y = yFast; y < oh; y++) {
                long top = (long) y * sh - ph;
                int iLo = 0, iHi = kh;   // window rows [iLo, iHi) lie inside [0, h)
                while (iLo < kh && top + (long) iLo * dh < 0) iLo++;
                while (iHi > iLo && top + (iHi - 1L) * dh >= h) iHi--;
                long first = xBase + (top + (long) iLo * dh) * w - pw, rowStep = (long) dh * w;
                long o = oBase + (long) y * ow;
                int vectorEnd = vector == null ? xA : vector.maxRow(x, first, rowStep, iHi - iLo, kw, sw, dw, out, o, xA, xB);
                for (int ox = vectorEnd; ox < xB; ox++) {
                    long r = first + (long) ox * sw;
                    float m = Float.NEGATIVE_INFINITY;
                    for (int i = iLo; i < iHi; i++, r += rowStep) {
                        for (int j = 0; j < kw; j++) {
                            float v = x.getAtIndex(F32, r + (long) j * dw);
                            if (v > m || v != v) m = v;
                        }
                    }
                    out.setAtIndex(F32, o + ox, m);
                }
                edge(x, first, rowStep, iHi - iLo, w, kw, sw, pw, dw, out, o, 0, xA);
                edge(x, first, rowStep, iHi - iLo, w, kw, sw, pw, dw, out, o, xB, ow);
            }
        }
    }

    /** Output columns [from, to) of one output row, testing that each tap's column lies in [0, w). */
    private static void edge(MemorySegment x, long first, long rowStep, int rows, int w, int kw, int sw, int pw,
                             int dw, MemorySegment out, long o, int from, int to) {
        for (int ox = from; ox < to; ox++) {
            long left = (long) ox * sw - pw;
            float m = Float.NEGATIVE_INFINITY;
            long r = first + pw;   // row start of the first valid window row
            for (int i = 0; i < rows; i++, r += rowStep) {
                for (int j = 0; j < kw; j++) {
                    long ix = left + (long) j * dw;
                    if (ix < 0 || ix >= w) continue;
                    float v = x.getAtIndex(F32, r + ix);
                    if (v > m || v != v) m = v;
                }
            }
            out.setAtIndex(F32, o + ox, m);
        }
    }

    /**
     * Mean over each window with {@link Pool#avgPool2d}'s semantics (no dilation): the window is clipped to the
     * padded input ({@code [-ph, h+ph)}, which trims a ceil-mode window hanging past it) and then to the input;
     * the sum of the input part is divided by the clipped-to-padding size when {@code countIncludePad}, else by
     * the number of input elements; a window with no input element gives 0. Sums and divides in double, as Pool.
     */
    public static void avgPool2dF32(MemorySegment x, int planes, int h, int w, int kh, int kw, int sh, int sw,
                                    int ph, int pw, int oh, int ow, boolean countIncludePad, MemorySegment out) {
        check("avgPool2dF32", x, planes, h, w, kh, kw, sh, sw, ph, pw, 1, 1, oh, ow, out);
        long outPlane = (long) oh * ow, taps = (long) planes * outPlane * kh * kw;
        if (Parallel.threads() > 1 && planes > 1 && taps >= PARALLEL_TAPS && Parallel.shareable(x, out)) {
            Parallel.forRange(planes, Math.max(1, PARALLEL_TAPS / 4 / (outPlane * kh * kw)), (p0, p1) ->
                    avgPlanes(x, p0, p1, h, w, kh, kw, sh, sw, ph, pw, oh, ow, countIncludePad, out));
        } else {
            avgPlanes(x, 0, planes, h, w, kh, kw, sh, sw, ph, pw, oh, ow, countIncludePad, out);
        }
    }

    /**
     * Planes {@code [p0, p1)} of {@link #avgPool2dF32}: the columns whose whole window is inside the input
     * horizontally a vector at a time ({@link F32Windows#avgRow}), the others (and all without the Vector API) one by one.
     */
    private static void avgPlanes(MemorySegment x, long p0, long p1, int h, int w, int kh, int kw, int sh, int sw,
                                  int ph, int pw, int oh, int ow, boolean countIncludePad, MemorySegment out) {
        long plane = (long) h * w, outPlane = (long) oh * ow;
        // columns whose window [ox*sw - pw, ox*sw - pw + kw) lies inside [0, w)
        int xA = Math.min(ow, Math.ceilDiv(pw, sw)), xB = Math.max(xA, Math.min(ow, Math.floorDiv(w + pw - kw, sw) + 1));
        F32Windows vector = F32Windows.VECTOR;
        for (long p = p0; p < p1; p++) {
            long xBase = p * plane, oRow = p * outPlane;
            for (int y = 0; y < oh; y++, oRow += ow) {
                long hs0 = (long) y * sh - ph, he0 = Math.min(hs0 + kh, (long) h + ph);
                long rows = he0 - hs0;
                int hs = (int) Math.max(hs0, 0), he = (int) Math.min(he0, h);
                int vectorFrom = xA, vectorTo = xA;
                if (vector != null && hs < he) {
                    double divisor = countIncludePad ? rows * kw : (long) (he - hs) * kw;
                    vectorTo = vector.avgRow(x, xBase + (long) hs * w - pw, w, he - hs, kw, sw, divisor, out, oRow, xA, xB);
                }
                for (int ox = 0; ox < ow; ox++) {
                    if (ox == vectorFrom) ox = vectorTo;
                    if (ox >= ow) break;
                    long o = oRow + ox;
                    long ws0 = (long) ox * sw - pw, we0 = Math.min(ws0 + kw, (long) w + pw);
                    long poolSize = rows * (we0 - ws0);
                    int ws = (int) Math.max(ws0, 0), we = (int) Math.min(we0, w);
                    if (hs >= he || ws >= we) {
                        out.setAtIndex(F32, o, 0f);
                        continue;
                    }
                    double sum = 0;
                    for (int iy = hs; iy < he; iy++) {
                        long r = xBase + (long) iy * w;
                        for (int ix = ws; ix < we; ix++) sum += x.getAtIndex(F32, r + ix);
                    }
                    long divisor = countIncludePad ? poolSize : (long) (he - hs) * (we - ws);
                    out.setAtIndex(F32, o, (float) (sum / divisor));
                }
            }
        }
    }

    private static void check(String op, MemorySegment x, int planes, int h, int w, int kh, int kw, int sh, int sw,
                              int ph, int pw, int dh, int dw, int oh, int ow, MemorySegment out) {
        if ((planes | h | w | ph | pw | oh | ow) < 0 || kh < 1 || kw < 1 || sh < 1 || sw < 1 || dh < 1 || dw < 1) {
            throw new KilnException(op + ": sizes and padding must be >= 0 and kernel, strides and "
                    + "dilations >= 1, got planes=" + planes + " h=" + h + " w=" + w + " kernel " + kh + "x" + kw
                    + " stride " + sh + "x" + sw + " padding " + ph + "x" + pw + " dilation " + dh + "x" + dw
                    + " output " + oh + "x" + ow);
        }
        long xBytes = (long) planes * h * w * 4, outBytes = (long) planes * oh * ow * 4;
        if (x.byteSize() < xBytes || out.byteSize() < outBytes) {
            throw new KilnException(op + ": the input needs " + xBytes + " bytes (segment has "
                    + x.byteSize() + ") and the output " + outBytes + " (segment has " + out.byteSize() + ")");
        }
    }
}
