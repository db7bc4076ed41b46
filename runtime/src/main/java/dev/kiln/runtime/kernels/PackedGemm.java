package dev.kiln.runtime.kernels;

import dev.kiln.ir.KilnException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.kiln.runtime.Elements.F32;

/**
 * Kiln's packed f32 GEMM in Java: row-major {@code C[m,n] = A[m,k] * op(B)} in the BLIS/GotoBLAS structure, with
 * an optional {@link RowEpilogue} run on each block of finished rows while they are in cache. op(B) is packed once
 * per call (or ahead of time, {@link PackedB}) into panels {@link #NR} columns wide and {@link #KC} deep; then for
 * each block of {@link #MC} rows of A and each K block, the block of A is packed into panels {@link #MR} rows
 * high, and every pair of panels goes through the {@link Microkernel}: B panel outer (it stays in L1), A panels
 * inner (the packed A block stays in L2). After the last K block a row block is final and its epilogue runs.
 * With more than one {@link Parallel} thread and enough work, row ranges (whole multiples of MR rows) go to the
 * pool's threads, each with its own packed-A scratch; packing B is split over panels the same way (segments
 * confined to the calling thread keep the whole call on it; the epilogue then runs there too). Nothing is
 * allocated on the Java heap in the steady state: the scratch is per thread and reused (a call from inside an
 * epilogue of the same thread gets a fresh one).
 *
 * <p>Blocking, measured on a 2-core Zen 5 (AVX-512, 16-float vectors, MR 6, NR 32; L1 48 KB, L2 1 MB): KC 256
 * (a B panel of 32 KB stays in L1) and MC 384 (a 384 KB A block in L2). With MC 96 each B panel, streamed from
 * L3 for every row block, served too few A panels: 1024^3 ran at 70-150 GFLOP/s against 180-185 with MC 384.
 * System properties {@code kiln.gemm.kc} and {@code kiln.gemm.mc} override them (MC is rounded to a multiple of
 * MR).
 */
public final class PackedGemm {
    static final Microkernel KERNEL = Microkernel.best();
    static final int MR = KERNEL.mr();
    static final int NR = KERNEL.nr();
    static final int KC = Math.max(1, Integer.getInteger("kiln.gemm.kc", 256));
    static final int MC = Math.max(1, Integer.getInteger("kiln.gemm.mc", 384) / MR) * MR;
    /** Rows of A the scratch block holds: MC, or a larger block size passed to {@link #compute} (tuning). */
    static final int MC_MAX = Math.max(MC, 480);
    /** Multiply-adds below which a call stays on the calling thread (forking costs more than it saves). */
    static final long PARALLEL_MACS = 1L << 21;
    /** Multiply-adds one parallel chunk should at least do. */
    private static final long CHUNK_MACS = 1L << 20;

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private PackedGemm() {}

    /** Per-thread reusable buffers: the packed A block, packed B for calls without a PackedB, an edge tile. */
    private static final class Scratch {
        final float[] a = new float[MC_MAX * KC];
        float[] b = new float[0];
        /** One B panel of a convolution ({@link #convolve}), and A packed whole when it was not packed ahead of time. */
        final float[] panel = new float[KC * NR];
        float[] whole = new float[0];
        /** A stride-2 convolution's images split into phases ({@link ConvPanels#phases}); native. */
        MemorySegment phases = MemorySegment.NULL;
        final ConvColumns conv = new ConvColumns();
        final MemorySegment edge = Arena.ofAuto().allocate((long) MR * NR * 4, 64);
        /** A group of images' unfolded pixels as row panels of A, and their output pixel-major; see {@link ConvColumns#byPixels}. */
        float[] pixelRows = new float[0];
        MemorySegment pixelMajor = MemorySegment.NULL;
        boolean busy;
    }

    /** The vector species' tile: {@code "8x32 (Vector API)"} or {@code "4x8 (plain Java)"}. */
    public static String kernel() {
        return MR + "x" + NR + (KERNEL instanceof PlainMicrokernel ? " (plain Java)" : " (Vector API)");
    }

    /**
     * Row-major {@code C = A * op(B)} (B {@code [n,k]} when {@code transB}, else {@code [k,n]}) on the packed Java
     * kernel, whatever the shape, then {@code epilogue} (may be null) on each block of finished rows. Same layout
     * and checks as {@link DirectGemm#sgemm}, which picks this kernel or another per shape.
     */
    public static void sgemm(int m, int n, int k, MemorySegment a, int lda, MemorySegment b, int ldb, boolean transB,
                             MemorySegment c, int ldc, RowEpilogue epilogue) {
        DirectGemm.check("sgemm", m, n, k, a, lda, b, ldb, transB, c, ldc, 4);
        if (DirectGemm.trivial(m, n, k, c, ldc, epilogue)) return;
        compute(m, n, k, a, lda, b, ldb, transB, c, ldc, epilogue);
    }

    /** {@code C = A * op(B)} with op(B) packed ahead of time, on the packed Java kernel; otherwise as above. */
    public static void sgemm(int m, int n, int k, MemorySegment a, int lda, PackedB b, MemorySegment c, int ldc,
                             RowEpilogue epilogue) {
        DirectGemm.checkPacked("sgemm", m, n, k, a, lda, b, c, ldc);
        if (DirectGemm.trivial(m, n, k, c, ldc, epilogue)) return;
        compute(m, n, k, a, lda, b, c, ldc, epilogue, MC);
    }

    /** The unchecked body of the first {@code sgemm}: sizes positive, arguments checked. */
    static void compute(int m, int n, int k, MemorySegment a, int lda, MemorySegment b, int ldb, boolean transB,
                        MemorySegment c, int ldc, RowEpilogue epilogue) {
        Scratch s = acquire();
        try {
            int panels = PackedB.ceilDiv(n, NR);
            int size = packedBSize("sgemm", k, n);
            if (s.b.length < size) s.b = new float[size];
            float[] bp = s.b;
            boolean parallel = parallel(m, n, k) && Parallel.shareable(a, b, c);
            if (parallel) {
                Parallel.forRange(panels, Math.max(1, CHUNK_MACS / Math.max(1L, (long) k * NR * 8)),
                        (p0, p1) -> packB(b, ldb, transB, k, n, bp, (int) p0, (int) p1));
            } else {
                packB(b, ldb, transB, k, n, bp, 0, panels);
            }
            run(m, n, k, a, lda, bp, c, ldc, epilogue, s, MC, parallel);
        } finally {
            s.busy = false;
        }
    }

    /** Rows of A a convolution keeps in L2 at once (its block of {@code rows x KC} floats): 512 KB. */
    private static final int CONV_ROWS = 512;

    /**
     * {@code C = A * B} for a convolution of {@code images} images, B each image's patch matrix ({@code g}: implicit
     * im2col, {@link ConvPanels}) or, when {@code g} is null, the image itself ({@code k x n} row-major, a pointwise
     * convolution). Image {@code i} starts at element {@code i * imageStride} of {@code image} and its output
     * ({@code m x n}, row stride {@code n}) at element {@code i * outStride} of {@code c}. A ({@code m x k},
     * contiguous) is packed whole up front unless packed ahead of time ({@code pa}). B is never materialised: each
     * {@code KC x NR} panel is unfolded right before the microkernel sweeps every row panel of A over it, so it is
     * written and read in L1; the images' panels are one sequence of columns, so a block of A (up to
     * {@link #CONV_ROWS} rows) stays in L2 across all images' panels rather than being streamed again per image.
     * Columns are split over the pool. With {@code byPixels} (when {@link #byPixels} says so) the roles turn:
     * {@code C^T = B^T * A^T}, the pixels as rows and the filters, transposed, as column panels
     * ({@link ConvColumns#byPixels}). The epilogue runs per block of finished rows, row {@code r} of image {@code i}
     * numbered {@code epilogueRows + i * epilogueImageRows + r}. Sizes positive, arguments checked.
     */
    static void convolve(int m, int n, int k, MemorySegment a, PackedA pa, int images, MemorySegment image,
                         long imageStride, ConvPanels.Geometry g, MemorySegment c, long outStride,
                         RowEpilogue epilogue, long epilogueRows, long epilogueImageRows, boolean byPixels) {
        if (byPixels && NR % MR != 0) throw new KilnException("conv: pixels as rows need MR (" + MR + ") to divide NR (" + NR + ")");
        Scratch s = acquire();
        try {
            float[] ap;
            int mPadded;
            if (byPixels) {
                // the filters transposed, as B's column panels
                mPadded = PackedB.ceilDiv(m, NR) * NR;
                if (pa != null) {
                    ap = pa.transposed();
                } else {
                    int size = packedBSize("conv", k, m);
                    if (s.b.length < size) s.b = new float[size];
                    ap = s.b;
                    packB(a, k, true, k, m, ap, 0, PackedB.ceilDiv(m, NR));
                }
            } else if (pa != null) {
                ap = pa.data;
                mPadded = pa.mPadded;
            } else {
                mPadded = PackedB.ceilDiv(m, MR) * MR;
                long size = (long) mPadded * k;
                if (size > Integer.MAX_VALUE - 16) throw new KilnException("conv: filters of " + m + " x " + k + " are too large to pack");
                if (s.whole.length < size) s.whole = new float[(int) size];
                ap = s.whole;
                for (int pc = 0; pc < k; pc += KC) packA(a, k, 0, m, pc, Math.min(KC, k - pc), ap, pc * mPadded);
            }
            boolean phased = g != null && g.phased();
            if (phased) {
                long floats = g.phasedImageFloats();
                if (s.phases.byteSize() < 4 * floats * images) s.phases = Arena.ofAuto().allocate(4 * floats * images, 64);
                splitPhases(g, images, image, imageStride, s.phases, m, k);
                image = s.phases;
                imageStride = floats;
            }
            ConvColumns cols = s.conv.set(m, n, k, ap, mPadded, images, image, imageStride, g, phased, c, outStride, epilogue,
                    epilogueRows, epilogueImageRows);
            if (byPixels) {
                long groups = PackedB.ceilDiv(images, cols.groupImages), tasks = groups * cols.channelPanels;
                if (!(parallel(m, (int) Math.min(Integer.MAX_VALUE, (long) n * images), k) && tasks > 1
                        && Parallel.shareable(pa == null ? a : null, image, c))) {
                    cols.byPixels(0, tasks, s);
                    return;
                }
                // whole groups per chunk for a batch, else the channel panels split once per thread: every chunk
                // unfolds its groups' patches (8 chunks of 2 channel panels made ResNet's 7x7 stage no faster on 2
                // threads than on 1)
                long unit = groups >= Parallel.threads() ? cols.channelPanels : 1;
                long minUnits = groups >= Parallel.threads() ? 1 : Math.max(1, tasks / Parallel.threads());
                Thread caller = Thread.currentThread();
                Parallel.forRange(tasks / unit, minUnits, (u0, u1) -> {
                    boolean own = Thread.currentThread() == caller;
                    Scratch t = own ? s : acquire();
                    try {
                        cols.byPixels(u0 * unit, u1 * unit, t);
                    } finally {
                        if (!own) t.busy = false;
                    }
                });
                return;
            }
            long panels = (long) images * cols.panelsPerImage;
            if (!(parallel(m, (int) Math.min(Integer.MAX_VALUE, (long) n * images), k) && panels > 1
                    && Parallel.shareable(pa == null ? a : null, image, c))) {
                cols.run(0, panels, true, s);
                return;
            }
            long minPanels = Math.max(1, CHUNK_MACS / ((long) m * k * NR));
            Thread caller = Thread.currentThread();
            Parallel.forRange(panels, minPanels, (p0, p1) -> {
                // the caller's chunks reuse its scratch (only its panel and edge buffers are touched here)
                boolean own = Thread.currentThread() == caller;
                Scratch t = own ? s : acquire();
                try {
                    cols.run(p0, p1, false, t);
                } finally {
                    if (!own) t.busy = false;
                }
            });
            if (epilogue != null) {
                Parallel.forRange((long) images * m, Math.max(1, Parallel.PARALLEL_THRESHOLD / n), (r0, r1) -> {
                    for (long r = r0; r < r1; ) {
                        long img = r / m, end = Math.min(r1, (img + 1) * m);
                        long first = epilogueRows + img * epilogueImageRows - img * m;
                        epilogue.rows(first + r, first + end);
                        r = end;
                    }
                });
            }
        } finally {
            s.conv.clear();
            s.busy = false;
        }
    }

    /** The stride-2 phases of every image ({@link ConvPanels#phases}), channels split over the pool when the convolution is. */
    private static void splitPhases(ConvPanels.Geometry g, int images, MemorySegment image, long imageStride, MemorySegment phases,
                                    int m, int k) {
        int c = g.c();
        long floats = g.phasedImageFloats();
        if (!(parallel(m, (int) Math.min(Integer.MAX_VALUE, (long) g.n() * images), k) && (long) images * c > 1
                && Parallel.shareable(image))) {
            for (int i = 0; i < images; i++) ConvPanels.phases(g, image, i * imageStride, phases, i * floats);
            return;
        }
        long minChannels = Math.max(1, Parallel.PARALLEL_THRESHOLD / Math.max(1, floats / c));
        Parallel.forRange((long) images * c, minChannels, (p0, p1) -> {
            for (long p = p0; p < p1; ) {
                int img = (int) (p / c), c0 = (int) (p - (long) img * c), c1 = (int) Math.min(c, c0 + (p1 - p));
                ConvPanels.phases(g, image, img * imageStride, phases, img * floats, c0, c1);
                p += c1 - c0;
            }
        });
    }

    /**
     * {@code C = A * B} for A packed ahead ({@code m x k}) and B already in packed panels ({@code bp}, {@link #packB}'s
     * layout for {@code k x n}), C row-major with row stride {@code ldc} floats from byte {@code cOffset}; on the
     * calling thread. The GEMMs of a Winograd convolution ({@link Winograd}), whose B is written in panels directly.
     */
    static void multiplyPacked(PackedA a, float[] bp, int n, MemorySegment c, long cOffset, int ldc) {
        int m = a.m, k = a.k, panels = PackedB.ceilDiv(n, NR), nPadded = panels * NR;
        long ldcBytes = ldc * 4L;
        Scratch s = acquire();
        try {
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                boolean accumulate = pc > 0;
                for (int jp = 0; jp < panels; jp++) {
                    int j = jp * NR;
                    sweep(kc, a.data, pc * a.mPadded, m, bp, pc * nPadded + jp * kc * NR, Math.min(NR, n - j), c,
                            cOffset + j * 4L, ldcBytes, accumulate, s.edge);
                }
            }
        } finally {
            s.busy = false;
        }
    }

    /**
     * Whether a convolution of {@code images} images with {@code m} output channels of {@code n} pixels and {@code k}
     * patch rows wastes less of the microkernel with the pixels as the GEMM's rows ({@code out^T = patches^T *
     * filters^T}; a group's pixels rounded to MR) and the channels as its columns (rounded to NR) than the other way
     * round (each image's pixels rounded to NR), counting the final transpose as 100 multiply-adds an element: small
     * images with many patch rows, such as ResNet's last stage (7x7 = 49 pixels take two panels of 32 columns, 77%
     * used, but seven tiles of 8 rows, 88% used; a batch's pixels fill every tile).
     */
    static boolean byPixels(int m, int n, int k, int images) {
        if (NR % MR != 0 || n > BY_PIXELS_MAX || images < 1) return false;
        long asIs = (long) images * PackedB.ceilDiv(n, NR) * NR * PackedB.ceilDiv(m, MR) * MR * k;
        int groups = groups(n, images), groupImages = PackedB.ceilDiv(images, groups);
        long rows = (long) (images / groupImages) * PackedB.ceilDiv(groupImages * n, MR) * MR
                + PackedB.ceilDiv(images % groupImages * n, MR) * MR;
        long byPixels = rows * PackedB.ceilDiv(m, NR) * NR * k + 100L * images * n * m;
        return byPixels * 20 < asIs * 19;
    }

    /** Groups of images {@link #byPixels} computes a batch in: as few as keep each group's pixels at most BY_PIXELS_MAX. */
    static int groups(int n, int images) {
        return PackedB.ceilDiv(images, Math.max(1, BY_PIXELS_MAX / Math.max(1, n)));
    }

    /**
     * Pixels above which {@link #byPixels} is not considered, and the most pixels of a batch's images unfolded at once
     * (one K block of them, 512 KB, stays in L2).
     */
    private static final int BY_PIXELS_MAX = 512;

    /** Bytes of packed A small enough for L2 that a convolution finishes each column panel of C before the next. */
    private static final long CONV_A_IN_L2 = 512 * 1024;

    /**
     * One {@link #convolve} call's operands, held by the calling thread's scratch and reset per call (so a warm call
     * allocates nothing); {@link #run} computes a range of its column panels, all images in turn. Pool threads only
     * read it, while the call that set it waits for them.
     */
    private static final class ConvColumns {
        private int m, n, k, mPadded, panelsPerImage, channelPanels, rowBlock, images, groupImages;
        private float[] ap;
        private MemorySegment image, c;
        private long imageStride, outStride, epilogueRows, epilogueImageRows;
        private ConvPanels.Geometry g;
        /** Whether {@code image} holds the images' stride-2 phases rather than the images. */
        private boolean phased;
        private RowEpilogue epilogue;

        ConvColumns set(int m, int n, int k, float[] ap, int mPadded, int images, MemorySegment image, long imageStride,
                        ConvPanels.Geometry g, boolean phased, MemorySegment c, long outStride, RowEpilogue epilogue, long epilogueRows,
                        long epilogueImageRows) {
            this.m = m;
            this.n = n;
            this.k = k;
            this.ap = ap;
            this.mPadded = mPadded;
            this.image = image;
            this.imageStride = imageStride;
            this.g = g;
            this.phased = phased;
            this.c = c;
            this.outStride = outStride;
            this.epilogue = epilogue;
            this.epilogueRows = epilogueRows;
            this.epilogueImageRows = epilogueImageRows;
            this.panelsPerImage = PackedB.ceilDiv(n, NR);
            this.channelPanels = PackedB.ceilDiv(m, NR);
            this.images = images;
            this.groupImages = PackedB.ceilDiv(images, Math.max(1, groups(n, images)));
            int blocks = PackedB.ceilDiv(m, CONV_ROWS);
            this.rowBlock = PackedB.ceilDiv(PackedB.ceilDiv(m, blocks), MR) * MR;
            return this;
        }

        /** Drops the references to this call's operands. */
        void clear() {
            ap = null;
            image = c = null;
            g = null;
            epilogue = null;
        }

        /**
         * Global panels {@code [p0, p1)} (panel {@code p} is panel {@code p % panelsPerImage} of image
         * {@code p / panelsPerImage}), every row. When all of A fits in L2 (few channels, ResNet's first stages), panel
         * by panel through every K block, so the panel's columns of C stay in L1 and the image is read once;
         * otherwise K block by K block, so each block of A stays in L2 across all panels. With {@code epilogue}, the
         * range is all panels and the epilogue runs as rows finish.
         */
        void run(long p0, long p1, boolean withEpilogue, Scratch s) {
            RowEpilogue e = withEpilogue ? epilogue : null;
            if ((long) mPadded * k * 4 <= CONV_A_IN_L2) {
                for (long p = p0; p < p1; p++) {
                    for (int pc = 0; pc < k; pc += KC) panel(p, pc, 0, m, s);
                }
                if (e != null) finished(0, m, p0, p1, e);
                return;
            }
            for (int ic = 0; ic < m; ic += rowBlock) {
                int mc = Math.min(rowBlock, m - ic);
                for (int pc = 0; pc < k; pc += KC) {
                    for (long p = p0; p < p1; p++) panel(p, pc, ic, mc, s);
                }
                if (e != null) finished(ic, ic + mc, p0, p1, e);
            }
        }

        /** The epilogue of rows {@code [r0, r1)} of every image with panels in {@code [p0, p1)}. */
        private void finished(int r0, int r1, long p0, long p1, RowEpilogue e) {
            for (long img = p0 / panelsPerImage; img <= (p1 - 1) / panelsPerImage; img++) {
                long first = epilogueRows + img * epilogueImageRows;
                e.rows(first + r0, first + r1);
            }
        }

        /** Unfolds global panel {@code p} of the K block at {@code pc} and sweeps rows {@code [ic, ic + mc)} of A over it. */
        private void panel(long p, int pc, int ic, int mc, Scratch s) {
            long img = p / panelsPerImage;
            int jp = (int) (p - img * panelsPerImage);
            int kc = Math.min(KC, k - pc), j = jp * NR, nr = Math.min(NR, n - j);
            unfold(img, jp, pc, kc, s.panel);
            sweep(kc, ap, pc * mPadded + ic * kc, mc, s.panel, 0, nr, c, (img * outStride + (long) ic * n + j) * 4L,
                    n * 4L, pc > 0, s.edge);
        }

        /** Panel {@code jp} of image {@code img}'s patch matrix, rows {@code [pc, pc + kc)}, into {@code panel}. */
        private void unfold(long img, int jp, int pc, int kc, float[] panel) {
            long imageBase = img * imageStride;
            if (phased) ConvPanels.packPhasedPanel(g, image, imageBase, pc, kc, jp, panel, 0);
            else if (g != null) ConvPanels.packPanel(g, image, imageBase, pc, kc, jp, panel, 0);
            else KERNEL.packPanel(image, (imageBase + (long) pc * n + jp * NR) * 4L, n * 4L, kc, Math.min(NR, n - jp * NR), panel, 0);
        }

        /**
         * Tasks {@code [t0, t1)} with the pixels as rows ({@link #byPixels}; {@code ap} holds the filters transposed,
         * in column panels): task {@code t} is channel panel {@code t % channelPanels} of the group of images
         * {@code t / channelPanels} ({@link #groupImages} images each, the last group fewer). Per group and K block,
         * every patch panel of its images is unfolded and regrouped into row panels, one image's pixels after the
         * other's (all the group's rows, in L2), then each channel panel of filters (in L1) is swept by all of them into
         * the scratch's pixel-major output. That is finally transposed into the images' output rows, and the epilogue
         * runs on those rows.
         */
        void byPixels(long t0, long t1, Scratch s) {
            for (long t = t0; t < t1; ) {
                long group = t / channelPanels;
                int q0 = (int) (t - group * channelPanels), q1 = (int) Math.min(channelPanels, q0 + (t1 - t));
                groupByPixels(group * groupImages, Math.min(images, (group + 1) * groupImages), q0, q1, s);
                t += q1 - q0;
            }
        }

        private void groupByPixels(long i0, long i1, int q0, int q1, Scratch s) {
            int rowCount = (int) ((i1 - i0) * n);
            long bytes = 4L * rowCount * m;
            if (s.pixelMajor.byteSize() < bytes) s.pixelMajor = Arena.ofAuto().allocate(bytes, 64);
            MemorySegment major = s.pixelMajor;
            long ldBytes = 4L * m;
            int size = (PackedB.ceilDiv(rowCount, MR) * MR) * KC;
            if (s.pixelRows.length < size) s.pixelRows = new float[size];
            float[] rows = s.pixelRows;
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                for (long img = i0; img < i1; img++) {
                    for (int jp = 0; jp < panelsPerImage; jp++) {
                        unfold(img, jp, pc, kc, s.panel);
                        rowPanels(s.panel, kc, Math.min(NR, n - jp * NR), rows, (int) ((img - i0) * n) + jp * NR, rowCount);
                    }
                }
                for (int q = q0; q < q1; q++) {
                    int j = q * NR;
                    sweep(kc, rows, 0, rowCount, ap, pc * mPadded + q * kc * NR, Math.min(NR, m - j), major, j * 4L,
                            ldBytes, pc > 0, s.edge);
                }
            }
            // each panel of channels transposed, then its epilogue while it is in L1
            for (long img = i0; img < i1; img++) {
                long out = img * outStride, from = (img - i0) * n * m, first = epilogueRows + img * epilogueImageRows;
                for (int q = q0; q < q1; q++) {
                    int c0 = q * NR, c1 = Math.min(m, c0 + NR);
                    for (int ch = c0; ch < c1; ch++) {
                        long row = out + (long) ch * n;
                        for (int px = 0; px < n; px++) c.setAtIndex(F32, row + px, major.getAtIndex(F32, from + (long) px * m + ch));
                    }
                    if (epilogue != null) epilogue.rows(first + c0, first + c1);
                }
            }
        }
    }

    /**
     * Regroups the first {@code rows} columns of a {@code kc x NR} panel into rows {@code [row0, row0 + rows)} of A
     * in row panels ({@link #packA}'s layout); rows from {@code rowCount} up to the next multiple of MR are zero.
     */
    private static void rowPanels(float[] panel, int kc, int rows, float[] dst, int row0, int rowCount) {
        int r = 0;
        if (row0 % MR == 0) {
            // whole row panels: MR contiguous floats of each k step of the panel, copied as they are
            for (; r + MR <= rows; r += MR) {
                int at = (row0 + r) * kc;
                for (int p = 0; p < kc; p++) {
                    int from = p * NR + r, to = at + p * MR;
                    for (int i = 0; i < MR; i++) dst[to + i] = panel[from + i];
                }
            }
        }
        for (; r < rows; r++) {
            int row = row0 + r, at = (row - row % MR) * kc + row % MR;
            for (int p = 0; p < kc; p++) dst[at + p * MR] = panel[p * NR + r];
        }
        if (row0 + rows == rowCount) {
            for (int row = rowCount; row % MR != 0; row++) {
                int at = (row - row % MR) * kc + row % MR;
                for (int p = 0; p < kc; p++) dst[at + p * MR] = 0f;
            }
        }
    }

    /** The unchecked body of the PackedB {@code sgemm}, with row blocks of {@code mc} (a multiple of MR). */
    static void compute(int m, int n, int k, MemorySegment a, int lda, PackedB b, MemorySegment c, int ldc,
                        RowEpilogue epilogue, int mc) {
        Scratch s = acquire();
        try {
            run(m, n, k, a, lda, b.data, c, ldc, epilogue, s, mc, parallel(m, n, k) && Parallel.shareable(a, null, c));
        } finally {
            s.busy = false;
        }
    }

    private static Scratch acquire() {
        Scratch s = SCRATCH.get();
        if (s.busy) s = new Scratch();
        s.busy = true;
        return s;
    }

    /** Whether to split over the pool: more than one thread, enough work, rows to split. */
    static boolean parallel(int m, int n, int k) {
        return Parallel.threads() > 1 && (long) m * n * k >= PARALLEL_MACS && m > MR;
    }

    /** Splits rows over the pool (or not) and computes them against the packed B. */
    private static void run(int m, int n, int k, MemorySegment a, int lda, float[] bp, MemorySegment c, int ldc,
                            RowEpilogue epilogue, Scratch callerScratch, int mcBlock, boolean parallel) {
        if (!parallel) {
            rows(0, m, n, k, a, lda, bp, c, ldc, epilogue, callerScratch, mcBlock);
            return;
        }
        int rowPanels = PackedB.ceilDiv(m, MR);
        long minPanels = Math.max(1, CHUNK_MACS / ((long) MR * n * k));
        Thread caller = Thread.currentThread();
        Parallel.forRange(rowPanels, minPanels, (p0, p1) -> {
            // the caller's chunks reuse its scratch (rows touch its A block and edge tile, not the packed B)
            boolean own = Thread.currentThread() == caller;
            Scratch s = own ? callerScratch : acquire();
            try {
                rows((int) p0 * MR, (int) Math.min(m, p1 * MR), n, k, a, lda, bp, c, ldc, epilogue, s, mcBlock);
            } finally {
                if (!own) s.busy = false;
            }
        });
    }

    /** Rows {@code [r0, r1)} of C, block by block of MC rows, each followed by its epilogue. */
    private static void rows(int r0, int r1, int n, int k, MemorySegment a, int lda, float[] bp, MemorySegment c,
                             int ldc, RowEpilogue epilogue, Scratch s, int mcBlock) {
        int panels = PackedB.ceilDiv(n, NR);
        int nPadded = panels * NR;
        long ldcBytes = ldc * 4L;
        float[] ap = s.a;
        for (int ic = r0; ic < r1; ic += mcBlock) {
            int mc = Math.min(mcBlock, r1 - ic);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                boolean accumulate = pc > 0;
                packA(a, lda, ic, mc, pc, kc, ap, 0);
                for (int jp = 0; jp < panels; jp++) {
                    int j = jp * NR;
                    sweep(kc, ap, 0, mc, bp, pc * nPadded + jp * kc * NR, Math.min(NR, n - j), c, ((long) ic * ldc + j) * 4L,
                            ldcBytes, accumulate, s.edge);
                }
            }
            if (epilogue != null) epilogue.rows(ic, ic + mc);
        }
    }

    /**
     * Sweeps the row panels of A covering {@code mc} rows (from {@code ao}, {@code kc * MR} floats each) over one B
     * panel ({@code bp} from {@code bo}, {@code nr} valid columns) into the C tile column from byte {@code co}: full
     * tiles on the microkernel, the rest through {@link #edgeTile}. The inner loop of every packed product here.
     */
    private static void sweep(int kc, float[] ap, int ao, int mc, float[] bp, int bo, int nr, MemorySegment c, long co,
                              long ldcBytes, boolean accumulate, MemorySegment edge) {
        for (int ir = 0; ir < mc; ir += MR) {
            int mr = Math.min(MR, mc - ir);
            if (mr == MR && nr == NR) KERNEL.tile(kc, ap, ao + ir * kc, bp, bo, c, co + ir * ldcBytes, ldcBytes, accumulate);
            else edgeTile(kc, ap, ao + ir * kc, bp, bo, c, co + ir * ldcBytes, ldcBytes, accumulate, mr, nr, edge);
        }
    }

    /** A tile reaching past m or n: computed whole in the scratch tile, then its valid part copied to C. */
    private static void edgeTile(int kc, float[] ap, int ao, float[] bp, int bo, MemorySegment c, long co,
                                 long ldcBytes, boolean accumulate, int mr, int nr, MemorySegment edge) {
        long ldt = NR * 4L;
        if (accumulate) {
            for (int r = 0; r < mr; r++) MemorySegment.copy(c, co + r * ldcBytes, edge, r * ldt, nr * 4L);
        }
        KERNEL.tile(kc, ap, ao, bp, bo, edge, 0, ldt, accumulate);
        for (int r = 0; r < mr; r++) MemorySegment.copy(edge, r * ldt, c, co + r * ldcBytes, nr * 4L);
    }

    /**
     * Packs rows {@code [ic, ic + mc)} and columns {@code [pc, pc + kc)} of A into panels of MR rows, k-major
     * from {@code to} ({@code ap[to + panel * kc * MR + p * MR + r]}), rows past the block zero.
     */
    static void packA(MemorySegment a, int lda, int ic, int mc, int pc, int kc, float[] ap, int to) {
        for (int ir = 0; ir < mc; ir += MR) {
            KERNEL.packRows(a, ((long) (ic + ir) * lda + pc) * 4L, lda * 4L, Math.min(MR, mc - ir), kc, ap, to + ir * kc);
        }
    }

    /** Floats of packed op(B) ({@code k x n}): whole panels of NR columns; throws if more than one array holds. */
    static int packedBSize(String op, int k, int n) {
        long size = (long) k * PackedB.ceilDiv(n, NR) * NR;
        if (size > Integer.MAX_VALUE - 16) {
            throw new KilnException(op + ": op(B) of " + k + " x " + n + " is too large to pack ("
                    + size + " floats after padding to panels of " + NR + " columns; at most " + (Integer.MAX_VALUE - 16) + ")");
        }
        return (int) size;
    }

    /**
     * Packs column panels {@code [p0, p1)} of op(B) for every K block: the block starting at row {@code pc} begins
     * at {@code pc * nPadded}; in it, panel {@code jp} holds {@code kc x NR} floats k-major from
     * {@code jp * kc * NR}; columns past n are zero.
     */
    static void packB(MemorySegment b, int ldb, boolean transB, int k, int n, float[] bp, int p0, int p1) {
        int nPadded = PackedB.ceilDiv(n, NR) * NR;
        for (int pc = 0; pc < k; pc += KC) {
            int kc = Math.min(KC, k - pc);
            for (int jp = p0; jp < p1; jp++) {
                int j = jp * NR;
                int cols = Math.min(NR, n - j);
                int base = pc * nPadded + jp * kc * NR;
                if (!transB) {
                    KERNEL.packPanel(b, ((long) pc * ldb + j) * 4L, ldb * 4L, kc, cols, bp, base);
                    continue;
                }
                // B is [n, k]: column j of op(B) is row j of B, read along k
                for (int col = 0; col < cols; col++) {
                    long row = ((long) (j + col) * ldb + pc) * 4L;
                    for (int p = 0; p < kc; p++) bp[base + p * NR + col] = b.get(F32, row + p * 4L);
                }
                for (int p = 0; p < kc; p++) {
                    for (int col = cols; col < NR; col++) bp[base + p * NR + col] = 0f;
                }
            }
        }
    }
}
