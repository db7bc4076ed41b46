package dev.kiln.runtime.kernels;

import dev.kiln.ir.DType;
import dev.kiln.runtime.Elements;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.Shapes;
import dev.kiln.runtime.StridedCursor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/** The batched loops behind {@link Gemm#matmul} and {@link Gemm#linear}, after their arguments are checked. */
final class MatmulLoops {
    private MatmulLoops() {}

    /** How a strided matrix is handed to BLAS: row-major with leading dimension ld, or transposed. */
    record Layout(boolean trans, int ld) {
        /** The BLAS layout of a rows x cols matrix with the given strides, or null if it needs a copy. */
        static Layout of(long rows, long cols, long rowStride, long colStride) {
            if ((cols == 1 || colStride == 1) && (rows == 1 || rowStride >= cols)) {
                long ld = rows == 1 ? Math.max(1, cols) : rowStride;
                return ld <= Integer.MAX_VALUE ? new Layout(false, (int) ld) : null;
            }
            if ((rows == 1 || rowStride == 1) && (cols == 1 || colStride >= rows)) {
                long ld = cols == 1 ? Math.max(1, rows) : colStride;
                return ld <= Integer.MAX_VALUE ? new Layout(true, (int) ld) : null;
            }
            return null;
        }

        static Layout of(NDArray matrices) {
            long[] s = matrices.strides();
            int r = s.length;
            return of(matrices.dim(-2), matrices.dim(-1), s[r - 2], s[r - 1]);
        }
    }

    /** f32/f64 batched matmul of {@code a2[..., m, k]} and {@code b2[..., k, n]} through BLAS. */
    static NDArray blas(NDArray a2, NDArray b2, long[] batch, long m, long n, long k) {
        String op = "matmul";
        int mi = Checks.toInt(op, "m", m), ni = Checks.toInt(op, "n", n), ki = Checks.toInt(op, "k", k);
        long[] outShape = concat(batch, m, n);
        NDArray out = NDArray.zeros(a2.dtype(), outShape);
        if (out.numel() == 0 || k == 0) return out;
        Layout la = Layout.of(a2);
        if (la == null) {
            a2 = a2.contiguous();
            la = Layout.of(a2);
        }
        Layout lb = Layout.of(b2);
        if (lb == null) {
            b2 = b2.contiguous();
            lb = Layout.of(b2);
        }
        NDArray av = a2.broadcastTo(concat(batch, m, k));
        NDArray bv = b2.broadcastTo(concat(batch, k, n));
        boolean f64 = a2.dtype() == DType.F64;
        long batches = Shapes.numel(batch);
        long stacked = batches * m;
        boolean aCoversBatch = Arrays.equals(Arrays.copyOf(a2.shape(), a2.rank() - 2), batch);
        if (!la.trans() && aCoversBatch && a2.isContiguous() && allZero(bv.strides(), batch.length)
                && stacked <= Integer.MAX_VALUE) {
            // Every batch multiplies the same B: stack A's batches into one tall matrix and make a single call.
            gemm(f64, false, lb.trans(), (int) stacked, ni, ki, a2.segment(), a2.offset(), la.ld(),
                    b2.segment(), bv.offset(), lb.ld(), out.segment(), 0, ni);
            return out;
        }
        long[] aStrides = Arrays.copyOf(av.strides(), batch.length);
        long[] bStrides = Arrays.copyOf(bv.strides(), batch.length);
        long[] oStrides = Arrays.copyOf(out.strides(), batch.length);
        StridedCursor c = new StridedCursor(batch, new long[] {av.offset(), bv.offset(), 0},
                aStrides, bStrides, oStrides);
        for (long i = 0; i < batches; i++, c.advance()) {
            gemm(f64, la.trans(), lb.trans(), mi, ni, ki, av.segment(), c.position(0), la.ld(),
                    bv.segment(), c.position(1), lb.ld(), out.segment(), c.position(2), ni);
        }
        return out;
    }

    /** Exact integer batched matmul in 64-bit arithmetic (wrapping like the dtype on store). */
    static NDArray integral(NDArray a2, NDArray b2, long[] batch, long m, long n, long k) {
        DType t = a2.dtype();
        NDArray out = NDArray.zeros(t, concat(batch, m, n));
        NDArray av = a2.broadcastTo(concat(batch, m, k));
        NDArray bv = b2.broadcastTo(concat(batch, k, n));
        long[] as = av.strides(), bs = bv.strides();
        int r = as.length;
        MemorySegment aSeg = av.segment(), bSeg = bv.segment(), oSeg = out.segment();
        StridedCursor c = new StridedCursor(batch, new long[] {av.offset(), bv.offset(), 0},
                Arrays.copyOf(as, batch.length), Arrays.copyOf(bs, batch.length),
                Arrays.copyOf(out.strides(), batch.length));
        long batches = Shapes.numel(batch);
        long[] row = new long[(int) Math.min(n, Integer.MAX_VALUE)];
        for (long bi = 0; bi < batches; bi++, c.advance()) {
            for (long i = 0; i < m; i++) {
                Arrays.fill(row, 0);
                for (long p = 0; p < k; p++) {
                    long x = Elements.getLong(aSeg, t, c.position(0) + i * as[r - 2] + p * as[r - 1]);
                    if (x == 0) continue;
                    long bRow = c.position(1) + p * bs[r - 2];
                    for (int j = 0; j < n; j++) row[j] += x * Elements.getLong(bSeg, t, bRow + j * bs[r - 1]);
                }
                for (int j = 0; j < n; j++) Elements.setLong(oSeg, t, c.position(2) + i * n + j, row[j]);
            }
        }
        return out;
    }

    /** f32/f64 {@code x @ weight^T + bias} with checked arguments. */
    static NDArray linear(NDArray x, NDArray weight, NDArray bias, long in, long outFeatures) {
        String op = "linear";
        long[] outShape = x.shape();
        outShape[outShape.length - 1] = outFeatures;
        NDArray out = NDArray.zeros(x.dtype(), outShape);
        long rows = Shapes.numel(Arrays.copyOf(outShape, outShape.length - 1));
        boolean f64 = x.dtype() == DType.F64;
        if (bias != null) {
            MemorySegment o = out.segment();
            double[] b = bias.toDoubleArray();
            for (long i = 0; i < rows; i++) {
                for (int j = 0; j < b.length; j++) Elements.setDouble(o, x.dtype(), i * outFeatures + j, b[j]);
            }
        }
        if (rows == 0 || outFeatures == 0 || in == 0) return out;
        NDArray xc = x.contiguous();
        long[] ws = weight.strides();
        Layout lw = Layout.of(in, outFeatures, ws[1], ws[0]);
        if (lw == null) {
            weight = weight.contiguous();
            ws = weight.strides();
            lw = Layout.of(in, outFeatures, ws[1], ws[0]);
        }
        gemm(f64, false, lw.trans(), Checks.toInt(op, "rows", rows), Checks.toInt(op, "out features", outFeatures),
                Checks.toInt(op, "in features", in), xc.segment(), xc.offset(), (int) in, weight.segment(),
                weight.offset(), lw.ld(), out.segment(), 0, (int) outFeatures, bias != null ? 1 : 0);
        return out;
    }

    private static void gemm(boolean f64, boolean ta, boolean tb, int m, int n, int k, MemorySegment a, long aOff,
                             int lda, MemorySegment b, long bOff, int ldb, MemorySegment c, long cOff, int ldc) {
        gemm(f64, ta, tb, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, 0);
    }

    static void gemm(boolean f64, boolean ta, boolean tb, int m, int n, int k, MemorySegment a, long aOff,
                     int lda, MemorySegment b, long bOff, int ldb, MemorySegment c, long cOff, int ldc, int beta) {
        if (f64) Gemm.dgemm(ta, tb, m, n, k, 1.0, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        else Gemm.sgemm(ta, tb, m, n, k, 1f, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    private static boolean allZero(long[] strides, int count) {
        for (int i = 0; i < count; i++) if (strides[i] != 0) return false;
        return true;
    }

    static long[] concat(long[] batch, long r, long c) {
        long[] s = Arrays.copyOf(batch, batch.length + 2);
        s[batch.length] = r;
        s[batch.length + 1] = c;
        return s;
    }
}
