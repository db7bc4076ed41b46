package dev.kiln.runtime.kernels;

import dev.kiln.ir.KilnException;
import dev.kiln.ir.DType;
import dev.kiln.runtime.Elements;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.Shapes;

import java.lang.foreign.MemorySegment;

/**
 * One-pass kernels of the transformer fusion ops ({@code bias_gelu}, {@code skip_layer_norm}) and the in-place
 * residual add of {@code conv2d_act}: each reads its
 * inputs once and writes its results once, row by row over the last dim. An intermediate the unfused ops would
 * store (the sum {@code x + bias}, say) is rounded to the dtype at the same point, and the same scalar functions
 * are used ({@link MathFunctions#gelu}, {@link Norms#stats}), so on f32 and f64 the results equal the unfused
 * composition exactly (f16/bf16 within one unit in the last place).
 */
public final class Fused {
    private Fused() {}

    /**
     * The reference {@code attention}: the unfused composition, op by op through the reference kernels, so it equals
     * what the interpreter computes for {@code matmul(softmax(mask(matmul(q, k^T) * scale)), v)}: scores scaled, then
     * {@code where(tril(ones(L, S)), s, -inf)} when {@code causal}, then {@code where(mask, s, -inf)} for a bool mask
     * or {@code s + mask} for a float one, softmax over the keys, times v.
     */
    public static NDArray attention(NDArray q, NDArray k, NDArray v, NDArray mask, double scale, boolean causal) {
        int rank = k.rank();
        if (rank < 2) throw new KilnException("attention: k must have at least 2 dims, got " + Shapes.str(k.shape()));
        int[] swap = new int[rank];
        for (int i = 0; i < rank; i++) swap[i] = i;
        swap[rank - 2] = rank - 1;
        swap[rank - 1] = rank - 2;
        NDArray scores = Elementwise.mul(Gemm.matmul(q, k.permute(swap)), NDArray.full(q.dtype(), scale));
        NDArray minusInf = NDArray.full(q.dtype(), Double.NEGATIVE_INFINITY);
        if (causal) {
            long l = q.dim(rank - 2), s = k.dim(rank - 2);
            NDArray allowed = NDArray.zeros(DType.BOOL, l, s);
            for (long i = 0; i < l; i++) {
                for (long j = 0; j <= Math.min(i, s - 1); j++) allowed.segment().set(java.lang.foreign.ValueLayout.JAVA_BYTE, i * s + j, (byte) 1);
            }
            scores = Logic.where(allowed, scores, minusInf);
        }
        if (mask != null) scores = mask.dtype() == DType.BOOL ? Logic.where(mask, scores, minusInf) : Elementwise.add(scores, mask);
        return Gemm.matmul(Softmax.softmax(scores, -1), v);
    }

    /** {@code gelu(x + bias)}, {@code bias} 1-D over x's last dim; the erf form, or the tanh approximation when {@code tanh}. */
    public static NDArray biasGelu(NDArray x, NDArray bias, boolean tanh) {
        String op = "bias_gelu";
        long d = rowLength(op, x);
        double[] b = lastDimVector(op, "bias", bias, x, d);
        NDArray xc = x.contiguous();
        NDArray y = NDArray.zeros(x.dtype(), x.shape());
        DType t = x.dtype();
        MemorySegment xs = xc.segment(), ys = y.segment();
        long xo = xc.offset();
        if (t == DType.F32) {
            float[] bf = new float[b.length];
            for (int j = 0; j < b.length; j++) bf[j] = (float) b[j];
            Norms.forBlocks(x.numel(), d, (row, buf) -> {
                long base = row * d;
                for (int j = 0; j < d; j++) {
                    float v = xs.getAtIndex(Elements.F32, xo + base + j) + bf[j];
                    ys.setAtIndex(Elements.F32, base + j, (float) MathFunctions.gelu(v, tanh));
                }
            });
            return y;
        }
        Norms.forBlocks(x.numel(), d, (row, buf) -> {
            long base = row * d;
            for (int j = 0; j < d; j++) {
                double v = round(t, Elements.getDouble(xs, t, xo + base + j) + b[j]);
                Elements.setDouble(ys, t, base + j, MathFunctions.gelu(v, tanh));
            }
        });
        return y;
    }

    /**
     * {@code layer_norm(s) * gamma + beta} over the last dim, where {@code s = (x + bias) + skip} ({@code bias} may be
     * null). Returns {@code {output, s}} when {@code withSum}, else {@code {output}}. {@code skip} must have x's shape;
     * gamma, beta and bias are 1-D over the last dim.
     */
    public static NDArray[] skipLayerNorm(NDArray x, NDArray skip, NDArray gamma, NDArray beta, NDArray bias,
                                          double eps, boolean withSum) {
        String op = "skip_layer_norm";
        long d = rowLength(op, x);
        Checks.sameDType(op, x, skip);
        if (!java.util.Arrays.equals(skip.shape(), x.shape())) {
            throw new KilnException(op + ": skip " + Shapes.str(skip.shape()) + " must have the shape of x " + Shapes.str(x.shape()));
        }
        double[] g = lastDimVector(op, "gamma", gamma, x, d), be = lastDimVector(op, "beta", beta, x, d);
        double[] b = bias == null ? null : lastDimVector(op, "bias", bias, x, d);
        NDArray xc = x.contiguous(), sc = skip.contiguous();
        NDArray y = NDArray.zeros(x.dtype(), x.shape());
        NDArray sum = withSum ? NDArray.zeros(x.dtype(), x.shape()) : null;
        DType t = x.dtype();
        MemorySegment xs = xc.segment(), ss = sc.segment(), ys = y.segment(), sums = withSum ? sum.segment() : null;
        long xo = xc.offset(), so = sc.offset();
        Norms.forBlocks(x.numel(), d, (row, buf) -> {
            long base = row * d;
            int n = buf.length;
            for (int j = 0; j < n; j++) {
                double v = Elements.getDouble(xs, t, xo + base + j);
                if (b != null) v = round(t, v + b[j]);
                buf[j] = round(t, v + Elements.getDouble(ss, t, so + base + j));
                if (sums != null) Elements.setDouble(sums, t, base + j, buf[j]);
            }
            double[] stats = Norms.stats(buf, n, eps);
            for (int j = 0; j < n; j++) {
                double v = (buf[j] - stats[0]) * stats[1];
                v *= g[j];
                v += be[j];
                Elements.setDouble(ys, t, base + j, v);
            }
        });
        return withSum ? new NDArray[] {y, sum} : new NDArray[] {y};
    }

    /**
     * {@code y += residual} elementwise, written into {@code y}'s own storage: the residual add of a fused
     * convolution ({@code conv2d_act} with {@code residual}), which so needs no full-size temporary. {@code y} must be
     * a fresh contiguous result (the kernel's own output, no view of anything else); {@code residual} must have its
     * dtype and shape (no broadcasting). Each sum is rounded to the dtype as the {@code add} kernel's is, so the
     * result equals {@code add(y, residual)} exactly.
     */
    public static void addResidualInPlace(String op, NDArray y, NDArray residual) {
        Checks.floating(op, y);
        Checks.sameDType(op, y, residual);
        if (!java.util.Arrays.equals(y.shape(), residual.shape())) {
            throw new KilnException(op + ": residual " + Shapes.str(residual.shape()) + " must have the result's shape "
                    + Shapes.str(y.shape()) + " (it is not broadcast)");
        }
        if (!y.isContiguous()) throw new IllegalStateException(op + ": the convolution result to add the residual into is not contiguous");
        NDArray rc = residual.contiguous();
        DType t = y.dtype();
        MemorySegment ys = y.segment(), rs = rc.segment();
        long yo = y.offset(), ro = rc.offset();
        Parallel.forRange(y.numel(), Parallel.PARALLEL_THRESHOLD, (start, end) -> {
            if (t == DType.F32) {
                for (long i = start; i < end; i++) {
                    ys.setAtIndex(Elements.F32, yo + i, ys.getAtIndex(Elements.F32, yo + i) + rs.getAtIndex(Elements.F32, ro + i));
                }
            } else {
                for (long i = start; i < end; i++) {
                    Elements.setDouble(ys, t, yo + i, round(t, Elements.getDouble(ys, t, yo + i) + Elements.getDouble(rs, t, ro + i)));
                }
            }
        });
    }

    /** The value a store to a {@code t} tensor and a load back would give. */
    private static double round(DType t, double v) {
        return switch (t) {
            case F64 -> v;
            case F32 -> (float) v;
            case F16 -> Float.float16ToFloat(Float.floatToFloat16((float) v));
            case BF16 -> Elements.bf16ToFloat(Elements.floatToBf16((float) v));
            default -> throw new IllegalStateException("not a floating-point dtype: " + t);
        };
    }

    private static long rowLength(String op, NDArray x) {
        Checks.floating(op, x);
        if (x.rank() < 1) throw new KilnException(op + ": x must have at least one dim, got shape []");
        return Checks.toInt(op, "last dim", x.dim(-1));
    }

    private static double[] lastDimVector(String op, String name, NDArray v, NDArray x, long d) {
        Checks.sameDType(op, x, v);
        if (v.rank() != 1 || v.dim(0) != d) {
            throw new KilnException(op + ": " + name + " must have shape [" + d + "] (the last dim of x "
                    + Shapes.str(x.shape()) + "), got " + Shapes.str(v.shape()));
        }
        return v.toDoubleArray();
    }
}
