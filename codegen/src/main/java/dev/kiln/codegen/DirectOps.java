package dev.kiln.codegen;

import dev.kiln.ir.Attribute;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.kernels.Attention;
import dev.kiln.runtime.kernels.ConvPanels;
import dev.kiln.runtime.kernels.Depthwise;
import dev.kiln.runtime.kernels.DirectConv;
import dev.kiln.runtime.kernels.DirectGemm;
import dev.kiln.runtime.kernels.PackedA;
import dev.kiln.runtime.kernels.PackedB;
import dev.kiln.runtime.kernels.Pointwise;
import dev.kiln.runtime.kernels.RowEpilogue;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The ops generated code runs through direct kernels on pre-sliced arena memory: f32 {@code linear}/{@code linear_act},
 * {@code matmul} and {@code conv2d}/{@code conv2d_act} as GEMM calls (convolutions through im2col unless pointwise),
 * each followed by its epilogue (bias, residual, activation) as a generated loop over the rows the call just wrote,
 * while they are in cache; {@code attention} as one call of the fused kernel reading q, k, v and the mask in place
 * through their strides. Anything else, or another dtype or layout, returns false and runs through a reference
 * kernel.
 */
final class DirectOps {
    /** GEMM rows per call when a linear layer's rows are split into blocks, each followed by its epilogue. */
    private static final long ROW_BLOCK = 256;

    private DirectOps() {}

    static boolean lower(Lowering l, Op op) {
        return switch (op.name()) {
            case "linear", "linear_act" -> linear(l, op);
            case "matmul" -> matmul(l, op);
            case "conv2d", "conv2d_act" -> conv(l, op) || unshuffled(l, op);
            case "max_pool2d", "avg_pool2d" -> pool(l, op);
            case "softmax" -> softmax(l, op);
            case "adaptive_avg_pool2d" -> globalAveragePool(l, op);
            case "skip_layer_norm" -> skipLayerNorm(l, op);
            case "attention" -> attention(l, op);
            case "cat" -> cat(l, op);
            default -> false;
        };
    }

    private static boolean f32Contiguous(Lowering l, Value v) {
        return v.type() instanceof TensorType t && t.dtype() == DType.F32 && l.ref(v).contiguous();
    }

    private static String activation(Op op) {
        return op.name().endsWith("_act") ? ((Attribute.Str) op.attr("activation")).value() : "none";
    }

    private static boolean linear(Lowering l, Op op) {
        for (Value v : op.operands()) if (!f32Contiguous(l, v)) return false;
        TensorRef x = l.ref(op.operand(0)), w = l.ref(op.operand(1));
        TensorRef b = op.operandCount() > 2 ? l.ref(op.operand(2)) : null;
        long n = w.shape()[0], k = w.shape()[1];
        long m = k == 0 ? 0 : x.numel() / k;
        if (!fitsInt(m, n, k)) return false;
        NDArray out = l.slotOf(op.result());
        TensorRef o = TensorRef.of(out);
        l.bind(op.result(), o);
        LoopSpec epilogue = epilogue(o, new long[] {m}, n, b, new long[] {0}, 1, null, activation(op));
        if (m > 0 && n > 0 && k > 0 && l.isConstant(op.operand(1)) && DirectGemm.prefersPackedB((int) m, (int) n)) {
            packedLinear(l, op, (int) m, (int) n, (int) k, x, w, o, epilogue);
            return true;
        }
        long block = m <= 2 * ROW_BLOCK ? Math.max(1, m) : ROW_BLOCK;
        if (Math.ceilDiv(m, block) > l.maxUnrolledCalls()) block = Math.ceilDiv(m, l.maxUnrolledCalls());
        String loop = epilogue != null && m > 0 && n > 0 ? l.loopMethod(epilogue) : null;
        Gen g = l.gen();
        for (long r0 = 0; r0 < m; r0 += block) {
            long rows = Math.min(block, m - r0);
            gemm(l, (int) rows, (int) n, (int) k, x, r0 * k * 4, rows * k * 4, w, 0, w.bytes(), (int) k, true, o, r0 * n * 4, rows * n * 4);
            if (loop != null) {
                g.pushLong(r0);
                g.pushLong(r0 + rows);
                g.callOwn(loop, LoopGen.DESCRIPTOR);
            }
        }
        l.direct(op.result() + " = " + op.name() + " -> gemm " + m + "x" + n + "x" + k + " (B^T) in " + Math.max(1, Math.ceilDiv(m, block))
                + " row block(s)" + (loop != null ? " + epilogue " + loop + " [" + epilogue.describe() + "]" : ""));
        return true;
    }

    /**
     * A linear layer with a constant weight: the weight packed once now, then one packed-GEMM call whose epilogue
     * (the generated loop object) runs per block of finished rows on the thread that computed them.
     */
    private static void packedLinear(Lowering l, Op op, int m, int n, int k, TensorRef x, TensorRef w, TensorRef o, LoopSpec epilogue) {
        MemorySegment weight = w.fixed().segment().asSlice(w.fixed().offset() * 4, w.bytes());
        PackedB packed = PackedB.pack(weight, k, n, k, true);
        String loop = epilogue != null ? l.loopMethod(epilogue) : null;
        Gen g = l.gen();
        g.pushInt(m);
        g.pushInt(n);
        g.pushInt(k);
        l.pushSegment(x, 0, (long) m * k * 4);
        g.pushInt(k);
        g.constant(packed, PackedB.class);
        l.pushSegment(o, 0, (long) m * n * 4);
        g.pushInt(n);
        l.pushRowLoopOrNull(loop);
        g.callStatic(CpuKernels.class, "sgemmPacked", int.class, int.class, int.class, MemorySegment.class, int.class, PackedB.class,
                MemorySegment.class, int.class, RowEpilogue.class);
        l.direct(op.result() + " = " + op.name() + " -> packed gemm " + m + "x" + n + "x" + k + " (B^T packed at compile time)"
                + (loop != null ? " + epilogue " + loop + " per row block [" + epilogue.describe() + "]" : ""));
    }

    /**
     * f32 matmul of two operands of the same rank (or a rank-2 right operand) without broadcasting: one GEMM per
     * batch matrix. Each matrix may be a strided view whose rows are contiguous (A; lda = its row stride) or
     * whose rows or columns are (B; a column-major B, such as a transposed view {@code k^T} in attention, is
     * passed as B^T), so attention's permuted heads need no copies.
     */
    private static boolean matmul(Lowering l, Op op) {
        Value av = op.operand(0), bv = op.operand(1);
        if (!(av.type() instanceof TensorType at && at.dtype() == DType.F32 && bv.type() instanceof TensorType bt && bt.dtype() == DType.F32)) return false;
        TensorRef x = l.ref(av), y = l.ref(bv);
        long[] xs = x.shape(), ys = y.shape(), xst = x.strides(), yst = y.strides();
        if (xs.length < 2 || ys.length < 2) return false;
        int xr = xs.length, yr = ys.length;
        long m = xs[xr - 2], k = xs[xr - 1], n = ys[yr - 1];
        if (ys[yr - 2] != k) return false;
        boolean sameBatch = xr == yr && java.util.Arrays.equals(xs, 0, xr - 2, ys, 0, yr - 2);
        if (!sameBatch && yr != 2) return false;
        // A: unit column stride; B: unit column stride (row-major) or unit row stride (column-major, as B^T)
        if (xst[xr - 1] != 1 && k > 1) return false;
        long lda = m > 1 ? xst[xr - 2] : Math.max(1, k);
        boolean bRowMajor = yst[yr - 1] == 1 || n == 1;
        boolean bColMajor = !bRowMajor && (yst[yr - 2] == 1 || k == 1);
        if (!bRowMajor && !bColMajor) return false;
        long ldb = bRowMajor ? (k > 1 ? yst[yr - 2] : Math.max(1, n)) : (n > 1 ? yst[yr - 1] : Math.max(1, k));
        NDArray out = l.slotOf(op.result());
        long batch = out.numel() / Math.max(1, m * n);
        if (!fitsInt(m, n, k, lda, ldb) || batch > l.maxUnrolledCalls() || lda < Math.max(1, k) || ldb < Math.max(1, bRowMajor ? n : k)) return false;
        TensorRef o = TensorRef.of(out);
        l.bind(op.result(), o);
        long aSpan = ((m - 1) * lda + k) * 4, bSpan = (bRowMajor ? (k - 1) * ldb + n : (n - 1) * ldb + k) * 4;
        for (long i = 0; i < batch; i++) {
            long aOff = batchOffset(xs, xst, i) * 4, bOff = yr == 2 ? 0 : batchOffset(ys, yst, i) * 4;
            if (m == 0 || n == 0) continue;
            if (k == 0) return false;
            gemm(l, (int) m, (int) n, (int) k, x, aOff, aSpan, y, bOff, bSpan, (int) ldb, bColMajor, o, i * m * n * 4, m * n * 4, (int) lda);
        }
        l.direct(op.result() + " = matmul -> gemm " + m + "x" + n + "x" + k + (bColMajor ? " (B^T)" : "") + " x " + batch);
        return true;
    }

    /** Element offset of batch matrix {@code index} (row-major over the leading dims) of a tensor with these strides. */
    private static long batchOffset(long[] shape, long[] strides, long index) {
        long off = 0;
        for (int d = shape.length - 3; d >= 0; d--) {
            off += (index % shape[d]) * strides[d];
            index /= shape[d];
        }
        return off;
    }

    /** {@code adaptive_avg_pool2d} to 1 x 1 (global average pooling) is a generated mean over each plane. */
    private static boolean globalAveragePool(Lowering l, Op op) {
        Value xv = op.operand(0);
        long[] size = ints(op, "output_size");
        if (!f32Contiguous(l, xv) || size.length != 2 || size[0] != 1 || size[1] != 1) return false;
        TensorRef x = l.ref(xv);
        if (x.shape().length != 4) return false;
        long planes = x.shape()[0] * x.shape()[1], plane = x.shape()[2] * x.shape()[3];
        if (plane == 0 || plane > Integer.MAX_VALUE / 2) return false;
        NDArray out = l.slotOf(op.result());
        TensorRef o = TensorRef.of(out);
        l.bind(op.result(), o);
        LoopSpec mean = new LoopSpec(List.of(new LoopSpec.Input(x, new long[] {plane}, 1)), o, new long[] {planes}, plane,
                new LoopSpec.Expr.In(0), "mean");
        l.emitLoop(mean, op.result() + " = adaptive_avg_pool2d");
        return true;
    }

    /** {@code skip_layer_norm} over contiguous f32 rows, both forms (with and without the sum result). */
    private static boolean skipLayerNorm(Lowering l, Op op) {
        if (!VectorSupport.available()) return false;
        for (Value v : op.operands()) if (!f32Contiguous(l, v)) return false;
        TensorRef x = l.ref(op.operand(0));
        int rank = x.shape().length;
        long cols = x.shape()[rank - 1], rows = cols == 0 ? 0 : x.numel() / cols;
        if (!fitsInt(rows, cols) || rows == 0) return false;
        boolean withSum = op.boolAttr("with_sum");
        NDArray out = l.slotOf(op.results().get(0));
        NDArray sum = withSum ? l.slotOf(op.results().get(1)) : null;
        // the kernel writes s into out first: out must not share bytes with an operand
        for (Value v : op.operands()) {
            TensorRef r = l.ref(v);
            if (!r.isBound() && overlaps(r.fixed(), out)) return false;
        }
        l.bind(op.results().get(0), TensorRef.of(out));
        if (withSum) l.bind(op.results().get(1), TensorRef.of(sum));
        Gen g = l.gen();
        for (int i = 0; i < 4; i++) {
            if (i == 2) {
                if (op.operandCount() > 4) l.pushSegment(l.ref(op.operand(4)));
                else g.segment(MemorySegment.NULL);
            }
            l.pushSegment(l.ref(op.operand(i)));
        }
        l.pushSegment(TensorRef.of(out));
        if (withSum) l.pushSegment(TensorRef.of(sum));
        else g.segment(MemorySegment.NULL);
        g.pushInt((int) rows);
        g.pushInt((int) cols);
        g.pushFloat((float) op.floatAttr("eps"));
        g.callStatic(VecKernels.class, "skipLayerNormRows", MemorySegment.class, MemorySegment.class, MemorySegment.class,
                MemorySegment.class, MemorySegment.class, MemorySegment.class, MemorySegment.class, int.class, int.class, float.class);
        l.direct(op.results() + " = skip_layer_norm -> vector skip_layer_norm " + rows + " rows of " + cols + (withSum ? " (with sum)" : ""));
        return true;
    }

    /**
     * f32 {@code attention} as one call of the fused kernel ({@link Attention}): q, k, v and the mask (bool or f32,
     * broadcast through zero strides) are passed as segments from their first element with their strides in a
     * {@link Attention.Geometry} made now, so permuted heads and {@code k^T} views are read where they are.
     */
    private static boolean attention(Lowering l, Op op) {
        if (!VectorSupport.available() || !Attention.available()) return false;
        for (int i = 0; i < 3; i++) if (!(op.operand(i).type() instanceof TensorType t && t.dtype() == DType.F32)) return false;
        boolean hasMask = op.operandCount() > 3;
        if (hasMask && op.operand(3).tensorType().dtype() != DType.BOOL && op.operand(3).tensorType().dtype() != DType.F32) return false;
        List<TensorRef> refs = new ArrayList<>();
        for (Value v : op.operands()) {
            TensorRef r = l.ref(v);
            for (long st : r.strides()) if (st < 0) return false;
            refs.add(r);
        }
        TensorRef q = refs.get(0), k = refs.get(1), v = refs.get(2), mask = hasMask ? refs.get(3) : null;
        Attention.Geometry geometry = Attention.geometry(q.shape(), q.strides(), k.shape(), k.strides(), v.shape(), v.strides(),
                hasMask ? mask.shape() : null, hasMask ? mask.strides() : null, hasMask && mask.dtype() == DType.BOOL,
                op.floatAttr("scale"), op.boolAttr("causal"));
        if (geometry == null) return false;
        NDArray out = l.slotOf(op.result());
        TensorRef o = TensorRef.of(out);
        l.bind(op.result(), o);
        Gen g = l.gen();
        g.constant(geometry, Attention.Geometry.class);
        for (TensorRef r : List.of(q, k, v)) l.pushSegment(r, 0, span(r));
        if (hasMask) l.pushSegment(mask, 0, span(mask));
        else g.segment(MemorySegment.NULL);
        l.pushSegment(o);
        g.callStatic(Attention.class, "f32", Attention.Geometry.class, MemorySegment.class, MemorySegment.class, MemorySegment.class,
                MemorySegment.class, MemorySegment.class);
        long[] lead = geometry.lead();
        l.direct(op.result() + " = attention -> fused attention " + java.util.Arrays.toString(lead) + " x (" + geometry.l() + " queries, "
                + geometry.s() + " keys, head " + geometry.d() + (geometry.causal() ? ", causal" : "")
                + (hasMask ? ", " + mask.dtype() + " mask" : "") + ")");
        return true;
    }

    /** Bytes from a tensor's first element to the end of its last one (non-negative strides), 0 when it is empty. */
    private static long span(TensorRef r) {
        long last = 0;
        for (int d = 0; d < r.shape().length; d++) {
            if (r.shape()[d] == 0) return 0;
            last += (r.shape()[d] - 1) * r.strides()[d];
        }
        return (last + 1) * r.dtype().byteSize();
    }

    /** Whether the bytes from {@code x}'s first element to the end of its last (x fixed) share any with {@code b}. */
    private static boolean overlapsSpan(TensorRef x, NDArray b) {
        long as = x.fixed().segment().address() + x.fixed().offset() * 4, bs = b.segment().address();
        return as < bs + b.numel() * 4 && bs < as + Lowering.spanBytes(x);
    }

    private static boolean overlaps(NDArray a, NDArray b) {
        long as = a.segment().address() + a.offset() * 4, bs = b.segment().address();
        return as < bs + b.numel() * 4 && bs < as + a.numel() * 4;
    }

    private static boolean softmax(Lowering l, Op op) {
        Value xv = op.operand(0);
        if (!VectorSupport.available() || !f32Contiguous(l, xv)) return false;
        TensorRef x = l.ref(xv);
        int rank = x.shape().length;
        long axis = op.intAttr("axis");
        if (rank == 0 || (axis != -1 && axis != rank - 1)) return false;
        long cols = x.shape()[rank - 1], rows = cols == 0 ? 0 : x.numel() / cols;
        if (!fitsInt(rows, cols) || rows == 0 || cols == 0) return false;
        NDArray out = l.slotOf(op.result());
        TensorRef o = TensorRef.of(out);
        l.bind(op.result(), o);
        Gen g = l.gen();
        l.pushSegment(x);
        l.pushSegment(o);
        g.pushInt((int) rows);
        g.pushInt((int) cols);
        g.callStatic(VecKernels.class, "softmaxRows", MemorySegment.class, MemorySegment.class, int.class, int.class);
        l.direct(op.result() + " = softmax -> vector softmax " + rows + " rows of " + cols);
        return true;
    }

    /**
     * Whether {@link #conv} will lower {@code op} as a depthwise convolution of {@code channels} input channels that
     * can read its input through a channel shuffle ({@link Lowering#shuffle}); asked before the shuffle is lowered.
     */
    static boolean readsShuffleInPlace(Lowering l, Op op, long channels) {
        if (!(op.name().equals("conv2d") || op.name().equals("conv2d_act"))) return false;
        for (int i = 1; i < op.operandCount(); i++) if (!f32Contiguous(l, op.operand(i))) return false;
        long[] w = l.ref(op.operand(1)).shape();
        return op.intAttr("groups") == channels && channels > 1 && w.length == 4 && w[1] == 1;
    }

    /** A convolution {@link #conv} declined although it was to read a channel shuffle in place: a codegen bug. */
    private static boolean unshuffled(Lowering l, Op op) {
        if (l.shuffle(op.operand(0)) == null) return false;
        throw new IllegalStateException("codegen: " + op.result() + " was to read channel shuffle " + op.operand(0)
                + " in place but is not lowered as a depthwise convolution");
    }

    /**
     * Elements between the images of a rank-4 f32 tensor whose every image is contiguous (a channel slice of a
     * contiguous batch, as ShuffleNet v2's split, included), or -1 when its images are not.
     */
    private static long imageStride(TensorRef x) {
        long[] shape = x.shape();
        if (x.dtype() != DType.F32 || shape.length != 4) return -1;
        long image = shape[1] * shape[2] * shape[3];
        if (x.contiguous() || shape[0] <= 1 && imagesContiguous(x)) return image;
        return imagesContiguous(x) ? x.strides()[0] : -1;
    }

    private static boolean conv(Lowering l, Op op) {
        boolean residual = op.name().equals("conv2d_act") && op.boolAttr("residual");
        for (int i = 1; i < op.operandCount(); i++) if (!f32Contiguous(l, op.operand(i))) return false;
        int convOperands = residual ? op.operandCount() - 1 : op.operandCount();
        Lowering.Shuffle shuffle = l.shuffle(op.operand(0));
        TensorRef x = shuffle != null ? shuffle.channels() : l.ref(op.operand(0)), w = l.ref(op.operand(1));
        long xImage = imageStride(x);
        if (xImage < 0) return false;
        TensorRef b = convOperands > 2 ? l.ref(op.operand(2)) : null;
        TensorRef res = residual ? l.ref(op.operand(op.operandCount() - 1)) : null;
        long[] stride = ints(op, "stride"), pad = ints(op, "padding"), dil = ints(op, "dilation");
        long groups = op.intAttr("groups");
        long batch = x.shape()[0], cin = x.shape()[1], h = x.shape()[2], wd = x.shape()[3];
        long cout = w.shape()[0], cg = w.shape()[1], kh = w.shape()[2], kw = w.shape()[3];
        NDArray out = l.slotOf(op.result());
        long oh = out.shape()[2], ow = out.shape()[3];
        long mg = cout / groups, kk = cg * kh * kw, p = oh * ow;
        boolean depthwise = groups > 1 && cg == 1;
        if (!fitsInt(mg, p, kk) || !fitsInt(cin, h * wd, cout)) return false;
        boolean pointwise = kh == 1 && kw == 1 && stride[0] == 1 && stride[1] == 1 && pad[0] == 0 && pad[1] == 0;
        TensorRef o = TensorRef.of(out);
        String act = activation(op);
        if (shuffle != null && !(depthwise && fitsInt(batch))) return false;
        if (!depthwise && pointwise && l.isConstant(op.operand(1)) && (act.equals("none") || act.equals("relu")) && fitsInt(batch)
                && Pointwise.suits(groups, mg, cg, p) && (x.isBound() || !overlapsSpan(x, out))) {
            l.bind(op.result(), o);
            pointwiseConv(l, op, (int) batch, (int) groups, (int) mg, (int) cg, (int) p, x, xImage, w, b, res, act.equals("relu"), o);
            return true;
        }
        // constant filters the packed GEMM suits: one packed (or Winograd) call per group; else, ungrouped over a
        // batch: one call of im2col + GEMM (or the direct kernel) per image, images over the pool
        boolean packed = !depthwise && groups <= l.maxUnrolledCalls() && l.isConstant(op.operand(1)) && DirectConv.prefersPacked(mg, p)
                && fitsInt(batch, h, wd, oh, ow, cg * h * wd, p + 64);
        boolean oneCall = !depthwise && groups == 1 && !pointwise && fitsInt(batch, h, wd, oh, ow, cg * h * wd, xImage, p + 64);
        ConvPanels.Geometry panels = packed || oneCall ? new ConvPanels.Geometry((int) cg, (int) h, (int) wd, (int) kh, (int) kw,
                (int) stride[0], (int) stride[1], (int) pad[0], (int) pad[1], (int) dil[0], (int) dil[1], (int) oh, (int) ow) : null;
        // a single image takes the one call too when it is convolved directly (no im2col matrix to share)
        boolean batched = oneCall && (batch > 1 || DirectConv.convolvesDirectly((int) mg, panels));
        if (packed || batched) {
            ConvPanels.Geometry geometry = panels;
            if (!packed && res == null && act.equals("relu") && convPool(l, op, geometry, (int) batch, (int) mg, x, xImage, w, b)) return true;
            l.bind(op.result(), o);
            LoopSpec epilogue = epilogue(o, new long[] {batch, cout}, p, b, new long[] {0, 1}, 0, res, activation(op));
            if (packed) packedConv(l, op, geometry, (int) batch, (int) groups, (int) mg, x, xImage, w, o, epilogue);
            else im2colConv(l, op, geometry, (int) batch, (int) mg, x, xImage, w, o, epilogue);
            return true;
        }
        if (depthwise) {
            Depthwise.Geometry geometry = new Depthwise.Geometry((int) cin, (int) h, (int) wd, (int) kh, (int) kw, (int) stride[0],
                    (int) stride[1], (int) pad[0], (int) pad[1], (int) dil[0], (int) dil[1], (int) mg, (int) oh, (int) ow,
                    shuffle == null ? 1 : shuffle.groups());
            if (!fitsInt(batch)) return false;
            l.bind(op.result(), o);
            depthwiseConv(l, op, geometry, (int) batch, x, xImage, w, b, o, epilogue(o, new long[] {batch, cout}, p, null, new long[] {0, 1}, 0, res, activation(op)));
            return true;
        }
        if (batch * groups > l.maxUnrolledCalls()) return false;
        MemorySegment col = pointwise ? null : l.colScratch(kk * p * 4);
        l.bind(op.result(), o);
        LoopSpec epilogue = epilogue(o, new long[] {batch, cout}, p, b, new long[] {0, 1}, 0, res, activation(op));
        String loop = epilogue != null && batch * cout * p > 0 ? l.loopMethod(epilogue) : null;
        Gen g = l.gen();
        long imageIn = xImage * 4, imageOut = cout * p * 4;
        for (long img = 0; img < batch; img++) {
            for (long grp = 0; grp < groups; grp++) {
                long xOff = img * imageIn + grp * cg * h * wd * 4;
                TensorRef b2 = x;
                long bOff = xOff;
                if (col != null) {
                    l.pushSegment(x, xOff, cg * h * wd * 4);
                    for (long v : new long[] {cg, h, wd, kh, kw, stride[0], stride[1], pad[0], pad[1], dil[0], dil[1], oh, ow}) g.pushInt((int) v);
                    g.segment(col.asSlice(0, kk * p * 4));
                    g.callStatic(CpuKernels.class, "im2colF32", MemorySegment.class, int.class, int.class, int.class, int.class, int.class,
                            int.class, int.class, int.class, int.class, int.class, int.class, int.class, int.class, MemorySegment.class);
                    b2 = TensorRef.of(NDArray.wrap(col, dev.kiln.ir.DType.F32, new long[] {kk * p}, new long[] {1}, 0));
                    bOff = 0;
                }
                gemm(l, (int) mg, (int) p, (int) kk, w, grp * mg * kk * 4, mg * kk * 4, b2, bOff, kk * p * 4, (int) p, false,
                        o, img * imageOut + grp * mg * p * 4, mg * p * 4, (int) kk);
            }
            if (loop != null) {
                g.pushLong(img * cout);
                g.pushLong((img + 1) * cout);
                g.callOwn(loop, LoopGen.DESCRIPTOR);
            }
        }
        String how = (pointwise ? "pointwise " : "im2col + ") + "gemm " + mg + "x" + p + "x" + kk + " x " + batch * groups;
        l.direct(op.result() + " = " + op.name() + " -> " + how + (loop != null ? " + epilogue " + loop + " [" + epilogue.describe() + "]" : ""));
        return true;
    }

    /**
     * A pointwise convolution with constant filters as one call over the whole batch and every group
     * ({@link Pointwise}): filters packed now, bias, residual and relu applied as each tile is stored.
     */
    private static void pointwiseConv(Lowering l, Op op, int batch, int groups, int mg, int cg, int p, TensorRef x, long xImage,
                                      TensorRef w, TensorRef b, TensorRef res, boolean relu, TensorRef o) {
        MemorySegment weight = w.fixed().segment().asSlice(w.fixed().offset() * 4, w.bytes());
        Pointwise.Filters filters = Pointwise.Filters.pack(weight, groups, mg, cg);
        Gen g = l.gen();
        g.constant(filters, Pointwise.Filters.class);
        g.pushInt(batch);
        g.pushInt(p);
        l.pushSegment(x);
        g.pushLong(xImage);
        l.pushSegmentOrNull(b);
        l.pushSegmentOrNull(res);
        g.pushBool(relu);
        l.pushSegment(o);
        g.callStatic(CpuKernels.class, "pointwiseF32", Pointwise.Filters.class, int.class, int.class, MemorySegment.class,
                long.class, MemorySegment.class, MemorySegment.class, boolean.class, MemorySegment.class);
        l.direct(op.result() + " = " + op.name() + " -> pointwise " + mg + "x" + p + "x" + cg + " x " + batch + " images x " + groups
                + " group(s) (filters packed at compile time)" + (b != null ? " + bias" : "") + (res != null ? " + residual" : "")
                + (relu ? " + relu" : "") + " in the tile writeback");
    }

    /**
     * A depthwise convolution as one call over the whole batch ({@link Depthwise}), the bias added as each plane is
     * computed; a residual or activation follows as a generated loop over the output.
     */
    private static void depthwiseConv(Lowering l, Op op, Depthwise.Geometry geometry, int batch, TensorRef x, long xImage,
                                      TensorRef w, TensorRef b, TensorRef o, LoopSpec epilogue) {
        Gen g = l.gen();
        g.constant(geometry, Depthwise.Geometry.class);
        g.pushInt(batch);
        l.pushSegment(x);
        g.pushLong(xImage);
        l.pushSegment(w);
        l.pushSegmentOrNull(b);
        l.pushSegment(o);
        g.callStatic(CpuKernels.class, "depthwiseF32", Depthwise.Geometry.class, int.class, MemorySegment.class, long.class,
                MemorySegment.class, MemorySegment.class, MemorySegment.class);
        String loop = null;
        if (epilogue != null) {
            loop = l.loopMethod(epilogue);
            g.pushLong(0);
            g.pushLong(epilogue.rows());
            g.callOwn(loop, LoopGen.DESCRIPTOR);
        }
        l.direct(op.result() + " = " + op.name() + " -> " + geometry + " x " + batch + (b != null ? " + bias" : "")
                + (loop != null ? " + epilogue " + loop + " [" + epilogue.describe() + "]" : ""));
    }

    /**
     * A convolution with constant filters: each group's filters packed once now ({@link PackedA}), then per group one
     * packed GEMM over the whole batch that unfolds the images straight into its panels ({@link DirectConv#packedF32})
     * and runs the epilogue (the generated loop object) per block of finished channels.
     */
    private static void packedConv(Lowering l, Op op, ConvPanels.Geometry geometry, int batch, int groups, int mg,
                                   TensorRef x, long imageIn, TensorRef w, TensorRef o, LoopSpec epilogue) {
        int kk = geometry.k(), p = geometry.n(), cout = mg * groups;
        MemorySegment weight = w.fixed().segment().asSlice(w.fixed().offset() * 4, w.bytes());
        PackedA[] filters = new PackedA[groups];
        for (int grp = 0; grp < groups; grp++) {
            filters[grp] = PackedA.pack(weight.asSlice((long) grp * mg * kk * 4, (long) mg * kk * 4), mg, kk, kk);
            DirectConv.prepare(filters[grp], geometry);
        }
        String loop = epilogue != null ? l.loopMethod(epilogue) : null;
        Gen g = l.gen();
        long groupOut = (long) mg * p, xBytes = Lowering.spanBytes(x);
        for (int grp = 0; grp < groups; grp++) {
            g.constant(filters[grp], PackedA.class);
            g.constant(geometry, ConvPanels.Geometry.class);
            g.pushInt(batch);
            l.pushSegment(x, grp * geometry.imageBytes(), xBytes - grp * geometry.imageBytes());
            g.pushLong(imageIn);
            l.pushSegment(o, grp * groupOut * 4, o.bytes() - grp * groupOut * 4);
            g.pushLong((long) cout * p);
            l.pushRowLoopOrNull(loop);
            g.pushLong((long) grp * mg);
            g.pushLong(cout);
            g.callStatic(CpuKernels.class, "convPackedF32", PackedA.class, ConvPanels.Geometry.class, int.class, MemorySegment.class,
                    long.class, MemorySegment.class, long.class, RowEpilogue.class, long.class, long.class);
        }
        int tile = DirectConv.winogradTile(mg, geometry);
        String how = tile > 0
                ? " -> Winograd F(" + tile + "x" + tile + ",3x3) conv, " + (tile + 2) * (tile + 2) + " gemms " + mg + "x" + geometry.c()
                + " x tiles, " + batch + " images x " + groups + " group(s)"
                + " (filters transformed and packed at compile time)"
                : " -> packed conv gemm " + mg + "x" + p + "x" + kk + " x " + batch + " images x " + groups + " group(s)"
                + " (filters packed at compile time, patches unfolded into panels)";
        l.direct(op.result() + " = " + op.name() + how
                + (loop != null ? " + epilogue " + loop + " per row block [" + epilogue.describe() + "]" : ""));
    }

    /**
     * A batch of convolutions the packed GEMM does not suit (few filters: LeNet's) in one call that splits the images
     * over the pool, each as im2col + GEMM or directly ({@link DirectConv#im2colGemmF32}), with the epilogue per image.
     */
    private static void im2colConv(Lowering l, Op op, ConvPanels.Geometry geometry, int batch, int m, TensorRef x, long imageIn,
                                   TensorRef w, TensorRef o, LoopSpec epilogue) {
        String loop = epilogue != null ? l.loopMethod(epilogue) : null;
        Gen g = l.gen();
        g.pushInt(m);
        l.pushSegment(w);
        g.constant(geometry, ConvPanels.Geometry.class);
        g.pushInt(batch);
        l.pushSegment(x, 0, Lowering.spanBytes(x));
        g.pushLong(imageIn);
        l.pushSegment(o);
        g.pushLong((long) m * geometry.n());
        l.pushRowLoopOrNull(loop);
        g.pushLong(0);
        g.pushLong(m);
        g.callStatic(CpuKernels.class, "convIm2colF32", int.class, MemorySegment.class, ConvPanels.Geometry.class, int.class,
                MemorySegment.class, long.class, MemorySegment.class, long.class, RowEpilogue.class, long.class, long.class);
        String how = DirectConv.convolvesDirectly(m, geometry) ? "direct conv " : "im2col + gemm ";
        l.direct(op.result() + " = " + op.name() + " -> " + how + m + "x" + geometry.n() + "x" + geometry.k() + " x " + batch
                + " images in one call (images over the pool)" + (loop != null ? " + epilogue " + loop + " per image [" + epilogue.describe() + "]" : ""));
    }

    /**
     * A convolution + relu whose only user is the next op, a 2x2 stride-2 max pool (floor mode, no padding): one call
     * computes the pooled output directly ({@link DirectConv#convPoolReluF32}: bias and relu applied to each pooled
     * element, equal to pooling relu(conv + bias)), the convolution's own output never written, and the pool emits
     * no code. Only when the pool's output does not share bytes with the convolution's input (written while that is
     * read); false (nothing emitted) when it does not apply.
     */
    private static boolean convPool(Lowering l, Op op, ConvPanels.Geometry geometry, int batch, int m, TensorRef x, long xImage,
                                    TensorRef w, TensorRef b) {
        Op pool = l.soleNextUser(op);
        if (pool == null || !pool.name().equals("max_pool2d") || !DirectConv.poolsDirectly(m, geometry)) return false;
        long[] k = ints(pool, "kernel_size"), st = ints(pool, "stride"), pad = ints(pool, "padding"), dil = ints(pool, "dilation");
        if (st.length == 0) st = k;
        if (pad.length == 0) pad = new long[] {0, 0};
        if (dil.length == 0) dil = new long[] {1, 1};
        boolean twoByTwo = java.util.Arrays.equals(k, new long[] {2, 2}) && java.util.Arrays.equals(st, new long[] {2, 2})
                && java.util.Arrays.equals(pad, new long[] {0, 0}) && java.util.Arrays.equals(dil, new long[] {1, 1});
        NDArray pooled = l.slotOf(pool.result());
        long[] ps = pooled.shape();
        if (!twoByTwo || ps.length != 4 || ps[0] != batch || ps[1] != m || ps[2] != geometry.oh() / 2 || ps[3] != geometry.ow() / 2
                || !(x.isBound() || !overlapsSpan(x, pooled))) {
            return false;
        }
        TensorRef p = TensorRef.of(pooled);
        Gen g = l.gen();
        g.pushInt(m);
        l.pushSegment(w);
        l.pushSegmentOrNull(b);
        g.constant(geometry, ConvPanels.Geometry.class);
        g.pushInt(batch);
        l.pushSegment(x, 0, Lowering.spanBytes(x));
        g.pushLong(xImage);
        l.pushSegment(p);
        g.pushLong((long) m * ps[2] * ps[3]);
        g.callStatic(CpuKernels.class, "convPoolReluF32", int.class, MemorySegment.class, MemorySegment.class, ConvPanels.Geometry.class,
                int.class, MemorySegment.class, long.class, MemorySegment.class, long.class);
        l.direct(op.result() + " = " + op.name() + " -> direct conv " + m + "x" + geometry.n() + "x" + geometry.k() + " x " + batch
                + " images" + (b != null ? " + bias" : "") + " + relu + 2x2 max pool into " + pool.result() + " in one call (images over the pool)");
        l.writtenEarly(pool.result(), p, op.result().toString());
        return true;
    }

    /**
     * {@code cat} of contiguous tensors of any dtype: per input, one call that copies its block for every index
     * before the axis into its place in the output (DenseNet's dense blocks: a growing concat per layer).
     */
    private static boolean cat(Lowering l, Op op) {
        NDArray out = l.slotOf(op.result());
        long[] shape = out.shape();
        long axis = op.intAttr("axis");
        if (axis < 0) axis += shape.length;
        if (axis < 0 || axis >= shape.length) return false;
        long outer = 1, inner = out.dtype().byteSize();
        for (int d = 0; d < axis; d++) outer *= shape[d];
        for (int d = (int) axis + 1; d < shape.length; d++) inner *= shape[d];
        // an input whose images (index of dim 0) are each contiguous but lie apart (a channel slice of a batch,
        // ShuffleNet v2's split) is copied image by image
        long images = axis >= 1 && shape[0] > 1 ? shape[0] : 1;
        boolean perImage = false;
        for (Value v : op.operands()) {
            if (!(v.type() instanceof TensorType)) return false;
            TensorRef x = l.ref(v);
            if (x.contiguous()) continue;
            if (images <= 1 || !imagesContiguous(x)) return false;
            perImage = true;
        }
        if (perImage && images * op.operandCount() > l.maxUnrolledCalls()) return false;
        TensorRef o = TensorRef.of(out);
        l.bind(op.result(), o);
        Gen g = l.gen();
        long outBlock = shape[(int) axis] * inner, offset = 0, outerPerImage = outer / images;
        for (Value v : op.operands()) {
            TensorRef x = l.ref(v);
            long block = x.shape()[(int) axis] * inner;
            for (long img = 0; block > 0 && outer > 0 && img < (x.contiguous() ? 1 : images); img++) {
                long count = x.contiguous() ? outer : outerPerImage, imageBytes = count * block;
                if (x.contiguous()) l.pushSegment(x);
                else l.pushSegment(x, img * x.strides()[0] * x.dtype().byteSize(), imageBytes);
                l.pushSegment(o);
                g.pushLong(count);
                g.pushLong(block);
                g.pushLong(outBlock);
                g.pushLong(offset + img * outerPerImage * outBlock);
                g.callStatic(CpuKernels.class, "copyBlocks", MemorySegment.class, MemorySegment.class, long.class, long.class,
                        long.class, long.class);
            }
            offset += block;
        }
        l.direct(op.result() + " = cat -> " + op.operandCount() + " block copies of " + outer + " block(s) each"
                + (perImage ? " (strided inputs image by image)" : ""));
        return true;
    }

    /** Whether every index of {@code x}'s first dim is a contiguous block (its other dims row-major). */
    private static boolean imagesContiguous(TensorRef x) {
        long[] shape = x.shape(), strides = x.strides();
        long expect = 1;
        for (int d = shape.length - 1; d >= 1; d--) {
            if (shape[d] != 1 && strides[d] != expect) return false;
            expect *= shape[d];
        }
        return shape.length >= 2 && strides[0] >= expect;
    }

    private static boolean pool(Lowering l, Op op) {
        String writer = l.writtenEarlyBy(op.result());
        if (writer != null) {
            l.direct(op.result() + " = " + op.name() + " -> computed with " + writer);
            return true;
        }
        Value xv = op.operand(0);
        if (!f32Contiguous(l, xv)) return false;
        TensorRef x = l.ref(xv);
        if (x.shape().length != 4) return false;
        long[] k = ints(op, "kernel_size");
        long[] st = ints(op, "stride"), pad = ints(op, "padding");
        boolean max = op.name().equals("max_pool2d");
        long[] dil = max ? ints(op, "dilation") : new long[] {1, 1};
        if (k.length != 2) return false;
        if (st.length == 0) st = k;
        if (pad.length == 0) pad = new long[] {0, 0};
        if (dil.length == 0) dil = new long[] {1, 1};
        if (st.length != 2 || pad.length != 2 || dil.length != 2 || pad[0] > k[0] / 2 || pad[1] > k[1] / 2) return false;
        NDArray out = l.slotOf(op.result());
        long planes = x.shape()[0] * x.shape()[1], h = x.shape()[2], w = x.shape()[3], oh = out.shape()[2], ow = out.shape()[3];
        if (!fitsInt(planes, h, w, oh, ow, h * w)) return false;
        TensorRef o = TensorRef.of(out);
        l.bind(op.result(), o);
        Gen g = l.gen();
        l.pushSegment(x);
        for (long v : new long[] {planes, h, w, k[0], k[1], st[0], st[1], pad[0], pad[1]}) g.pushInt((int) v);
        if (max) {
            g.pushInt((int) dil[0]);
            g.pushInt((int) dil[1]);
        }
        g.pushInt((int) oh);
        g.pushInt((int) ow);
        if (!max) g.pushBool(op.boolAttr("count_include_pad"));
        l.pushSegment(o);
        if (max) {
            g.callStatic(CpuKernels.class, "maxPool2dF32", MemorySegment.class, int.class, int.class, int.class, int.class, int.class,
                    int.class, int.class, int.class, int.class, int.class, int.class, int.class, int.class, MemorySegment.class);
        } else {
            g.callStatic(CpuKernels.class, "avgPool2dF32", MemorySegment.class, int.class, int.class, int.class, int.class, int.class,
                    int.class, int.class, int.class, int.class, int.class, int.class, boolean.class, MemorySegment.class);
        }
        l.direct(op.result() + " = " + op.name() + " -> direct " + op.name() + " " + planes + " planes " + h + "x" + w + " -> " + oh + "x" + ow);
        return true;
    }

    /**
     * The epilogue over an output of {@code outer} rows of {@code inner} elements: {@code act(out + bias + residual)},
     * or null when there is nothing to apply. The bias has strides {@code biasOuter}/{@code biasInner}; the residual
     * has the output's layout.
     */
    private static LoopSpec epilogue(TensorRef out, long[] outer, long inner, TensorRef bias, long[] biasOuter, long biasInner,
                                     TensorRef residual, String activation) {
        List<LoopSpec.Input> inputs = new ArrayList<>();
        long[] outStrides = new long[outer.length];
        long s = inner;
        for (int d = outer.length - 1; d >= 0; d--) {
            outStrides[d] = s;
            s *= outer[d];
        }
        inputs.add(new LoopSpec.Input(out, outStrides, 1));
        LoopSpec.Expr e = new LoopSpec.Expr.In(0);
        if (bias != null) {
            inputs.add(new LoopSpec.Input(bias, biasOuter, biasInner));
            e = new LoopSpec.Expr.Apply("add", List.of(e, new LoopSpec.Expr.In(inputs.size() - 1)), new float[0]);
        }
        if (residual != null) {
            inputs.add(new LoopSpec.Input(residual, outStrides, 1));
            e = new LoopSpec.Expr.Apply("add", List.of(e, new LoopSpec.Expr.In(inputs.size() - 1)), new float[0]);
        }
        if (!activation.equals("none")) e = new LoopSpec.Expr.Apply(activation, List.of(e), new float[0]);
        if (inputs.size() == 1 && activation.equals("none")) return null;
        return new LoopSpec(inputs, out, outer, inner, e, null);
    }

    private static void gemm(Lowering l, int m, int n, int k, TensorRef a, long aOff, long aBytes, TensorRef b, long bOff, long bBytes,
                             int ldb, boolean transB, TensorRef c, long cOff, long cBytes) {
        gemm(l, m, n, k, a, aOff, aBytes, b, bOff, bBytes, ldb, transB, c, cOff, cBytes, k);
    }

    private static void gemm(Lowering l, int m, int n, int k, TensorRef a, long aOff, long aBytes, TensorRef b, long bOff, long bBytes,
                             int ldb, boolean transB, TensorRef c, long cOff, long cBytes, int lda) {
        Gen g = l.gen();
        g.pushInt(m);
        g.pushInt(n);
        g.pushInt(k);
        l.pushSegment(a, aOff, aBytes);
        g.pushInt(Math.max(1, lda));
        l.pushSegment(b, bOff, bBytes);
        g.pushInt(Math.max(1, ldb));
        g.pushBool(transB);
        l.pushSegment(c, cOff, cBytes);
        g.pushInt(Math.max(1, n));
        g.callStatic(CpuKernels.class, "sgemm", int.class, int.class, int.class, MemorySegment.class, int.class,
                MemorySegment.class, int.class, boolean.class, MemorySegment.class, int.class);
    }

    private static long[] ints(Op op, String name) { return ((Attribute.Ints) op.attr(name)).values(); }

    private static boolean fitsInt(long... v) {
        for (long x : v) if (x < 0 || x > Integer.MAX_VALUE) return false;
        return true;
    }
}
