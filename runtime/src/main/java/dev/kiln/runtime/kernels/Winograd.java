package dev.kiln.runtime.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.kiln.runtime.Elements.F32;

/**
 * 3x3 stride-1 convolutions by Winograd's minimal filtering F(2x2, 3x3): each 2x2 block of outputs (a tile) comes
 * from a 4x4 block of input through {@code Y = A^T [(G g G^T) . (B^T d B)] A}, so that the multiplications become
 * 16 GEMMs ({@code m x c} transformed filters times {@code c x tiles} transformed inputs, one per position of the
 * 4x4 transform) with 16 multiply-adds per tile and channel pair instead of 36: 2.25 times fewer. The transforms
 * are additions only ({@link WinogradTransforms}); the filter transform (halves) is done once per filter set, in
 * double and rounded once.
 *
 * <p>Tiles are numbered over a grid one column wider than the output's tiles ({@code wp = ceil(ow/2) + 1}), so
 * that the input of tile {@code t} is read from the four phase planes of the zero-padded image (even or odd rows
 * and columns) at {@code t} plus a constant per element: a vector of tiles is one load per element, and the extra
 * column's tiles are computed and dropped. Each image's tile count is rounded up to a multiple of 16 so that
 * vectors of tiles never straddle a GEMM panel.
 *
 * <p>Numerics: not bit-identical to the direct convolution (the transforms reassociate sums); errors stay within a
 * few ulps of {@code sum |w| |x|} per output (see {@code WinogradPropertyTest}).
 */
public final class Winograd {
    private Winograd() {}

    /**
     * Tiles per image at least: a 14 x 14 output has 56 (7 rows of 8) and does 2 times fewer multiply-adds than the
     * direct convolution; a 7 x 7 one has 20, padded to a 32-column panel, and gains too little over it.
     */
    private static final int MIN_TILES = 48;

    /** Tiles per image at most (a 128 x 128 output), which bounds the scratch: 16 x channels x tiles floats, twice. */
    private static final int MAX_TILES = 64 * 65 + 16;

    /** Tiles of one image rounded up to this, the widest vector of tiles. */
    private static final int TILE_ALIGN = 16;

    /**
     * Whether a convolution of {@code m} output channels takes this path: 3x3, stride 1, dilation 1, padding at
     * most 2, from {@link #MIN_TILES} to {@link #MAX_TILES} tiles per image, on the Vector API, and enough channels
     * that the GEMMs outweigh the transforms: per tile, the input transform costs as c channels, the output one as
     * m, the GEMMs as m*c, so {@code 1/m + 1/c <= 1/24}. Measured (1 thread, 56 x 56 down to 14 x 14): 64 in and out
     * 11% faster than the direct convolution, 128 33%, 256 53%, 32 in and 128 out 20%; 32 and 32 13% slower, 16 in
     * and 64 out 37% slower.
     */
    static boolean applies(int m, ConvPanels.Geometry g) {
        return WinogradTransforms.VECTOR != null && g.kh() == 3 && g.kw() == 3 && g.sh() == 1 && g.sw() == 1
                && g.dh() == 1 && g.dw() == 1 && g.ph() <= 2 && g.pw() <= 2 && 24L * (m + g.c()) <= (long) m * g.c()
                && (long) tileRows(g) * tileGridWidth(g) >= MIN_TILES
                && tilesPerImage(g) <= MAX_TILES
                && (long) g.c() * 4 * planeFloats(g) < Integer.MAX_VALUE / 2
                && (long) 16 * Math.max(m, g.c()) * tilesPerImage(g) < Integer.MAX_VALUE / 2;
    }

    private static int tileRows(ConvPanels.Geometry g) {
        return (g.oh() + 1) / 2;
    }

    /** Tiles per row of the grid: the output's, plus one column. */
    private static int tileGridWidth(ConvPanels.Geometry g) {
        return (g.ow() + 1) / 2 + 1;
    }

    private static int tilesPerImage(ConvPanels.Geometry g) {
        return PackedB.ceilDiv(tileRows(g) * tileGridWidth(g), TILE_ALIGN) * TILE_ALIGN;
    }

    /** Floats of one phase plane: rows and columns for every tile's reads, past the last tile by a vector and a row. */
    private static int planeFloats(ConvPanels.Geometry g) {
        int wp = tileGridWidth(g);
        return PackedB.ceilDiv(tilesPerImage(g) + wp + 1 + TILE_ALIGN, TILE_ALIGN) * TILE_ALIGN;
    }

    /** Transformed filters: {@code G g G^T} for each output and input channel, as 16 packed {@code m x c} matrices. */
    static final class Filters {
        final PackedA[] u = new PackedA[16];

        /** From filters {@code m x c*9} (row-major) read through {@code filter(o, kk)}. */
        Filters(int m, int c, FilterSource filter) {
            float[][] rows = new float[16][m * c];
            double[] g = new double[9];
            for (int o = 0; o < m; o++) {
                for (int ci = 0; ci < c; ci++) {
                    for (int t = 0; t < 9; t++) g[t] = filter.get(o, ci * 9 + t);
                    // G g (4x3), then (G g) G^T (4x4); G = [[1,0,0],[1/2,1/2,1/2],[1/2,-1/2,1/2],[0,0,1]]
                    double[] gg = new double[12];
                    for (int j = 0; j < 3; j++) {
                        double a = g[j], b = g[3 + j], d = g[6 + j];
                        gg[j] = a;
                        gg[3 + j] = (a + b + d) / 2;
                        gg[6 + j] = (a - b + d) / 2;
                        gg[9 + j] = d;
                    }
                    for (int i = 0; i < 4; i++) {
                        double a = gg[3 * i], b = gg[3 * i + 1], d = gg[3 * i + 2];
                        int at = o * c + ci;
                        rows[4 * i][at] = (float) a;
                        rows[4 * i + 1][at] = (float) ((a + b + d) / 2);
                        rows[4 * i + 2][at] = (float) ((a - b + d) / 2);
                        rows[4 * i + 3][at] = (float) d;
                    }
                }
            }
            for (int xi = 0; xi < 16; xi++) u[xi] = PackedA.ofRows(rows[xi], m, c);
        }
    }

    /** Element {@code (o, kk)} of an {@code m x c*9} filter matrix. */
    interface FilterSource {
        float get(int o, int kk);
    }

    /** The transformed form of prepacked filters, made once and kept on them. */
    static Filters filters(PackedA pa, ConvPanels.Geometry g) {
        Filters f = pa.winograd;
        if (f == null) pa.winograd = f = new Filters(pa.m, g.c(), pa::get);
        return f;
    }

    /** The transformed form of filters {@code m x c*9} in a native segment (eager calls). */
    static Filters filters(int m, MemorySegment a, ConvPanels.Geometry g) {
        int k = g.k();
        return new Filters(m, g.c(), (o, kk) -> a.getAtIndex(F32, (long) o * k + kk));
    }

    /** Per-thread buffers reused across calls: phase planes, transformed inputs, GEMM outputs, one chunk of outputs. */
    private static final class Scratch {
        float[] planes = new float[0];
        final float[][] v = new float[16][0];
        /** The GEMMs' outputs, native: the microkernel's stores to a heap segment took 13% of ResNet-18's run. */
        MemorySegment m = MemorySegment.NULL;
        boolean busy;
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /**
     * The convolution of {@link DirectConv#packedF32}'s arguments (already checked) by F(2x2, 3x3), image by image;
     * the epilogue runs per block of finished output channels.
     */
    static void convolve(int m, Filters f, ConvPanels.Geometry g, int images, MemorySegment x, long imageStride,
                         MemorySegment out, long outStride, RowEpilogue epilogue, long epilogueRows, long epilogueImageRows) {
        boolean parallel = Parallel.threads() > 1 && Parallel.shareable(x, out);
        if (parallel && images >= 2 * Parallel.threads()) {
            // a batch: whole images per thread, each on its own scratch (no barriers between the three steps)
            Parallel.forRange(images, 1, (i0, i1) -> images(m, f, g, (int) i0, (int) i1, x, imageStride, out, outStride,
                    epilogue, epilogueRows, epilogueImageRows, false));
        } else {
            images(m, f, g, 0, images, x, imageStride, out, outStride, epilogue, epilogueRows, epilogueImageRows, parallel);
        }
    }

    /** Images {@code [i0, i1)}, each step of each image split over the pool when {@code parallel}. */
    private static void images(int m, Filters f, ConvPanels.Geometry g, int i0, int i1, MemorySegment x, long imageStride,
                               MemorySegment out, long outStride, RowEpilogue epilogue, long epilogueRows,
                               long epilogueImageRows, boolean parallel) {
        WinogradTransforms tr = WinogradTransforms.VECTOR;
        int c = g.c(), tiles = tilesPerImage(g), plane = planeFloats(g);
        Scratch s = SCRATCH.get();
        if (s.busy) s = new Scratch();
        s.busy = true;
        try {
            if (s.planes.length < c * 4 * plane) s.planes = new float[c * 4 * plane];
            int vSize = PackedGemm.packedBSize("conv", c, tiles);
            for (int xi = 0; xi < 16; xi++) if (s.v[xi].length < vSize) s.v[xi] = new float[vSize];
            if (s.m.byteSize() < 64L * m * tiles) s.m = Arena.ofAuto().allocate(64L * m * tiles, 64);
            Scratch sc = s;
            for (int img = i0; img < i1; img++) {
                long xBase = img * imageStride, oBase = img * outStride, first = epilogueRows + img * epilogueImageRows;
                // input transform by channels, the 16 GEMMs, output transform and epilogue by output channels; on
                // the pool when it has threads (the lambdas only then: a warm serial call allocates nothing)
                if (parallel) {
                    Parallel.forRange(c, 1, (c0, c1) -> inputs(tr, g, x, xBase, sc, (int) c0, (int) c1));
                    Parallel.forRange(16, 1, (x0, x1) -> products(f, sc, m, tiles, (int) x0, (int) x1));
                    Parallel.forRange(m, 1, (o0, o1) -> outputs(tr, g, sc, m, tiles, out, oBase, epilogue, first, (int) o0, (int) o1));
                } else {
                    inputs(tr, g, x, xBase, sc, 0, c);
                    products(f, sc, m, tiles, 0, 16);
                    outputs(tr, g, sc, m, tiles, out, oBase, epilogue, first, 0, m);
                }
            }
        } finally {
            s.busy = false;
        }
    }

    /** Phase planes and input transform of channels {@code [c0, c1)}. */
    private static void inputs(WinogradTransforms tr, ConvPanels.Geometry g, MemorySegment x, long xBase, Scratch s, int c0, int c1) {
        int c = g.c(), tiles = tilesPerImage(g), wp = tileGridWidth(g), plane = planeFloats(g);
        int nPadded = PackedB.ceilDiv(tiles, PackedGemm.NR) * PackedGemm.NR;
        for (int ci = c0; ci < c1; ci++) {
            phasePlanes(g, x, xBase + (long) ci * g.h() * g.w(), s.planes, ci * 4 * plane, plane, wp);
            int pc = ci / PackedGemm.KC * PackedGemm.KC, kc = Math.min(PackedGemm.KC, c - pc);
            tr.input(s.planes, ci * 4 * plane, plane, wp, tiles, s.v, pc * nPadded + (ci - pc) * PackedGemm.NR, kc * PackedGemm.NR, 0);
        }
    }

    /** GEMMs {@code [x0, x1)}: transformed filters times transformed inputs. */
    private static void products(Filters f, Scratch s, int m, int tiles, int x0, int x1) {
        for (int xi = x0; xi < x1; xi++) PackedGemm.multiplyPacked(f.u[xi], s.v[xi], tiles, s.m, 4L * xi * m * tiles, tiles);
    }

    /** Output floats the epilogue follows the output transform by: 16 KB, still in L1 when it runs. */
    private static final int EPILOGUE_FLOATS = 4096;

    /**
     * Output transform of output channels {@code [o0, o1)}, each few channels followed by their epilogue while they
     * are in L1 (after the whole range, the epilogue read ResNet-18's first stage back from L3: 6% of its time).
     */
    private static void outputs(WinogradTransforms tr, ConvPanels.Geometry g, Scratch s, int m, int tiles, MemorySegment out,
                                long oBase, RowEpilogue epilogue, long first, int o0, int o1) {
        int wp = tileGridWidth(g), n = g.n(), block = Math.max(1, EPILOGUE_FLOATS / Math.max(1, n));
        for (int from = o0; from < o1; from += block) {
            int to = Math.min(o1, from + block);
            for (int o = from; o < to; o++) outputChannel(tr, g, s.m, o * tiles, m * tiles, tiles, wp, out, oBase + (long) o * n);
            if (epilogue != null) epilogue.rows(first + from, first + to);
        }
    }

    /**
     * The four phase planes of one channel of the zero-padded image: plane {@code (py, px)} holds padded element
     * {@code (2r + py, 2q + px)} at {@code r * wp + q}; everything else in the planes is 0.
     */
    private static void phasePlanes(ConvPanels.Geometry g, MemorySegment x, long base, float[] planes, int at, int plane, int wp) {
        int h = g.h(), w = g.w(), ph = g.ph(), pw = g.pw();
        java.util.Arrays.fill(planes, at, at + 4 * plane, 0f);
        F32Windows vector = F32Windows.VECTOR;
        for (int py = 0; py < 2; py++) {
            for (int px = 0; px < 2; px++) {
                int dst = at + (2 * py + px) * plane;
                // padded column 2q + px is input column 2q + px - pw: q from q0 (first inside) to q1 (last + 1)
                int q0 = Math.max(0, (pw - px + 1) / 2), q1 = Math.min(wp, (w + pw - px + 1) / 2);
                if (q1 <= q0) continue;
                for (int r = 0; ; r++) {
                    int y = 2 * r + py - ph;
                    if (y >= h || (long) (r + 1) * wp > plane) break;
                    if (y < 0) continue;
                    long src = base + (long) y * w + 2L * q0 + px - pw;
                    int to = dst + r * wp + q0, n = q1 - q0;
                    int done = vector.everySecond(x, src, planes, to, n);
                    for (int q = done; q < n; q++) planes[to + q] = x.getAtIndex(F32, src + 2L * q);
                }
            }
        }
    }

    /** Output transform of one output channel: every real tile's 2x2 outputs, clipped to the output. */
    private static void outputChannel(WinogradTransforms tr, ConvPanels.Geometry g, MemorySegment m, long base, long xiStride,
                                      int tiles, int wp, MemorySegment out, long oBase) {
        int oh = g.oh(), ow = g.ow(), tx = wp - 1;
        float[] q = tilePlanes(tiles);
        tr.output(m, base, xiStride, tiles, q);
        for (int oy = 0; oy < oh; oy++) {
            int a = oy % 2, t0 = oy / 2 * wp;
            long row = oBase + (long) oy * ow;
            // whole pairs of output columns a vector of tiles at a time, then the rest (an odd last column alone)
            int done = tr.interleave(q, tiles, a, t0, ow / 2, out, row);
            for (int tc = done; tc < tx; tc++) {
                out.setAtIndex(F32, row + 2L * tc, q[2 * a * tiles + t0 + tc]);
                if (2 * tc + 1 < ow) out.setAtIndex(F32, row + 2L * tc + 1, q[(2 * a + 1) * tiles + t0 + tc]);
            }
        }
    }

    private static final ThreadLocal<float[][]> TILE_PLANES = ThreadLocal.withInitial(() -> new float[1][0]);

    /** This thread's buffer for one channel's four output planes of {@code tiles}. */
    private static float[] tilePlanes(int tiles) {
        float[][] holder = TILE_PLANES.get();
        if (holder[0].length < 4 * tiles) holder[0] = new float[4 * tiles];
        return holder[0];
    }
}
