package dev.kiln.runtime.kernels;

import dev.kiln.ir.DType;
import dev.kiln.runtime.Elements;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.Scratch;

import java.lang.foreign.MemorySegment;

/**
 * The three GEMM-based convolution primitives over contiguous f32/f64 NCHW data: the forward correlation, its
 * input gradient (a GEMM then col2im) and its weight gradient. Images are unfolded in chunks, so each group
 * takes one large GEMM per chunk (rather than one small GEMM per image); a chunk's unfolded matrix stays under
 * {@link #COL_BUDGET_BYTES}. The weight is {@code [groups*m, cg, kh, kw]}: m output channels and cg input
 * channels per group, as in conv2d.
 */
final class ConvCore {
    /** Upper bound on the scratch im2col matrix of one chunk of images (one image always fits). */
    static final long COL_BUDGET_BYTES = 32L << 20;

    private ConvCore() {}

    /** {@code out[N, groups*m, oh, ow]} = correlation of {@code x[N, groups*cg, h, w]} with {@code w}, plus bias. */
    static NDArray forward(NDArray x, NDArray w, NDArray bias, Im2col.Geometry g, int groups) {
        String op = "conv2d";
        DType t = x.dtype();
        int bytes = t.byteSize();
        long n = x.dim(0), outCh = w.dim(0), m = outCh / groups, rows = g.rows(), cols = g.columns();
        NDArray out = NDArray.zeros(t, n, outCh, g.oh(), g.ow());
        double[] b = bias == null ? null : bias.toDoubleArray();
        if (n == 0 || cols == 0 || outCh == 0) return out;
        Checks.toInt(op, "input plane size", g.h() * g.w());
        long chunk = chunk(op, rows, cols, bytes, n);
        long xImage = x.dim(1) * g.h() * g.w();
        try (Scratch scratch = Scratch.open()) {
            MemorySegment col = scratch.allocate(Math.max(1, rows * chunk * cols * bytes));
            MemorySegment tmp = scratch.allocate(Math.max(1, m * chunk * cols * bytes));
            for (long b0 = 0; b0 < n; b0 += chunk) {
                long images = Math.min(chunk, n - b0);
                int ld = Checks.toInt(op, "output positions", images * cols);
                for (int grp = 0; grp < groups; grp++) {
                    Im2col.fill(x.segment(), x.offset() + b0 * xImage + grp * g.channels() * g.h() * g.w(), xImage,
                            images, t == DType.F64, g, col);
                    MatmulLoops.gemm(t == DType.F64, false, false, Checks.toInt(op, "channels", m), ld,
                            Checks.toInt(op, "kernel size", rows), w.segment(), w.offset() + grp * m * rows,
                            (int) Math.max(1, rows), col, 0, ld, tmp, 0, ld, 0);
                    unpack(tmp, images, m, cols, out, (b0 * outCh + grp * m) * cols, outCh * cols, b, grp * m);
                }
            }
        }
        return out;
    }

    /** {@code dx[N, groups*cg, g.h, g.w]}: the adjoint of {@link #forward} applied to {@code gOut[N, groups*m, oh, ow]}. */
    static NDArray inputGrad(NDArray gOut, NDArray w, Im2col.Geometry g, int groups) {
        String op = "conv2d_input_grad";
        DType t = gOut.dtype();
        int bytes = t.byteSize();
        long n = gOut.dim(0), outCh = w.dim(0), m = outCh / groups, rows = g.rows(), cols = g.columns();
        NDArray dx = NDArray.zeros(t, n, groups * g.channels(), g.h(), g.w());
        if (dx.numel() == 0 || cols == 0 || m == 0) return dx;
        Checks.toInt(op, "input plane size", g.h() * g.w());
        long chunk = chunk(op, rows, cols, bytes, n);
        long xImage = groups * g.channels() * g.h() * g.w();
        try (Scratch scratch = Scratch.open()) {
            MemorySegment col = scratch.allocate(rows * chunk * cols * bytes);
            MemorySegment packed = scratch.allocate(m * chunk * cols * bytes);
            for (long b0 = 0; b0 < n; b0 += chunk) {
                long images = Math.min(chunk, n - b0);
                int ld = Checks.toInt(op, "output positions", images * cols);
                for (int grp = 0; grp < groups; grp++) {
                    pack(gOut, b0, images, grp * m, m, cols, packed);
                    MatmulLoops.gemm(t == DType.F64, true, false, Checks.toInt(op, "kernel size", rows), ld,
                            Checks.toInt(op, "channels", m), w.segment(), w.offset() + grp * m * rows, (int) rows,
                            packed, 0, ld, col, 0, ld, 0);
                    Im2col.fold(col, images, t == DType.F64, g, dx.segment(),
                            b0 * xImage + grp * g.channels() * g.h() * g.w(), xImage);
                }
            }
        }
        return dx;
    }

    /** {@code dw[groups*m, cg, kh, kw]} from input {@code x} and {@code gOut[N, groups*m, oh, ow]}. */
    static NDArray weightGrad(NDArray x, NDArray gOut, Im2col.Geometry g, int groups) {
        String op = "conv2d_weight_grad";
        DType t = x.dtype();
        int bytes = t.byteSize();
        long n = x.dim(0), outCh = gOut.dim(1), m = outCh / groups, rows = g.rows(), cols = g.columns();
        NDArray dw = NDArray.zeros(t, outCh, g.channels(), g.kh(), g.kw());
        if (dw.numel() == 0 || n == 0 || cols == 0) return dw;
        Checks.toInt(op, "input plane size", g.h() * g.w());
        long chunk = chunk(op, rows, cols, bytes, n);
        long xImage = x.dim(1) * g.h() * g.w();
        try (Scratch scratch = Scratch.open()) {
            MemorySegment col = scratch.allocate(rows * chunk * cols * bytes);
            MemorySegment packed = scratch.allocate(m * chunk * cols * bytes);
            for (long b0 = 0; b0 < n; b0 += chunk) {
                long images = Math.min(chunk, n - b0);
                int ld = Checks.toInt(op, "output positions", images * cols);
                for (int grp = 0; grp < groups; grp++) {
                    Im2col.fill(x.segment(), x.offset() + b0 * xImage + grp * g.channels() * g.h() * g.w(), xImage,
                            images, t == DType.F64, g, col);
                    pack(gOut, b0, images, grp * m, m, cols, packed);
                    MatmulLoops.gemm(t == DType.F64, false, true, Checks.toInt(op, "channels", m),
                            Checks.toInt(op, "kernel size", rows), ld, packed, 0, ld, col, 0, ld, dw.segment(),
                            grp * m * rows, (int) rows, 1);
                }
            }
        }
        return dw;
    }

    /** Adds {@code bias[c]} to every element of channel c of contiguous {@code out[N, C, ...]}. */
    static void addBias(NDArray out, NDArray bias) {
        double[] b = bias.toDoubleArray();
        long n = out.dim(0), c = out.dim(1), plane = out.numel() / Math.max(1, n * c);
        MemorySegment o = out.segment();
        DType t = out.dtype();
        Parallel.forRange(n * c, Math.max(1, Parallel.PARALLEL_THRESHOLD / Math.max(1, plane)), (start, end) -> {
            for (long p = start; p < end; p++) {
                double v = b[(int) (p % c)];
                for (long i = p * plane; i < (p + 1) * plane; i++) Elements.setDouble(o, t, i, Elements.getDouble(o, t, i) + v);
            }
        });
    }

    /** Images per chunk: as many as keep the unfolded matrix under budget, at least one. */
    private static long chunk(String op, long rows, long cols, int bytes, long n) {
        long perImage = Math.max(1, rows * cols * bytes);
        long chunk = Math.max(1, Math.min(n, COL_BUDGET_BYTES / perImage));
        Checks.toInt(op, "output positions", cols);
        return Math.max(1, Math.min(chunk, Integer.MAX_VALUE / Math.max(1, cols)));
    }

    /** Copies channels {@code [c0, c0+m)} of images {@code [b0, b0+images)} of {@code src} into {@code [m, images*cols]}. */
    private static void pack(NDArray src, long b0, long images, long c0, long m, long cols, MemorySegment dst) {
        int bytes = src.dtype().byteSize();
        long channels = src.dim(1);
        Parallel.forRange(images * m, Math.max(1, Parallel.PARALLEL_THRESHOLD / Math.max(1, cols)), (start, end) -> {
            for (long r = start; r < end; r++) {
                long b = r / m, i = r % m;
                long from = src.offset() + ((b0 + b) * channels + c0 + i) * cols;
                MemorySegment.copy(src.segment(), from * bytes, dst, (i * images * cols + b * cols) * bytes, cols * bytes);
            }
        });
    }

    /** The inverse of {@link #pack} into {@code out} (image stride {@code imageStride}), adding {@code bias[c0 + i]}. */
    private static void unpack(MemorySegment tmp, long images, long m, long cols, NDArray out, long base,
                               long imageStride, double[] bias, long c0) {
        DType t = out.dtype();
        int bytes = t.byteSize();
        MemorySegment o = out.segment();
        Parallel.forRange(images * m, Math.max(1, Parallel.PARALLEL_THRESHOLD / Math.max(1, cols)), (start, end) -> {
            for (long r = start; r < end; r++) {
                long b = r / m, i = r % m;
                long src = i * images * cols + b * cols, dst = base + b * imageStride + i * cols;
                if (bias == null) {
                    MemorySegment.copy(tmp, src * bytes, o, dst * bytes, cols * bytes);
                } else if (t == DType.F64) {
                    double v = bias[(int) (c0 + i)];
                    for (long k = 0; k < cols; k++) {
                        o.setAtIndex(Elements.F64, dst + k, tmp.getAtIndex(Elements.F64, src + k) + v);
                    }
                } else {
                    float v = (float) bias[(int) (c0 + i)];
                    for (long k = 0; k < cols; k++) {
                        o.setAtIndex(Elements.F32, dst + k, tmp.getAtIndex(Elements.F32, src + k) + v);
                    }
                }
            }
        });
    }
}
