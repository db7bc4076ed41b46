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
 * Also the batched convolutions of generated code: on the packed GEMM ({@link #packedF32}), by im2col + GEMM or
 * directly for few filters ({@link #im2colGemmF32}), and directly with a following relu and 2x2 max pool
 * ({@link #convPoolReluF32}).
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
     * for outputs the packed GEMM does not suit: few filters, as LeNet's), or directly with the output pixels in the
     * vector lanes when {@link #convolvesDirectly} (no im2col matrix; see {@link F32DirectConv}), with the same
     * arguments as {@link #packedF32} and the filters ({@code m x c*kh*kw}, contiguous) as they are. The images are
     * split over the pool, each thread unfolding into its own scratch; the epilogue runs per image.
     */
    public static void im2colGemmF32(int m, MemorySegment filters, ConvPanels.Geometry g, int images, MemorySegment x,
                                     long imageStride, MemorySegment out, long outStride, RowEpilogue epilogue,
                                     long epilogueRows, long epilogueImageRows) {
        im2colGemmF32(m, filters, g, images, x, imageStride, out, outStride, epilogue, epilogueRows, epilogueImageRows,
                convolvesDirectly(m, g));
    }

    /**
     * {@link #im2colGemmF32(int, MemorySegment, ConvPanels.Geometry, int, MemorySegment, long, MemorySegment, long,
     * RowEpilogue, long, long)} directly or by im2col + GEMM as {@code direct} says, whatever the share of useful work
     * (tests take both paths on every shape); the arguments are checked.
     */
    static void im2colGemmF32(int m, MemorySegment filters, ConvPanels.Geometry g, int images, MemorySegment x,
                              long imageStride, MemorySegment out, long outStride, RowEpilogue epilogue,
                              long epilogueRows, long epilogueImageRows, boolean direct) {
        checkPacked(m, g.k(), g, images, x, imageStride, out, outStride);
        DirectGemm.checkMatrix("conv", "filters", filters, m, g.k(), Math.max(1, g.k()), 4);
        if (direct && m > 0 && directLayout(m, g) == null) {
            throw new KilnException("conv: the direct kernel takes stride 1 on the Vector API, not " + g);
        }
        if (m == 0 || images == 0) return;
        images(m, filters, null, g, direct, false, images, x, imageStride, out, outStride, epilogue, epilogueRows, epilogueImageRows);
    }

    /**
     * Whether {@link #convPoolReluF32} takes these {@code m} filters: {@link #convolvesDirectly}, and an output of at
     * least 2x2.
     */
    public static boolean poolsDirectly(int m, ConvPanels.Geometry g) {
        return g.oh() >= 2 && g.ow() >= 2 && convolvesDirectly(m, g);
    }

    /**
     * A convolution (one group) of {@code images} images, plus {@code bias} (one per filter; may be null), relu and a
     * 2x2 stride-2 max pool (floor mode), as one pass per image that never writes the convolution's output: the direct
     * kernel of {@link #im2colGemmF32}, then the pool of its wide rows with the bias and relu applied to each pooled
     * element ({@link F32DirectConv#poolRelu}: equal to pooling {@code relu(conv + bias)}, signed zeros included).
     * Image {@code i} ({@code c x h x w}) starts at element {@code i * imageStride} of {@code x}, its pooled output
     * ({@code m x oh/2 x ow/2}) at element {@code i * outStride} of {@code out}; f32, native segments, the filters
     * {@code m x c*kh*kw} contiguous. Only for what {@link #poolsDirectly} takes.
     */
    public static void convPoolReluF32(int m, MemorySegment filters, MemorySegment bias, ConvPanels.Geometry g, int images,
                                       MemorySegment x, long imageStride, MemorySegment out, long outStride) {
        if (!poolsDirectly(m, g)) {
            throw new KilnException("conv + pool: the direct kernel takes stride 1, an output of at least 2x2 and enough filters"
                    + " to fill its tiles half, on the Vector API; not " + m + " filters of " + g);
        }
        checkPacked(g.k(), g, images, x, imageStride, out, outStride, (long) m * (g.oh() / 2) * (g.ow() / 2));
        DirectGemm.checkMatrix("conv", "filters", filters, m, g.k(), g.k(), 4);
        if (bias != null && (!bias.isNative() || bias.byteSize() < 4L * m)) {
            throw new KilnException("conv + pool: the bias needs " + 4L * m + " native bytes, the segment has " + bias.byteSize());
        }
        images(m, filters, bias, g, true, true, images, x, imageStride, out, outStride, null, 0, 0);
    }

    /** Runs {@link #imageRange} over the images, split over the pool when the work is worth it. */
    private static void images(int m, MemorySegment filters, MemorySegment bias, ConvPanels.Geometry g, boolean direct,
                               boolean pool, int images, MemorySegment x, long imageStride, MemorySegment out, long outStride,
                               RowEpilogue epilogue, long epilogueRows, long epilogueImageRows) {
        long work = (long) images * m * g.k() * g.n();
        if (Parallel.threads() > 1 && images > 1 && work >= 4L * Parallel.PARALLEL_THRESHOLD
                && Parallel.shareable(filters, x, out) && (bias == null || Parallel.shareable(bias))) {
            Parallel.forRange(images, 1, (i0, i1) -> imageRange(m, filters, bias, g, direct, pool, (int) i0, (int) i1, x,
                    imageStride, out, outStride, epilogue, epilogueRows, epilogueImageRows));
        } else {
            imageRange(m, filters, bias, g, direct, pool, 0, images, x, imageStride, out, outStride, epilogue, epilogueRows,
                    epilogueImageRows);
        }
    }

    /**
     * The least share of the direct kernel's multiply-adds that are the convolution's own (the rest fill its register
     * tiles: the wide rows' extra columns, a partial tile of filters or vectors) for {@link #convolvesDirectly}.
     */
    static final double DIRECT_MIN_USEFUL = 0.5;

    /**
     * Whether {@link #im2colGemmF32} convolves these {@code m} filters directly ({@link F32DirectConv}): on the Vector
     * API, stride 1, and at least {@link #DIRECT_MIN_USEFUL} of the register tiles' work useful (LeNet's 6 filters
     * of 28x28 from a padded 32-wide image: 86%; its 16 filters of 10x10 from 14-wide rows: 62%).
     */
    public static boolean convolvesDirectly(int m, ConvPanels.Geometry g) {
        DirectLayout layout = directLayout(m, g);
        if (layout == null) return false;
        F32DirectConv kernel = F32DirectConv.VECTOR;
        int perTile = kernel.filtersPerTile(), vectorsPerTile = kernel.vectorsPerTile();
        double computed = (double) Math.ceilDiv(m, perTile) * perTile * Math.ceilDiv(layout.vectors(), vectorsPerTile) * vectorsPerTile
                * kernel.lanes();
        return (double) m * g.n() / computed >= DIRECT_MIN_USEFUL;
    }

    /** The direct kernel's layout for {@code m} filters, or null when it cannot take them (see {@link #im2colGemmF32}). */
    private static DirectLayout directLayout(int m, ConvPanels.Geometry g) {
        F32DirectConv kernel = F32DirectConv.VECTOR;
        if (kernel == null || g.sh() != 1 || g.sw() != 1 || m < 1 || g.k() < 1 || g.n() < 1) return null;
        DirectLayout layout = SCRATCH.get().layout(g, kernel.lanes());
        return layout == null || (long) m * layout.widePlane() > Integer.MAX_VALUE / 8 || (long) m * g.k() > Integer.MAX_VALUE / 8
                ? null : layout;
    }

    /**
     * Sizes of {@link F32DirectConv}'s scratch for one image: the zero-padded image of {@code c} planes of
     * {@code hp x wp} floats ({@code paddedFloats} in all, with room for the last tile's reads past the last plane),
     * {@code vectors} vectors of wide positions per filter, each filter's wide plane {@code widePlane} floats, and
     * each tap's offset in the padded image.
     */
    private record DirectLayout(int hp, int wp, int vectors, int paddedFloats, int widePlane, int[] taps) {
        /** The layout for {@code g} with vectors of {@code lanes} floats, or null when a size passes an int. */
        static DirectLayout of(ConvPanels.Geometry g, int lanes) {
            long hp = g.oh() + (long) (g.kh() - 1) * g.dh(), wp = g.ow() + (long) (g.kw() - 1) * g.dw();
            long vectors = Math.ceilDiv((g.oh() - 1) * wp + g.ow(), lanes);
            long plane = hp * wp;
            long padded = Math.max(g.c() * plane, (g.c() - 1) * plane + (g.kh() - 1L) * g.dh() * wp + (g.kw() - 1L) * g.dw()
                    + vectors * lanes);
            long widePlane = (vectors + 1) * lanes;   // a vector past every row start, for the compaction
            if (padded > Integer.MAX_VALUE / 8 || widePlane > Integer.MAX_VALUE / 8) return null;
            int[] taps = new int[g.k()];
            int t = 0;
            for (int ci = 0; ci < g.c(); ci++) {
                for (int i = 0; i < g.kh(); i++) {
                    for (int j = 0; j < g.kw(); j++) taps[t++] = (int) (ci * plane + (long) i * g.dh() * wp + (long) j * g.dw());
                }
            }
            return new DirectLayout((int) hp, (int) wp, (int) vectors, (int) padded, (int) widePlane, taps);
        }
    }

    /**
     * Per thread: the scratch of {@link #im2colGemmF32}, grown as needed: the im2col matrix, or the direct kernel's
     * filters, bias, padded image and wide output; and the layouts of the last {@link #LAYOUTS} geometries it convolved
     * (generated code holds its geometries as constants, so a warm run of a model with that few computes none).
     */
    private static final class Scratch {
        static final int LAYOUTS = 16;
        MemorySegment columns = MemorySegment.NULL;
        float[] filters = new float[0], bias = new float[0], padded = new float[0], wide = new float[0];
        private final ConvPanels.Geometry[] geometries = new ConvPanels.Geometry[LAYOUTS];
        private final DirectLayout[] layouts = new DirectLayout[LAYOUTS];
        private int next;

        MemorySegment columns(long bytes) {
            if (columns.byteSize() < bytes) columns = Arena.ofAuto().allocate(Math.max(4, bytes), 64);
            return columns;
        }

        /** The layout of {@code g} (null when too large), made once while {@code g} is among the last LAYOUTS. */
        DirectLayout layout(ConvPanels.Geometry g, int lanes) {
            for (int i = 0; i < LAYOUTS; i++) if (geometries[i] == g) return layouts[i];
            DirectLayout layout = DirectLayout.of(g, lanes);
            geometries[next] = g;
            layouts[next] = layout;
            next = (next + 1) % LAYOUTS;
            return layout;
        }

        static float[] grown(float[] a, long floats) {
            return a.length >= floats ? a : new float[(int) floats];
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /**
     * Images {@code [i0, i1)}: directly or by im2col + GEMM, each followed by its epilogue; or, when {@code pool},
     * directly with the bias, relu and pool of {@link #convPoolReluF32}.
     */
    private static void imageRange(int m, MemorySegment filters, MemorySegment bias, ConvPanels.Geometry g, boolean direct,
                                    boolean pool, int i0, int i1, MemorySegment x, long imageStride, MemorySegment out,
                                    long outStride, RowEpilogue epilogue, long epilogueRows, long epilogueImageRows) {
        int k = g.k(), n = g.n();
        Scratch scratch = SCRATCH.get();
        F32DirectConv kernel = F32DirectConv.VECTOR;
        DirectLayout layout = direct ? directLayout(m, g) : null;
        MemorySegment col = direct ? null : scratch.columns(4L * k * n);
        float[] biases = null;
        if (direct) {
            scratch.filters = Scratch.grown(scratch.filters, (long) m * k);
            scratch.padded = Scratch.grown(scratch.padded, layout.paddedFloats());
            scratch.wide = Scratch.grown(scratch.wide, (long) m * layout.widePlane());
            MemorySegment.copy(filters, F32, 0, scratch.filters, 0, m * k);
            if (bias != null) {
                biases = scratch.bias = Scratch.grown(scratch.bias, m);
                MemorySegment.copy(bias, F32, 0, biases, 0, m);
            }
        }
        for (int i = i0; i < i1; i++) {
            if (direct) {
                // offsets, not slices: a slice per image was 40 bytes of garbage each
                pad(x, i * imageStride, g, layout, scratch.padded);
                kernel.convolve(scratch.filters, m, k, layout.taps(), scratch.padded, layout.vectors(), scratch.wide, layout.widePlane());
                if (pool) kernel.poolRelu(scratch.wide, layout.widePlane(), layout.wp(), m, g.oh(), g.ow(), biases, out, i * outStride);
                else kernel.compact(scratch.wide, layout.widePlane(), layout.wp(), m, g.oh(), g.ow(), out, i * outStride);
            } else {
                MemorySegment image = x.asSlice(4L * i * imageStride, g.imageBytes()), o = out.asSlice(4L * i * outStride, 4L * m * n);
                im2colF32(image, g.c(), g.h(), g.w(), g.kh(), g.kw(), g.sh(), g.sw(), g.ph(), g.pw(), g.dh(), g.dw(), g.oh(), g.ow(), col);
                DirectGemm.sgemm(m, n, k, filters, Math.max(1, k), col, Math.max(1, n), false, o, Math.max(1, n));
            }
            if (epilogue != null) epilogue.rows(epilogueRows + i * epilogueImageRows, epilogueRows + i * epilogueImageRows + m);
        }
    }

    /**
     * Copies the image at element {@code image} of {@code x} into {@code padded} as {@link F32DirectConv} reads it:
     * plane {@code ci}, row {@code r}, column {@code q} holds input element {@code (ci, r - ph, q - pw)}, or 0 outside
     * the image, and every float up to {@code paddedFloats} past the planes is 0.
     */
    private static void pad(MemorySegment x, long image, ConvPanels.Geometry g, DirectLayout layout, float[] padded) {
        int c = g.c(), h = g.h(), w = g.w(), hp = layout.hp(), wp = layout.wp(), ph = g.ph(), pw = g.pw();
        int plane = hp * wp, planes = c * plane;
        if (ph == 0 && pw == 0 && hp == h && wp == w) {
            // the padded image is the image (LeNet's second convolution): one copy, then the tail
            MemorySegment.copy(x, F32, 4 * image, padded, 0, planes);
            java.util.Arrays.fill(padded, planes, layout.paddedFloats(), 0f);
            return;
        }
        java.util.Arrays.fill(padded, 0, layout.paddedFloats(), 0f);
        int rowFrom = ph, rowTo = (int) Math.min(hp, (long) h + ph);
        int n = (int) Math.min(wp, (long) w + pw) - pw;
        if (n <= 0) return;
        for (int ci = 0; ci < c; ci++) {
            for (int r = rowFrom; r < rowTo; r++) {
                MemorySegment.copy(x, F32, 4 * (image + ((long) ci * h + r - ph) * w), padded, ci * plane + r * wp + pw, n);
            }
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
        checkPacked(k, g, images, x, imageStride, out, outStride, (long) m * g.n());
    }

    /** The checks of {@link #checkPacked(int, int, ConvPanels.Geometry, int, MemorySegment, long, MemorySegment, long)} for images of {@code outFloats} output elements. */
    private static void checkPacked(int k, ConvPanels.Geometry g, int images, MemorySegment x, long imageStride,
                                    MemorySegment out, long outStride, long outFloats) {
        if (k != g.k()) throw new KilnException("conv: filters have " + k + " columns, the geometry needs c*kh*kw = " + g.k());
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
