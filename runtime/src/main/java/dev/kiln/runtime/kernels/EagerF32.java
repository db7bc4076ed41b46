package dev.kiln.runtime.kernels;

import dev.kiln.ir.DType;
import dev.kiln.runtime.NDArray;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.kiln.runtime.Elements.F32;

/**
 * The compiled path's direct f32 kernels ({@link DirectGemm}, {@link DirectConv}, {@link DirectPool}, the
 * vectorised {@link F32Rows}) behind eager linear layers, matmul, convolution, pooling and batch norm, for operands that are f32,
 * contiguous and native, with sizes that fit the kernels' ints. Each method returns null when its operands do not
 * qualify, and the caller runs the reference kernel instead; the output shape is the one type inference gave.
 * Argument checking stays with the reference kernels' callers (eager dispatch checks every call against the op's
 * schema and type inference first).
 */
public final class EagerF32 {
    /** Per-thread im2col scratch, grown on demand and reused, so an eager convolution allocates only its result. */
    private static final ThreadLocal<MemorySegment> COL = new ThreadLocal<>();

    private EagerF32() {}

    /**
     * {@code conv2d} as one packed GEMM per group over the batch with the patches unfolded straight into its panels
     * ({@link DirectConv#packedF32}) where that kernel suits the shape, else through im2col (none for pointwise
     * convolutions) and {@link DirectGemm}, or the depthwise kernel when every group has one input channel; plus
     * bias.
     */
    public static NDArray conv2d(NDArray x, NDArray w, NDArray bias, long[] stride, long[] pad, long[] dil, long groups, long[] outShape) {
        if (!direct(x) || !direct(w) || (bias != null && !direct(bias)) || x.rank() != 4 || w.rank() != 4 || outShape.length != 4) return null;
        long batch = x.dim(0), cin = x.dim(1), h = x.dim(2), wd = x.dim(3);
        long cout = w.dim(0), cg = w.dim(1), kh = w.dim(2), kw = w.dim(3);
        long oh = outShape[2], ow = outShape[3];
        long mg = cout / groups, kk = cg * kh * kw, p = oh * ow;
        if (!fitsInt(mg, p, kk, cin, h * wd, cout, kh, kw, stride[0], stride[1], pad[0], pad[1], dil[0], dil[1], oh, ow)) return null;
        NDArray out = NDArray.zeros(DType.F32, outShape);
        if (out.numel() == 0) return out;
        boolean pointwise = kh == 1 && kw == 1 && stride[0] == 1 && stride[1] == 1 && pad[0] == 0 && pad[1] == 0;
        boolean depthwise = groups > 1 && cg == 1;
        boolean packed = !depthwise && DirectConv.prefersPacked(mg, p) && fitsInt(cg * h * wd, p + 64, batch);
        ConvPanels.Geometry geometry = packed ? new ConvPanels.Geometry((int) cg, (int) h, (int) wd, (int) kh, (int) kw,
                (int) stride[0], (int) stride[1], (int) pad[0], (int) pad[1], (int) dil[0], (int) dil[1], (int) oh, (int) ow) : null;
        MemorySegment col = pointwise || depthwise || packed ? null : scratch(kk * p * 4);
        MemorySegment xs = whole(x), ws = whole(w), os = out.segment();
        long imageIn = cin * h * wd * 4, groupIn = cg * h * wd * 4, imageOut = cout * p * 4;
        for (long grp = 0; packed && grp < groups; grp++) {
            // the whole batch in one call per group; filters packed per call (eager weights may change between calls)
            DirectConv.packedF32((int) mg, ws.asSlice(grp * mg * kk * 4, mg * kk * 4), geometry, (int) batch,
                    xs.asSlice(grp * groupIn), cin * h * wd, os.asSlice(grp * mg * p * 4), cout * p, null, 0, 0);
        }
        if (depthwise) {
            // the whole batch in one call, the bias added as each plane is computed
            Depthwise.Geometry planes = new Depthwise.Geometry((int) cin, (int) h, (int) wd, (int) kh, (int) kw,
                    (int) stride[0], (int) stride[1], (int) pad[0], (int) pad[1], (int) dil[0], (int) dil[1], (int) mg,
                    (int) oh, (int) ow, 1);
            Depthwise.f32(planes, (int) batch, xs, cin * h * wd, ws, bias == null ? null : whole(bias), os);
            return out;
        }
        for (long img = 0; img < (packed ? 0 : batch); img++) {
            for (long grp = 0; grp < groups; grp++) {
                MemorySegment image = xs.asSlice(img * imageIn + grp * groupIn, groupIn), b = image;
                if (col != null) {
                    DirectConv.im2colF32(image, (int) cg, (int) h, (int) wd, (int) kh, (int) kw, (int) stride[0], (int) stride[1],
                            (int) pad[0], (int) pad[1], (int) dil[0], (int) dil[1], (int) oh, (int) ow, col);
                    b = col;
                }
                DirectGemm.sgemm((int) mg, (int) p, (int) kk, ws.asSlice(grp * mg * kk * 4, mg * kk * 4), (int) Math.max(1, kk),
                        b, (int) p, false, os.asSlice(img * imageOut + grp * mg * p * 4, mg * p * 4), (int) p);
            }
        }
        if (bias != null) perChannel(BinaryOp.ADD, out, os, bias.segment(), bias.offset(), cout, p);
        return out;
    }

    /** {@code linear}: {@code x[..., k] w[n, k]^T + bias} as one {@link DirectGemm} call, then the bias per row. */
    public static NDArray linear(NDArray x, NDArray w, NDArray bias, long[] outShape) {
        if (!direct(x) || !direct(w) || (bias != null && !direct(bias)) || x.rank() < 1 || w.rank() != 2) return null;
        long n = w.dim(0), k = w.dim(1), m = k == 0 ? 0 : x.numel() / k;
        if (m == 0 || n == 0 || k == 0 || !fitsInt(m, n, k)) return null;
        NDArray out = NDArray.zeros(DType.F32, outShape);
        DirectGemm.sgemm((int) m, (int) n, (int) k, whole(x), (int) k, whole(w), (int) k, true, out.segment(), (int) n);
        if (bias != null) {
            F32Rows rows = F32Rows.best();
            MemorySegment os = out.segment(), bs = bias.segment();
            long bOff = bias.offset();
            Parallel.forRange(m, Math.max(1, Parallel.PARALLEL_THRESHOLD / n),
                    (r0, r1) -> { for (long r = r0; r < r1; r++) rows.binary(BinaryOp.ADD, os, r * n, 1, bs, bOff, 1, os, r * n, n); });
        }
        return out;
    }

    /**
     * {@code matmul} of two contiguous operands of the same rank (or a rank-2 right operand) with no broadcasting:
     * one {@link DirectGemm} call per batch matrix.
     */
    public static NDArray matmul(NDArray a, NDArray b, long[] outShape) {
        if (!direct(a) || !direct(b) || a.rank() < 2 || b.rank() < 2) return null;
        int ar = a.rank(), br = b.rank();
        long m = a.dim(ar - 2), k = a.dim(ar - 1), n = b.dim(br - 1);
        boolean sameBatch = ar == br && java.util.Arrays.equals(a.shape(), 0, ar - 2, b.shape(), 0, br - 2);
        if (b.dim(br - 2) != k || !(sameBatch || br == 2) || m == 0 || n == 0 || k == 0 || !fitsInt(m, n, k)) return null;
        NDArray out = NDArray.zeros(DType.F32, outShape);
        long batch = out.numel() / (m * n), aMat = m * k * 4, bMat = br == 2 ? 0 : k * n * 4, cMat = m * n * 4;
        MemorySegment as = whole(a), bs = whole(b), cs = out.segment();
        for (long i = 0; i < batch; i++) {
            DirectGemm.sgemm((int) m, (int) n, (int) k, as.asSlice(i * aMat, aMat), (int) k, bs.asSlice(i * bMat, k * n * 4),
                    (int) n, false, cs.asSlice(i * cMat, cMat), (int) n);
        }
        return out;
    }

    /** {@code max_pool2d} through {@link DirectPool#maxPool2dF32}. */
    public static NDArray maxPool2d(NDArray x, long[] k, long[] stride, long[] pad, long[] dil, long[] outShape) {
        return pool(x, k, stride, pad, dil, true, false, outShape);
    }

    /** {@code avg_pool2d} through {@link DirectPool#avgPool2dF32}. */
    public static NDArray avgPool2d(NDArray x, long[] k, long[] stride, long[] pad, boolean countIncludePad, long[] outShape) {
        return pool(x, k, stride, pad, new long[] {1, 1}, false, countIncludePad, outShape);
    }

    private static NDArray pool(NDArray x, long[] k, long[] stride, long[] pad, long[] dil, boolean max, boolean countIncludePad, long[] outShape) {
        if (!direct(x) || x.rank() != 4 || k.length != 2) return null;
        long[] st = stride.length == 0 ? k : stride, pd = pad.length == 0 ? new long[] {0, 0} : pad, dl = dil.length == 0 ? new long[] {1, 1} : dil;
        if (st.length != 2 || pd.length != 2 || dl.length != 2 || pd[0] > k[0] / 2 || pd[1] > k[1] / 2) return null;
        long planes = x.dim(0) * x.dim(1), h = x.dim(2), w = x.dim(3), oh = outShape[2], ow = outShape[3];
        if (x.numel() == 0 || !fitsInt(planes, h, w, oh, ow, h * w, k[0], k[1], st[0], st[1], pd[0], pd[1], dl[0], dl[1])) return null;
        NDArray out = NDArray.zeros(DType.F32, outShape);
        if (out.numel() == 0) return out;
        MemorySegment xs = whole(x);
        if (max) {
            DirectPool.maxPool2dF32(xs, (int) planes, (int) h, (int) w, (int) k[0], (int) k[1], (int) st[0], (int) st[1],
                    (int) pd[0], (int) pd[1], (int) dl[0], (int) dl[1], (int) oh, (int) ow, out.segment());
        } else {
            DirectPool.avgPool2dF32(xs, (int) planes, (int) h, (int) w, (int) k[0], (int) k[1], (int) st[0], (int) st[1],
                    (int) pd[0], (int) pd[1], (int) oh, (int) ow, countIncludePad, out.segment());
        }
        return out;
    }

    /**
     * Inference {@code batch_norm} over {@code x[N, C, ...]}: per channel {@code x * scale + shift}, with scale and
     * shift computed in double from the statistics as the reference kernel does, then applied in f32.
     */
    public static NDArray batchNorm(NDArray x, NDArray mean, NDArray var, NDArray weight, NDArray bias, double eps) {
        if (!direct(x) || x.rank() < 2) return null;
        for (NDArray p : new NDArray[] {mean, var, weight, bias}) if (p != null && (p.rank() != 1 || p.dim(0) != x.dim(1))) return null;
        long c = x.dim(1), plane = c == 0 || x.dim(0) == 0 ? 0 : x.numel() / (x.dim(0) * c);
        NDArray out = NDArray.zeros(DType.F32, x.shape());
        if (out.numel() == 0) return out;
        MemorySegment scale = Arena.ofAuto().allocate(c * 4, 64), shift = Arena.ofAuto().allocate(c * 4, 64);
        for (long i = 0; i < c; i++) {
            double s = (weight == null ? 1 : weight.getFlat(i)) / Math.sqrt(var.getFlat(i) + eps);
            scale.setAtIndex(F32, i, (float) s);
            shift.setAtIndex(F32, i, (float) ((bias == null ? 0 : bias.getFlat(i)) - mean.getFlat(i) * s));
        }
        MemorySegment xs = whole(x);
        perChannel(BinaryOp.MUL, out, xs, scale, 0, c, plane);
        perChannel(BinaryOp.ADD, out, out.segment(), shift, 0, c, plane);
        return out;
    }

    /** {@code out[n, ch, :] = op(in[n, ch, :], param[paramOffset + ch])} over planes of {@code plane} elements. */
    private static void perChannel(BinaryOp op, NDArray out, MemorySegment in, MemorySegment param, long paramOffset, long channels, long plane) {
        F32Rows rows = F32Rows.best();
        MemorySegment os = out.segment();
        long planes = out.numel() / Math.max(1, plane);
        Parallel.forRange(planes, Math.max(1, Parallel.PARALLEL_THRESHOLD / Math.max(1, plane)), (start, end) -> {
            for (long q = start; q < end; q++) rows.binary(op, in, q * plane, 1, param, paramOffset + q % channels, 0, os, q * plane, plane);
        });
    }

    /**
     * {@code layer_norm} over the last dim with a weight and a bias, on contiguous f32 rows, through the vector row
     * kernel compiled code's {@code skip_layer_norm} uses ({@link VectorNorms}); null (run the reference kernel)
     * otherwise or without the Vector API.
     */
    public static NDArray layerNorm(NDArray x, NDArray weight, NDArray bias, int dims, double eps) {
        if (!VectorApi.enabled() || dims != 1 || weight == null || bias == null || x.rank() < 1) return null;
        if (!direct(x) || !direct(weight) || !direct(bias)) return null;
        long cols = x.dim(x.rank() - 1), rows = cols == 0 ? 0 : x.numel() / cols;
        if (rows == 0 || weight.numel() != cols || bias.numel() != cols || !fitsInt(rows, cols)) return null;
        NDArray out = NDArray.zeros(DType.F32, x.shape());
        VectorNorms.skipLayerNormRows(whole(x), MemorySegment.NULL, MemorySegment.NULL, whole(weight), whole(bias), whole(out),
                MemorySegment.NULL, (int) rows, (int) cols, (float) eps);
        return out;
    }

    /**
     * {@code attention(q, k, v, mask?)} through the one-pass kernel ({@link Attention}), reading every operand in
     * place through its strides; null (run the reference kernel) unless q, k, v are native f32, the mask (if any)
     * native bool or f32, and the Vector API present.
     */
    public static NDArray attention(NDArray q, NDArray k, NDArray v, NDArray mask, double scale, boolean causal, long[] outShape) {
        if (!Attention.available() || !strided(q) || !strided(k) || !strided(v)) return null;
        if (mask != null && (!(mask.dtype() == DType.BOOL ? mask.segment().isNative() : strided(mask)))) return null;
        if (mask != null) for (long st : mask.strides()) if (st < 0) return null;
        Attention.Geometry g = Attention.geometry(q.shape(), q.strides(), k.shape(), k.strides(), v.shape(), v.strides(),
                mask == null ? null : mask.shape(), mask == null ? null : mask.strides(), mask != null && mask.dtype() == DType.BOOL, scale, causal);
        if (g == null) return null;
        NDArray out = NDArray.zeros(DType.F32, outShape);
        Attention.f32(g, from(q), from(k), from(v), mask == null ? MemorySegment.NULL : from(mask), whole(out));
        return out;
    }

    /** f32 in native memory, any strides. */
    private static boolean strided(NDArray a) {
        if (a.dtype() != DType.F32 || !a.segment().isNative()) return false;
        for (long st : a.strides()) if (st < 0) return false;
        return true;
    }

    /** {@code a}'s segment from its first element. */
    private static MemorySegment from(NDArray a) { return a.segment().asSlice(a.offset() * a.dtype().byteSize()); }

    private static MemorySegment scratch(long bytes) {
        MemorySegment s = COL.get();
        if (s == null || s.byteSize() < bytes) {
            s = Arena.ofAuto().allocate(Math.max(1, bytes), 64);
            COL.set(s);
        }
        return s.asSlice(0, bytes);
    }

    /** The elements of contiguous {@code a}, from byte 0. */
    private static MemorySegment whole(NDArray a) {
        return a.segment().asSlice(a.offset() * 4, a.numel() * 4);
    }

    private static boolean direct(NDArray a) {
        return a.dtype() == DType.F32 && a.isContiguous() && a.segment().isNative();
    }

    private static boolean fitsInt(long... v) {
        for (long x : v) if (x < 0 || x > Integer.MAX_VALUE) return false;
        return true;
    }
}
