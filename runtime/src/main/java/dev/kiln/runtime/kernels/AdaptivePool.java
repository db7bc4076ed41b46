package dev.kiln.runtime.kernels;

import dev.kiln.ir.KilnException;
import dev.kiln.ir.DType;
import dev.kiln.runtime.Elements;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.Shapes;

import java.lang.foreign.MemorySegment;

/**
 * PyTorch's {@code adaptive_avg_pool2d} over {@code [N, C, H, W]} and its gradient: output cell {@code i} of
 * {@code out} along an axis of size {@code in} averages {@code [floor(i*in/out), ceil((i+1)*in/out))}. Sums run in
 * double, one plane per thread.
 */
public final class AdaptivePool {
    private AdaptivePool() {}

    /** Averages {@code x} into {@code [N, C, outputSize[0], outputSize[1]]}. */
    public static NDArray adaptiveAvgPool2d(NDArray x, int[] outputSize) {
        String op = "adaptive_avg_pool2d";
        Checks.rank(op, "input", x, 4);
        Checks.floating(op, x);
        int[] out = Checks.pair(op, "output_size", outputSize, 1, 0);
        long h = x.dim(2), w = x.dim(3);
        if (h == 0 || w == 0) {
            throw new KilnException(op + ": input " + Shapes.str(x.shape()) + " has an empty spatial dim");
        }
        NDArray xc = x.contiguous();
        DType t = x.dtype();
        NDArray y = NDArray.zeros(t, x.dim(0), x.dim(1), out[0], out[1]);
        MemorySegment xs = xc.segment(), ys = y.segment();
        forPlanes(x.dim(0) * x.dim(1), h * w, plane -> {
            long in0 = xc.offset() + plane * h * w, out0 = plane * out[0] * out[1];
            for (long i = 0; i < out[0]; i++) {
                long hs = start(i, h, out[0]), he = end(i, h, out[0]);
                for (long j = 0; j < out[1]; j++) {
                    long ws = start(j, w, out[1]), we = end(j, w, out[1]);
                    double sum = 0;
                    for (long a = hs; a < he; a++) {
                        for (long b = ws; b < we; b++) sum += Elements.getDouble(xs, t, in0 + a * w + b);
                    }
                    Elements.setDouble(ys, t, out0 + i * out[1] + j, sum / ((he - hs) * (we - ws)));
                }
            }
        });
        return y;
    }

    /** {@code dx[N, C, inputSize]} of {@link #adaptiveAvgPool2d} given {@code gradOut[N, C, oh, ow]}. */
    public static NDArray adaptiveAvgPool2dGrad(NDArray gradOut, int[] inputSize) {
        String op = "adaptive_avg_pool2d_grad";
        Checks.rank(op, "grad_out", gradOut, 4);
        Checks.floating(op, gradOut);
        int[] in = Checks.pair(op, "input_size", inputSize, 1, 1);
        long oh = gradOut.dim(2), ow = gradOut.dim(3), h = in[0], w = in[1];
        Checks.toInt(op, "input plane size", h * w);
        NDArray go = gradOut.contiguous();
        DType t = gradOut.dtype();
        NDArray dx = NDArray.zeros(t, gradOut.dim(0), gradOut.dim(1), h, w);
        MemorySegment gs = go.segment(), ds = dx.segment();
        forPlanes(gradOut.dim(0) * gradOut.dim(1), h * w, plane -> {
            double[] acc = new double[(int) (h * w)];
            long g0 = go.offset() + plane * oh * ow;
            for (long i = 0; i < oh; i++) {
                long hs = start(i, h, oh), he = end(i, h, oh);
                for (long j = 0; j < ow; j++) {
                    long ws = start(j, w, ow), we = end(j, w, ow);
                    double share = Elements.getDouble(gs, t, g0 + i * ow + j) / ((he - hs) * (we - ws));
                    for (long a = hs; a < he; a++) {
                        for (long b = ws; b < we; b++) acc[(int) (a * w + b)] += share;
                    }
                }
            }
            for (int k = 0; k < acc.length; k++) Elements.setDouble(ds, t, plane * h * w + k, acc[k]);
        });
        return dx;
    }

    /** {@code floor(i * in / out)}. */
    static long start(long i, long in, long out) {
        return Math.floorDiv(i * in, out);
    }

    /** {@code ceil((i + 1) * in / out)}. */
    static long end(long i, long in, long out) {
        return Math.ceilDiv((i + 1) * in, out);
    }

    private interface Plane {
        void run(long plane);
    }

    private static void forPlanes(long planes, long work, Plane body) {
        Parallel.forRange(planes, Math.max(1, Parallel.PARALLEL_THRESHOLD / Math.max(1, work)), (s, e) -> {
            for (long p = s; p < e; p++) body.run(p);
        });
    }
}
