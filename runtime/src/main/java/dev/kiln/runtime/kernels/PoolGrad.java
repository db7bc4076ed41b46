package dev.kiln.runtime.kernels;

import dev.kiln.ir.KilnException;
import dev.kiln.ir.DType;
import dev.kiln.runtime.Elements;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.Shapes;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Gradients of {@link Pool#maxPool2d} and {@link Pool#avgPool2d} over {@code [N, C, H, W]} tensors. Max pooling
 * sends each window's gradient to the window's argmax, chosen as PyTorch does (the first strictly greater value
 * in row-major window order; a NaN always takes over); average pooling spreads it with the forward divisor.
 * Each input plane is accumulated in double by one thread.
 */
public final class PoolGrad {
    private PoolGrad() {}

    /** {@code dx} (shape of {@code x}) of {@code maxPool2d(x, ...)} given {@code gradOut} of the pooled shape. */
    public static NDArray maxPool2dGrad(NDArray gradOut, NDArray x, int[] kernel, int[] stride, int[] padding,
                                        int[] dilation, boolean ceilMode) {
        String op = "max_pool2d_grad";
        Checks.rank(op, "input", x, 4);
        Checks.floating(op, x);
        Checks.sameDType(op, gradOut, x);
        Pool.Window win = Pool.window(op, x.dim(2), x.dim(3), "input " + Shapes.str(x.shape()), kernel, stride, padding,
                dilation, ceilMode);
        checkGradOut(op, gradOut, x.dim(0), x.dim(1), win);
        NDArray xc = x.contiguous();
        MemorySegment xs = xc.segment();
        DType t = x.dtype();
        return run(op, gradOut, win, (plane, g, acc) -> {
            long base = xc.offset() + plane * win.h() * win.w();
            for (long oh = 0; oh < win.oh(); oh++) {
                long hs = oh * win.sh() - win.ph(), h0 = firstInside(hs, win.dh());
                long hEnd = Math.min(win.h(), hs + win.kh() * win.dh());
                for (long ow = 0; ow < win.ow(); ow++) {
                    long ws = ow * win.sw() - win.pw(), w0 = firstInside(ws, win.dw());
                    long wEnd = Math.min(win.w(), ws + win.kw() * win.dw());
                    if (h0 >= win.h() || w0 >= win.w()) continue; // a window with no input tap has no argmax
                    long arg = h0 * win.w() + w0;
                    double max = Double.NEGATIVE_INFINITY;
                    for (long ih = h0; ih < hEnd; ih += win.dh()) {
                        for (long iw = w0; iw < wEnd; iw += win.dw()) {
                            double v = Elements.getDouble(xs, t, base + ih * win.w() + iw);
                            if (v > max || Double.isNaN(v)) {
                                max = v;
                                arg = ih * win.w() + iw;
                            }
                        }
                    }
                    acc[(int) arg] += g[(int) (oh * win.ow() + ow)];
                }
            }
        });
    }

    /** {@code dx[N, C, inputSize]} of {@code avgPool2d(x, ...)} given {@code gradOut} of the pooled shape. */
    public static NDArray avgPool2dGrad(NDArray gradOut, int[] inputSize, int[] kernel, int[] stride, int[] padding,
                                        boolean ceilMode, boolean countIncludePad) {
        String op = "avg_pool2d_grad";
        Checks.rank(op, "grad_out", gradOut, 4);
        Checks.floating(op, gradOut);
        int[] size = Checks.pair(op, "input_size", inputSize, 1, 1);
        Pool.Window win = Pool.window(op, size[0], size[1], "input size " + Arrays.toString(size), kernel, stride,
                padding, null, ceilMode);
        checkGradOut(op, gradOut, gradOut.dim(0), gradOut.dim(1), win);
        return run(op, gradOut, win, (plane, g, acc) -> {
            for (long oh = 0; oh < win.oh(); oh++) {
                for (long ow = 0; ow < win.ow(); ow++) {
                    long hs = oh * win.sh() - win.ph(), ws = ow * win.sw() - win.pw();
                    long he = Math.min(hs + win.kh(), win.h() + win.ph());
                    long we = Math.min(ws + win.kw(), win.w() + win.pw());
                    long poolSize = (he - hs) * (we - ws);
                    hs = Math.max(hs, 0);
                    ws = Math.max(ws, 0);
                    he = Math.min(he, win.h());
                    we = Math.min(we, win.w());
                    if (hs >= he || ws >= we) continue;
                    double share = g[(int) (oh * win.ow() + ow)] / (countIncludePad ? poolSize : (he - hs) * (we - ws));
                    for (long ih = hs; ih < he; ih++) {
                        for (long iw = ws; iw < we; iw++) acc[(int) (ih * win.w() + iw)] += share;
                    }
                }
            }
        });
    }

    /** Smallest {@code start + k*d >= 0} (the first window tap inside the input). */
    private static long firstInside(long start, long d) {
        return start >= 0 ? start : start + Math.ceilDiv(-start, d) * d;
    }

    private static void checkGradOut(String op, NDArray gradOut, long n, long c, Pool.Window win) {
        Checks.rank(op, "grad_out", gradOut, 4);
        long[] expected = {n, c, win.oh(), win.ow()};
        if (!Arrays.equals(gradOut.shape(), expected)) {
            throw new KilnException(op + ": grad_out " + Shapes.str(gradOut.shape()) + " does not match the pooled"
                    + " shape " + Shapes.str(expected));
        }
    }

    /** What one input plane receives: {@code g} is the plane's output gradient, {@code acc} the input gradient. */
    @FunctionalInterface
    interface PlaneGrad {
        void accumulate(long plane, double[] g, double[] acc);
    }

    /** Runs {@code body} for every (image, channel) plane in parallel and stores the accumulated planes. */
    static NDArray run(String op, NDArray gradOut, Pool.Window win, PlaneGrad body) {
        DType t = gradOut.dtype();
        long n = gradOut.dim(0), c = gradOut.dim(1);
        NDArray go = gradOut.contiguous();
        NDArray dx = NDArray.zeros(t, n, c, win.h(), win.w());
        long inPlane = win.h() * win.w(), outPlane = win.oh() * win.ow();
        Checks.toInt(op, "plane size", inPlane);
        MemorySegment gs = go.segment(), ds = dx.segment();
        long work = Math.max(1, inPlane + outPlane * win.kh() * win.kw());
        Parallel.forRange(n * c, Math.max(1, Parallel.PARALLEL_THRESHOLD / work), (start, end) -> {
            double[] g = new double[(int) outPlane];
            double[] acc = new double[(int) inPlane];
            for (long plane = start; plane < end; plane++) {
                for (int i = 0; i < g.length; i++) g[i] = Elements.getDouble(gs, t, go.offset() + plane * outPlane + i);
                Arrays.fill(acc, 0);
                body.accumulate(plane, g, acc);
                for (int i = 0; i < acc.length; i++) Elements.setDouble(ds, t, plane * inPlane + i, acc[i]);
            }
        });
        return dx;
    }

}
