package dev.kiln.runtime.kernels;

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
     * padding gives -inf. Output column range {@code [xA, xB)} where every tap is inside the input is found once
     * per call and swept tap by tap with no bounds test; the few edge columns test each tap.
     */
    public static void maxPool2dF32(MemorySegment x, int planes, int h, int w, int kh, int kw, int sh, int sw,
                                    int ph, int pw, int dh, int dw, int oh, int ow, MemorySegment out) {
        check("maxPool2dF32", x, planes, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, out);
        long plane = (long) h * w, outPlane = (long) oh * ow;
        // columns whose whole window (taps 0..kw-1) lies inside [0, w)
        long xA = Math.min(ow, Math.max(0, Math.ceilDiv(pw, sw)));
        long xB = Math.max(xA, Math.min(ow, Math.floorDiv(w - 1 + pw - (kw - 1L) * dw, sw) + 1));
        for (long p = 0; p < planes; p++) {
            long xBase = p * plane, oBase = p * outPlane;
            for (long y = 0; y < oh; y++) {
                long o = oBase + y * ow;
                for (long ox = 0; ox < ow; ox++) out.setAtIndex(F32, o + ox, Float.NEGATIVE_INFINITY);
                long top = y * sh - ph;
                for (int i = 0; i < kh; i++) {
                    long iy = top + (long) i * dh;
                    if (iy < 0 || iy >= h) continue;
                    long xRow = xBase + iy * w;
                    // interior: every tap j is valid for columns [xA, xB)
                    for (int j = 0; j < kw; j++) {
                        long src = xRow + xA * sw - pw + (long) j * dw;
                        maxRow(x, src, sw, out, o + xA, xB - xA);
                    }
                    // edges: test each tap
                    edge(x, xRow, w, kw, sw, pw, dw, out, o, 0, xA);
                    edge(x, xRow, w, kw, sw, pw, dw, out, o, xB, ow);
                }
            }
        }
    }

    /** {@code out[o+t] = max(out[o+t], x[src + t*stride])} for t in [0, n), with Pool's NaN-sticky comparison. */
    private static void maxRow(MemorySegment x, long src, long stride, MemorySegment out, long o, long n) {
        for (long t = 0; t < n; t++) {
            float v = x.getAtIndex(F32, src + t * stride);
            float m = out.getAtIndex(F32, o + t);
            if (v > m || v != v) out.setAtIndex(F32, o + t, v);
        }
    }

    /** Output columns [from, to) of one window row, testing that each tap lies in [0, w). */
    private static void edge(MemorySegment x, long xRow, long w, int kw, long sw, long pw, long dw, MemorySegment out,
                             long o, long from, long to) {
        for (long ox = from; ox < to; ox++) {
            long left = ox * sw - pw;
            float m = out.getAtIndex(F32, o + ox);
            for (int j = 0; j < kw; j++) {
                long ix = left + j * dw;
                if (ix < 0 || ix >= w) continue;
                float v = x.getAtIndex(F32, xRow + ix);
                if (v > m || v != v) m = v;
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
        long plane = (long) h * w, outPlane = (long) oh * ow;
        for (long p = 0; p < planes; p++) {
            long xBase = p * plane, o = p * outPlane;
            for (long y = 0; y < oh; y++) {
                long hs = y * sh - ph;
                long he = Math.min(hs + kh, h + ph);
                long rows = he - hs;
                hs = Math.max(hs, 0);
                he = Math.min(he, h);
                for (long ox = 0; ox < ow; ox++, o++) {
                    long ws = ox * sw - pw;
                    long we = Math.min(ws + kw, w + pw);
                    long poolSize = rows * (we - ws);
                    ws = Math.max(ws, 0);
                    we = Math.min(we, w);
                    if (hs >= he || ws >= we) {
                        out.setAtIndex(F32, o, 0f);
                        continue;
                    }
                    double sum = 0;
                    for (long iy = hs; iy < he; iy++) {
                        long r = xBase + iy * w;
                        for (long ix = ws; ix < we; ix++) sum += x.getAtIndex(F32, r + ix);
                    }
                    out.setAtIndex(F32, o, (float) (sum / (countIncludePad ? poolSize : (he - hs) * (we - ws))));
                }
            }
        }
    }

    private static void check(String op, MemorySegment x, int planes, int h, int w, int kh, int kw, int sh, int sw,
                              int ph, int pw, int dh, int dw, int oh, int ow, MemorySegment out) {
        if ((planes | h | w | ph | pw | oh | ow) < 0 || kh < 1 || kw < 1 || sh < 1 || sw < 1 || dh < 1 || dw < 1) {
            throw new IllegalArgumentException(op + ": sizes and padding must be >= 0 and kernel, strides and "
                    + "dilations >= 1, got planes=" + planes + " h=" + h + " w=" + w + " kernel " + kh + "x" + kw
                    + " stride " + sh + "x" + sw + " padding " + ph + "x" + pw + " dilation " + dh + "x" + dw
                    + " output " + oh + "x" + ow);
        }
        long xBytes = (long) planes * h * w * 4, outBytes = (long) planes * oh * ow * 4;
        if (x.byteSize() < xBytes || out.byteSize() < outBytes) {
            throw new IllegalArgumentException(op + ": the input needs " + xBytes + " bytes (segment has "
                    + x.byteSize() + ") and the output " + outBytes + " (segment has " + out.byteSize() + ")");
        }
    }
}
