package dev.kiln.runtime.kernels;

import dev.kiln.ir.KilnException;
import dev.kiln.ir.DType;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.Shapes;

import java.lang.foreign.MemorySegment;

import static dev.kiln.runtime.Elements.F32;
import static dev.kiln.runtime.Elements.F64;

/**
 * Matrix multiplication on OpenBLAS: raw row-major {@link #sgemm}/{@link #dgemm} over segments, NumPy-style
 * {@link #matmul} on tensors and PyTorch-style {@link #linear}. f32 and f64 go to BLAS without copying when
 * the operands' last two dimensions are row- or column-major; f16/bf16 are computed in f32; integer matmul uses
 * an exact 64-bit loop. OpenBLAS runs single-threaded: Kiln's own pool ({@link Parallel}, sized by
 * {@code kiln.threads}) is the one source of intra-op threads, so BLAS threads never stack on it.
 */
public final class Gemm {
    private Gemm() {}

    /**
     * Sets how many threads OpenBLAS itself uses for each call (process-wide; 1 by default). Only for measuring
     * OpenBLAS on its own (the GEMM benchmark): Kiln's kernels take their threads from {@link Parallel}.
     */
    public static void setThreads(int threads) {
        if (threads < 1) throw new KilnException("Gemm.setThreads: thread count must be >= 1, got " + threads);
        try {
            OpenBlas.get().setThreads().invokeExact(threads);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Number of threads OpenBLAS currently uses. */
    public static int threads() {
        try {
            return (int) OpenBlas.get().getThreads().invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Describes the BLAS in use, e.g. {@code OpenBLAS Haswell (/path/libopenblas.so.0)}. */
    @SuppressWarnings("restricted")
    public static String backend() {
        OpenBlas.Binding b = OpenBlas.get();
        try {
            MemorySegment name = (MemorySegment) b.corename().invokeExact();
            return "OpenBLAS " + name.reinterpret(256).getString(0) + " (" + b.library() + ")";
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Row-major {@code C = alpha * op(A) * op(B) + beta * C} in f32, where op(A) is m x k and op(B) is k x n.
     * Offsets and leading dimensions are in elements. Every matrix is bounds-checked against its segment, and
     * segments must be off-heap.
     */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                             MemorySegment a, long aOffsetElems, int lda, MemorySegment b, long bOff, int ldb,
                             float beta, MemorySegment c, long cOff, int ldc) {
        checkGemm("sgemm", transA, transB, m, n, k, a, aOffsetElems, lda, b, bOff, ldb, c, cOff, ldc, 4);
        if (m == 0 || n == 0) return;
        if (k == 0) {
            scale(c, cOff, m, n, ldc, beta, false);
            return;
        }
        try {
            OpenBlas.get().sgemm().invokeExact(OpenBlas.ROW_MAJOR, trans(transA), trans(transB), m, n, k, alpha,
                    a.asSlice(aOffsetElems * 4), lda, b.asSlice(bOff * 4), ldb, beta, c.asSlice(cOff * 4), ldc);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The f64 counterpart of {@link #sgemm}. */
    public static void dgemm(boolean transA, boolean transB, int m, int n, int k, double alpha,
                             MemorySegment a, long aOffsetElems, int lda, MemorySegment b, long bOff, int ldb,
                             double beta, MemorySegment c, long cOff, int ldc) {
        checkGemm("dgemm", transA, transB, m, n, k, a, aOffsetElems, lda, b, bOff, ldb, c, cOff, ldc, 8);
        if (m == 0 || n == 0) return;
        if (k == 0) {
            scale(c, cOff, m, n, ldc, beta, true);
            return;
        }
        try {
            OpenBlas.get().dgemm().invokeExact(OpenBlas.ROW_MAJOR, trans(transA), trans(transB), m, n, k, alpha,
                    a.asSlice(aOffsetElems * 8), lda, b.asSlice(bOff * 8), ldb, beta, c.asSlice(cOff * 8), ldc);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * NumPy {@code matmul}: 1-D operands are promoted to a row (left) or column (right) vector and the added
     * dimension removed afterwards; leading batch dimensions broadcast. Both operands must share a dtype.
     */
    public static NDArray matmul(NDArray a, NDArray b) {
        if (a.rank() == 0 || b.rank() == 0) {
            throw new KilnException("matmul: both operands need at least 1 dimension, got shapes "
                    + Shapes.str(a.shape()) + " and " + Shapes.str(b.shape()));
        }
        Checks.sameDType("matmul", a, b);
        Checks.notBool("matmul", a);
        NDArray a2 = a.rank() == 1 ? a.unsqueeze(0) : a;
        NDArray b2 = b.rank() == 1 ? b.unsqueeze(1) : b;
        long m = a2.dim(-2), k = a2.dim(-1), n = b2.dim(-1);
        if (k != b2.dim(-2)) {
            throw new KilnException("matmul: shapes " + Shapes.str(a.shape()) + " and "
                    + Shapes.str(b.shape()) + " are incompatible: inner dimensions " + k + " and " + b2.dim(-2)
                    + " differ");
        }
        long[] batch = batchShape(a, b, a2, b2);
        DType t = a.dtype();
        NDArray out;
        if (t == DType.F16 || t == DType.BF16) {
            out = MatmulLoops.blas(a2.to(DType.F32), b2.to(DType.F32), batch, m, n, k).to(t);
        } else if (t.isFloatingPoint()) {
            out = MatmulLoops.blas(a2, b2, batch, m, n, k);
        } else {
            out = MatmulLoops.integral(a2, b2, batch, m, n, k);
        }
        if (a.rank() == 1) out = out.squeeze(-2);
        if (b.rank() == 1) out = out.squeeze(-1);
        return out;
    }

    private static long[] batchShape(NDArray a, NDArray b, NDArray a2, NDArray b2) {
        long[] sa = a2.shape(), sb = b2.shape();
        long[] ba = java.util.Arrays.copyOf(sa, sa.length - 2);
        long[] bb = java.util.Arrays.copyOf(sb, sb.length - 2);
        try {
            return Shapes.broadcast("matmul", ba, bb);
        } catch (IllegalArgumentException e) {
            throw new KilnException("matmul: shapes " + Shapes.str(a.shape()) + " and "
                    + Shapes.str(b.shape()) + " are incompatible: batch dimensions " + Shapes.str(ba) + " and "
                    + Shapes.str(bb) + " cannot be broadcast");
        }
    }

    /**
     * PyTorch {@code nn.Linear}: {@code x[..., in] @ weight[out, in]^T + bias[out]}. The transpose is handled by
     * BLAS flags, so the weight is never copied when it is row- or column-major.
     */
    public static NDArray linear(NDArray x, NDArray weight, NDArray biasOrNull) {
        String op = "linear";
        Checks.floating(op, x);
        Checks.sameDType(op, x, weight);
        Checks.rank(op, "weight", weight, 2);
        if (x.rank() == 0) {
            throw new KilnException("linear: input must have at least 1 dimension, got shape []");
        }
        long in = weight.dim(1), outFeatures = weight.dim(0);
        if (x.dim(-1) != in) {
            throw new KilnException("linear: input " + Shapes.str(x.shape()) + " has " + x.dim(-1)
                    + " features in its last dimension but weight " + Shapes.str(weight.shape()) + " expects " + in);
        }
        if (biasOrNull != null) {
            Checks.sameDType(op, x, biasOrNull);
            if (biasOrNull.rank() != 1 || biasOrNull.dim(0) != outFeatures) {
                throw new KilnException("linear: bias " + Shapes.str(biasOrNull.shape())
                        + " must have shape [" + outFeatures + "] to match weight " + Shapes.str(weight.shape()));
            }
        }
        DType t = x.dtype();
        if (t == DType.F16 || t == DType.BF16) {
            return linear(x.to(DType.F32), weight.to(DType.F32),
                    biasOrNull == null ? null : biasOrNull.to(DType.F32)).to(t);
        }
        return MatmulLoops.linear(x, weight, biasOrNull, in, outFeatures);
    }

    private static int trans(boolean t) {
        return t ? OpenBlas.TRANS : OpenBlas.NO_TRANS;
    }

    private static void checkGemm(String op, boolean transA, boolean transB, int m, int n, int k,
                                  MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                                  MemorySegment c, long cOff, int ldc, int bytes) {
        if (m < 0 || n < 0 || k < 0) {
            throw new KilnException(op + ": sizes must be non-negative, got m=" + m + ", n=" + n
                    + ", k=" + k);
        }
        checkMatrix(op, "A", a, aOff, transA ? k : m, transA ? m : k, lda, bytes);
        checkMatrix(op, "B", b, bOff, transB ? n : k, transB ? k : n, ldb, bytes);
        checkMatrix(op, "C", c, cOff, m, n, ldc, bytes);
    }

    private static void checkMatrix(String op, String name, MemorySegment seg, long offset, int rows, int cols,
                                    int ld, int bytes) {
        if (offset < 0) throw new KilnException(op + ": offset of " + name + " is negative: " + offset);
        if (ld < Math.max(1, cols)) {
            throw new KilnException(op + ": ld" + name.toLowerCase() + "=" + ld + " is smaller than the "
                    + cols + " columns " + name + " stores per row");
        }
        if (!seg.isNative()) {
            throw new KilnException(op + ": " + name + " must be an off-heap (native) MemorySegment;"
                    + " heap segments cannot be handed to OpenBLAS");
        }
        if (rows > 0 && cols > 0) {
            long needed = offset + (rows - 1L) * ld + cols;
            long capacity = seg.byteSize() / bytes;
            if (needed > capacity) {
                throw new KilnException(op + ": " + name + " (" + rows + " x " + cols + ", ld " + ld
                        + ", offset " + offset + ") needs " + needed + " elements but its segment holds " + capacity);
            }
        }
    }

    private static void scale(MemorySegment c, long off, int m, int n, int ldc, double beta, boolean f64) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                long at = off + (long) i * ldc + j;
                if (f64) c.setAtIndex(F64, at, beta == 0 ? 0 : beta * c.getAtIndex(F64, at));
                else c.setAtIndex(F32, at, beta == 0 ? 0 : (float) beta * c.getAtIndex(F32, at));
            }
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException("OpenBLAS call failed: " + t, t);
    }
}
