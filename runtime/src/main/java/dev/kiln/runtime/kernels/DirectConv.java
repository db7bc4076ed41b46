package dev.kiln.runtime.kernels;

import dev.kiln.ir.KilnException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.kiln.runtime.Elements.F32;
import static dev.kiln.runtime.Elements.F64;

/**
 * Allocation-free im2col for generated code: unfolds one image into the matrix that turns a convolution into a
 * single {@link DirectGemm} call ({@code out[o, oh*ow] = weight[o, c*kh*kw] * col}). The image and the matrix are
 * preallocated native segments whose element 0 is at byte 0. Same layout and semantics as {@link Im2col#fill}
 * for one image, but it reads and writes the segments directly (no heap copies, no threads): for every kernel
 * tap the range of output rows and columns that land inside the input is computed once, so the inner loops are
 * a plain copy (a bulk segment copy when the horizontal stride is 1) with no per-element padding test.
 */
public final class DirectConv {
    private DirectConv() {}

    /**
     * im2col of one image {@code x[c,h,w]} (contiguous f32) into {@code col[c*kh*kw, oh*ow]} row-major: row
     * {@code (ci,i,j)}, column {@code (y,x)} holds {@code x[ci, y*sh - ph + i*dh, x*sw - pw + j*dw]}, or 0 where
     * that falls in the padding. Strides and dilations must be at least 1, padding at least 0.
     */
    public static void im2colF32(MemorySegment x, int c, int h, int w, int kh, int kw, int sh, int sw, int ph,
                                 int pw, int dh, int dw, int oh, int ow, MemorySegment col) {
        if (sh == 1 && sw == 1 && dh == 1 && dw == 1 && F32Windows.VECTOR != null) {
            // stride 1, dilation 1: vectorised run copies (see F32Windows)
            check(x, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, col, 4);
            F32Windows.VECTOR.im2colUnitStride(x, c, h, w, kh, kw, ph, pw, oh, ow, col);
            return;
        }
        im2col(x, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, col, false);
    }

    /** The f64 counterpart of {@link #im2colF32}. */
    public static void im2colF64(MemorySegment x, int c, int h, int w, int kh, int kw, int sh, int sw, int ph,
                                 int pw, int dh, int dw, int oh, int ow, MemorySegment col) {
        im2col(x, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, col, true);
    }

    private static void im2col(MemorySegment x, int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw,
                               int dh, int dw, int oh, int ow, MemorySegment col, boolean f64) {
        check(x, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, col, f64 ? 8 : 4);
        long bytes = f64 ? 8 : 4;
        long plane = (long) h * w, cols = (long) oh * ow;
        long row = 0;   // element index of the current col row
        for (int ci = 0; ci < c; ci++) {
            long xPlane = ci * plane;
            for (int i = 0; i < kh; i++) {
                long shiftH = (long) i * dh - ph;
                // output rows [yLo, yHi) read input row y*sh + shiftH inside [0, h)
                long yLo = Math.min(oh, Math.max(0, Math.ceilDiv(-shiftH, sh)));
                long yHi = Math.max(yLo, Math.min(oh, Math.floorDiv(h - 1 - shiftH, sh) + 1));
                for (int j = 0; j < kw; j++, row += cols) {
                    long shiftW = (long) j * dw - pw;
                    long xLo = Math.min(ow, Math.max(0, Math.ceilDiv(-shiftW, sw)));
                    long xHi = Math.max(xLo, Math.min(ow, Math.floorDiv(w - 1 - shiftW, sw) + 1));
                    zero(col, row, yLo * ow, f64);
                    for (long y = yLo; y < yHi; y++) {
                        long dst = row + y * ow;
                        zero(col, dst, xLo, f64);
                        long n = xHi - xLo;
                        if (n > 0) {
                            long src = xPlane + (y * sh + shiftH) * w + xLo * sw + shiftW;
                            if (sw == 1) MemorySegment.copy(x, src * bytes, col, (dst + xLo) * bytes, n * bytes);
                            else if (f64) stridedF64(x, src, sw, col, dst + xLo, n);
                            else stridedF32(x, src, sw, col, dst + xLo, n);
                        }
                        zero(col, dst + xHi, ow - xHi, f64);
                    }
                    zero(col, row + yHi * ow, (oh - yHi) * ow, f64);
                }
            }
        }
    }

    private static void stridedF32(MemorySegment x, long src, long stride, MemorySegment col, long dst, long n) {
        for (long o = 0; o < n; o++) col.setAtIndex(F32, dst + o, x.getAtIndex(F32, src + o * stride));
    }

    private static void stridedF64(MemorySegment x, long src, long stride, MemorySegment col, long dst, long n) {
        for (long o = 0; o < n; o++) col.setAtIndex(F64, dst + o, x.getAtIndex(F64, src + o * stride));
    }

    private static void zero(MemorySegment col, long from, long n, boolean f64) {
        if (f64) {
            for (long o = 0; o < n; o++) col.setAtIndex(F64, from + o, 0d);
        } else {
            for (long o = 0; o < n; o++) col.setAtIndex(F32, from + o, 0f);
        }
    }

    /**
     * A convolution (one group) of {@code images} images as one packed GEMM,
     * {@code out_i[m, oh*ow] = filters * patches(image_i)}, with the filters packed ahead of time ({@link PackedA}:
     * {@code m x c*kh*kw}, the weight layout) and the patches unfolded straight into the GEMM's packed panels
     * ({@link ConvPanels}; a pointwise convolution packs the image itself). Image {@code i} ({@code c x h x w}) starts
     * at element {@code i * imageStride} of {@code x}, its output ({@code m x oh*ow}) at element
     * {@code i * outStride} of {@code out}; f32, native segments. Then {@code epilogue} (may be null) runs on each
     * block of finished output rows (channels), row {@code r} of image {@code i} numbered
     * {@code epilogueRows + i * epilogueImageRows + r} (rows of the whole output when the images are a batch).
     */
    public static void packedF32(PackedA filters, ConvPanels.Geometry g, int images, MemorySegment x, long imageStride,
                                 MemorySegment out, long outStride, RowEpilogue epilogue, long epilogueRows,
                                 long epilogueImageRows) {
        checkPacked(filters.m(), filters.k(), g, images, x, imageStride, out, outStride);
        packed(filters.m(), null, filters, g, images, x, imageStride, out, outStride, epilogue, epilogueRows, epilogueImageRows);
    }

    /**
     * {@link #packedF32(PackedA, ConvPanels.Geometry, int, MemorySegment, long, MemorySegment, long, RowEpilogue,
     * long, long)} with the filters ({@code m x c*kh*kw}, contiguous) packed on this call (eager mode, where weights
     * may change).
     */
    public static void packedF32(int m, MemorySegment filters, ConvPanels.Geometry g, int images, MemorySegment x,
                                 long imageStride, MemorySegment out, long outStride, RowEpilogue epilogue,
                                 long epilogueRows, long epilogueImageRows) {
        checkPacked(m, g.k(), g, images, x, imageStride, out, outStride);
        DirectGemm.checkMatrix("conv", "filters", filters, m, g.k(), Math.max(1, g.k()), 4);
        packed(m, filters, null, g, images, x, imageStride, out, outStride, epilogue, epilogueRows, epilogueImageRows);
    }

    /**
     * A convolution (one group) of {@code images} images, each as im2col then {@link DirectGemm#sgemm} (the path
     * for outputs the packed GEMM does not suit: few filters, as LeNet's), with the same arguments as
     * {@link #packedF32} and the filters ({@code m x c*kh*kw}, contiguous) as they are. The images are split over
     * the pool, each thread unfolding into its own column matrix; the epilogue runs per image.
     */
    public static void im2colGemmF32(int m, MemorySegment filters, ConvPanels.Geometry g, int images, MemorySegment x,
                                     long imageStride, MemorySegment out, long outStride, RowEpilogue epilogue,
                                     long epilogueRows, long epilogueImageRows) {
        checkPacked(m, g.k(), g, images, x, imageStride, out, outStride);
        DirectGemm.checkMatrix("conv", "filters", filters, m, g.k(), Math.max(1, g.k()), 4);
        long work = (long) images * m * g.k() * g.n();
        if (Parallel.threads() > 1 && images > 1 && work >= 4L * Parallel.PARALLEL_THRESHOLD
                && Parallel.shareable(filters, x, out)) {
            Parallel.forRange(images, 1, (i0, i1) -> im2colGemmImages(m, filters, g, (int) i0, (int) i1, x, imageStride, out,
                    outStride, epilogue, epilogueRows, epilogueImageRows));
        } else {
            im2colGemmImages(m, filters, g, 0, images, x, imageStride, out, outStride, epilogue, epilogueRows, epilogueImageRows);
        }
    }

    private static final ThreadLocal<MemorySegment[]> COLUMNS = ThreadLocal.withInitial(() -> new MemorySegment[] {MemorySegment.NULL});

    private static void im2colGemmImages(int m, MemorySegment filters, ConvPanels.Geometry g, int i0, int i1, MemorySegment x,
                                         long imageStride, MemorySegment out, long outStride, RowEpilogue epilogue,
                                         long epilogueRows, long epilogueImageRows) {
        int k = g.k(), n = g.n();
        MemorySegment[] holder = COLUMNS.get();
        if (holder[0].byteSize() < 4L * k * n) holder[0] = Arena.ofAuto().allocate(Math.max(4, 4L * k * n), 64);
        MemorySegment col = holder[0];
        for (int i = i0; i < i1; i++) {
            MemorySegment image = x.asSlice(4L * i * imageStride, g.imageBytes()), o = out.asSlice(4L * i * outStride, 4L * m * n);
            im2colF32(image, g.c(), g.h(), g.w(), g.kh(), g.kw(), g.sh(), g.sw(), g.ph(), g.pw(), g.dh(), g.dw(), g.oh(), g.ow(), col);
            DirectGemm.sgemm(m, n, k, filters, Math.max(1, k), col, Math.max(1, n), false, o, Math.max(1, n));
            if (epilogue != null) epilogue.rows(epilogueRows + i * epilogueImageRows, epilogueRows + i * epilogueImageRows + m);
        }
    }

    /**
     * The tile size {@code t} when {@link #packedF32} computes this convolution ({@code m} output channels) by
     * Winograd's F(t x t, 3x3) ({@link Winograd}: 3x3, stride 1, enough channels and tiles; t is 2 or 4), else 0 (one
     * packed GEMM).
     */
    public static int winogradTile(int m, ConvPanels.Geometry g) {
        WinogradTransforms tr = Winograd.transforms(m, g);
        return tr == null ? 0 : tr.tile();
    }

    /**
     * Does now, for filters packed ahead of time, the work {@link #packedF32} would do on its first call with them:
     * the Winograd transform of the filters when {@link #winogradTile} is not 0, or their transposed packing when the pixels
     * are the GEMM's rows (code generation calls this).
     */
    public static void prepare(PackedA filters, ConvPanels.Geometry g) {
        if (filters.k() != g.k()) throw new KilnException("conv: filters have " + filters.k() + " columns, the geometry needs c*kh*kw = " + g.k());
        if (Winograd.applies(filters.m(), g)) Winograd.filters(filters, g);
        else if (PackedGemm.byPixels(filters.m(), g.n(), g.k(), 1)) filters.transposed();
    }

    /**
     * Whether {@link #packedF32} is the faster way for this output ({@code m} channels of {@code pixels}): the
     * packed GEMM's condition ({@link DirectGemm#prefersPackedB}).
     */
    public static boolean prefersPacked(long m, long pixels) {
        return m <= Integer.MAX_VALUE && pixels <= Integer.MAX_VALUE && DirectGemm.prefersPackedB((int) m, (int) pixels);
    }

    private static void packed(int m, MemorySegment a, PackedA pa, ConvPanels.Geometry g, int images, MemorySegment x,
                               long imageStride, MemorySegment out, long outStride, RowEpilogue epilogue,
                               long epilogueRows, long epilogueImageRows) {
        int n = g.n(), k = g.k();
        if (m == 0 || images == 0) return;
        if (n == 0 || k == 0) {
            for (long i = 0; i < images; i++) {
                out.asSlice(4L * i * outStride, 4L * m * n).fill((byte) 0);
                if (epilogue != null) epilogue.rows(epilogueRows + i * epilogueImageRows, epilogueRows + i * epilogueImageRows + m);
            }
            return;
        }
        if (Winograd.applies(m, g)) {
            Winograd.Filters f = pa != null ? Winograd.filters(pa, g) : Winograd.filters(m, a, g);
            Winograd.convolve(m, f, g, images, x, imageStride, out, outStride, epilogue, epilogueRows, epilogueImageRows);
            return;
        }
        boolean pointwise = g.kh() == 1 && g.kw() == 1 && g.sh() == 1 && g.sw() == 1 && g.ph() == 0 && g.pw() == 0;
        PackedGemm.convolve(m, n, k, a, pa, images, x, imageStride, pointwise ? null : g, out, outStride, epilogue,
                epilogueRows, epilogueImageRows, PackedGemm.byPixels(m, n, k, images));
    }

    private static void checkPacked(int m, int k, ConvPanels.Geometry g, int images, MemorySegment x, long imageStride,
                                    MemorySegment out, long outStride) {
        if (k != g.k()) throw new KilnException("conv: filters have " + k + " columns, the geometry needs c*kh*kw = " + g.k());
        long outFloats = (long) m * g.n();
        if (images < 0 || imageStride < 0 || outStride < outFloats) {
            throw new KilnException("conv: " + images + " images with strides " + imageStride + " (input) and " + outStride
                    + " (output) elements; the output stride must be at least " + outFloats);
        }
        long xBytes = images == 0 ? 0 : 4L * (images - 1) * imageStride + g.imageBytes();
        long outBytes = images == 0 ? 0 : 4L * ((images - 1) * outStride + outFloats);
        if (x.byteSize() < xBytes || out.byteSize() < outBytes || !x.isNative() || !out.isNative()) {
            throw new KilnException("conv: " + images + " images need " + xBytes + " native bytes of input (segment has "
                    + x.byteSize() + ") and " + outBytes + " of output (segment has " + out.byteSize() + ")");
        }
    }

    private static void check(MemorySegment x, int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw,
                              int dh, int dw, int oh, int ow, MemorySegment col, int bytes) {
        if ((c | h | w | kh | kw | ph | pw | oh | ow) < 0 || sh < 1 || sw < 1 || dh < 1 || dw < 1) {
            throw new KilnException("im2col: sizes and padding must be >= 0 and strides and dilations "
                    + ">= 1, got c=" + c + " h=" + h + " w=" + w + " kernel " + kh + "x" + kw + " stride " + sh + "x"
                    + sw + " padding " + ph + "x" + pw + " dilation " + dh + "x" + dw + " output " + oh + "x" + ow);
        }
        long xBytes = (long) c * h * w * bytes, colBytes = col == MemorySegment.NULL ? 0 : (long) c * kh * kw * oh * ow * bytes;
        if (x.byteSize() < xBytes || col.byteSize() < colBytes) {
            throw new KilnException("im2col: the image needs " + xBytes + " bytes (segment has "
                    + x.byteSize() + ") and the column matrix " + colBytes + " (segment has " + col.byteSize() + ")");
        }
    }
}
