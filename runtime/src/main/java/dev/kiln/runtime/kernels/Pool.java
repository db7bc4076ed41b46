package dev.kiln.runtime.kernels;

import dev.kiln.ir.KilnException;
import dev.kiln.ir.DType;
import dev.kiln.runtime.Elements;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.Shapes;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * 2-D max and average pooling with PyTorch semantics, including {@code ceil_mode} (the last window must start
 * inside the input or the left padding) and {@code count_include_pad}. Inputs are {@code [N, C, H, W]} or
 * {@code [C, H, W]} floating-point tensors; padding may be at most half the kernel.
 */
public final class Pool {
    private Pool() {}

    /** One pooling geometry: kernel, stride, padding, dilation, input plane and output plane sizes. */
    record Window(long kh, long kw, long sh, long sw, long ph, long pw, long dh, long dw,
                  long h, long w, long oh, long ow) {}

    /**
     * Max over each window; padded positions never win and NaN propagates. {@code stride} null or empty means
     * the kernel size; {@code padding} null means 0; {@code dilation} null means 1.
     */
    public static NDArray maxPool2d(NDArray x, int[] kernel, int[] stride, int[] padding, int[] dilation,
                                    boolean ceilMode) {
        String op = "maxPool2d";
        Window win = window(op, x, kernel, stride, padding, dilation, ceilMode);
        return run(x, win, (xs, t, base, oh, ow) -> {
            long hs = oh * win.sh() - win.ph(), ws = ow * win.sw() - win.pw();
            double max = Double.NEGATIVE_INFINITY;
            for (long i = 0; i < win.kh(); i++) {
                long ih = hs + i * win.dh();
                if (ih < 0 || ih >= win.h()) continue;
                for (long j = 0; j < win.kw(); j++) {
                    long iw = ws + j * win.dw();
                    if (iw < 0 || iw >= win.w()) continue;
                    double v = Elements.getDouble(xs, t, base + ih * win.w() + iw);
                    if (v > max || Double.isNaN(v)) max = v;
                }
            }
            return max;
        });
    }

    /**
     * Mean over each window. With {@code countIncludePad} the divisor counts padded positions (but not the
     * part of a ceil-mode window hanging past the padding); without it only real input positions count.
     */
    public static NDArray avgPool2d(NDArray x, int[] kernel, int[] stride, int[] padding, boolean ceilMode,
                                    boolean countIncludePad) {
        String op = "avgPool2d";
        Window win = window(op, x, kernel, stride, padding, null, ceilMode);
        return run(x, win, (xs, t, base, oh, ow) -> {
            long hs = oh * win.sh() - win.ph(), ws = ow * win.sw() - win.pw();
            long he = Math.min(hs + win.kh(), win.h() + win.ph());
            long we = Math.min(ws + win.kw(), win.w() + win.pw());
            long poolSize = (he - hs) * (we - ws);
            hs = Math.max(hs, 0);
            ws = Math.max(ws, 0);
            he = Math.min(he, win.h());
            we = Math.min(we, win.w());
            if (hs >= he || ws >= we) return 0;
            double sum = 0;
            for (long ih = hs; ih < he; ih++) {
                for (long iw = ws; iw < we; iw++) sum += Elements.getDouble(xs, t, base + ih * win.w() + iw);
            }
            return sum / (countIncludePad ? poolSize : (he - hs) * (we - ws));
        });
    }

    @FunctionalInterface
    private interface Reducer {
        double at(MemorySegment xs, DType t, long planeBase, long oh, long ow);
    }

    private static NDArray run(NDArray x, Window win, Reducer reducer) {
        boolean unbatched = x.rank() == 3;
        NDArray in = (unbatched ? x.unsqueeze(0) : x).contiguous();
        long[] s = in.shape();
        NDArray out = NDArray.zeros(x.dtype(), s[0], s[1], win.oh(), win.ow());
        long planes = s[0] * s[1];
        long outPlane = win.oh() * win.ow();
        long work = Math.max(1, outPlane * win.kh() * win.kw());
        MemorySegment xs = in.segment(), os = out.segment();
        DType t = x.dtype();
        Parallel.forRange(planes, Math.max(1, Parallel.PARALLEL_THRESHOLD / work), (start, end) -> {
            for (long plane = start; plane < end; plane++) {
                long base = in.offset() + plane * win.h() * win.w();
                long o = plane * outPlane;
                for (long oh = 0; oh < win.oh(); oh++) {
                    for (long ow = 0; ow < win.ow(); ow++) {
                        Elements.setDouble(os, t, o++, reducer.at(xs, t, base, oh, ow));
                    }
                }
            }
        });
        return unbatched ? out.squeeze(0) : out;
    }

    private static Window window(String op, NDArray x, int[] kernel, int[] stride, int[] padding, int[] dilation,
                                 boolean ceilMode) {
        Checks.rank(op, "input", x, 3, 4);
        Checks.floating(op, x);
        return window(op, x.dim(-2), x.dim(-1), "input " + Shapes.str(x.shape()), kernel, stride, padding, dilation,
                ceilMode);
    }

    /** Checks the hyper-parameters and computes the output plane for an {@code h x w} input ({@code what} for errors). */
    static Window window(String op, long h, long w, String what, int[] kernel, int[] stride, int[] padding,
                         int[] dilation, boolean ceilMode) {
        if (kernel == null || kernel.length == 0) {
            throw new KilnException(op + ": kernel size is required");
        }
        int[] k = Checks.pair(op, "kernel", kernel, 1, 1);
        int[] s = Checks.pair(op, "stride", stride == null || stride.length == 0 ? k : stride, 1, 1);
        int[] p = Checks.pair(op, "padding", padding, 0, 0);
        int[] d = Checks.pair(op, "dilation", dilation, 1, 1);
        if (p[0] > k[0] / 2 || p[1] > k[1] / 2) {
            throw new KilnException(op + ": padding " + Arrays.toString(p)
                    + " must be at most half the kernel size " + Arrays.toString(k));
        }
        long oh = outputSize(h, k[0], s[0], p[0], d[0], ceilMode);
        long ow = outputSize(w, k[1], s[1], p[1], d[1], ceilMode);
        if (oh < 1 || ow < 1) {
            throw new KilnException(op + ": output size " + oh + " x " + ow + " is not positive for "
                    + what + " with kernel " + Arrays.toString(k) + ", stride " + Arrays.toString(s)
                    + ", padding " + Arrays.toString(p) + ", dilation " + Arrays.toString(d));
        }
        return new Window(k[0], k[1], s[0], s[1], p[0], p[1], d[0], d[1], h, w, oh, ow);
    }

    /** PyTorch's pooling_output_shape: floor or ceil, and a ceil-mode window must start inside input or left pad. */
    static long outputSize(long in, long k, long s, long p, long d, boolean ceilMode) {
        long numerator = in + 2 * p - d * (k - 1) - 1 + (ceilMode ? s - 1 : 0);
        long out = Math.floorDiv(numerator, s) + 1;
        if (ceilMode && (out - 1) * s >= in + p) out--;
        return out;
    }
}
