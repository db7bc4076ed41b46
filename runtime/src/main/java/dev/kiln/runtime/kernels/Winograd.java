package dev.kiln.runtime.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.kiln.runtime.Elements.F32;

/**
 * 3x3 stride-1 convolutions by Winograd's minimal filtering F(t x t, 3x3), t = 2 or 4: each t x t block of outputs
 * (a tile) comes from an a x a block of input ({@code a = t + 2}) through
 * {@code Y = A^T [(G g G^T) . (B^T d B)] A}, so that the multiplications become {@code a^2} GEMMs ({@code m x c}
 * transformed filters times {@code c x tiles} transformed inputs, one per position of the transform): per output
 * and channel pair, F(2x2, 3x3) does 16/4 multiply-adds instead of 9 (2.25 times fewer) and F(4x4, 3x3) 36/16
 * (4 times fewer). The input and output transforms are additions and multiplications by small powers of two
 * ({@link WinogradTransforms}); the filter transform is done once per filter set, in double and rounded once.
 * F(4x4, 3x3) serves outputs with enough tiles of 4x4 (28x28 and larger), F(2x2, 3x3) the rest (14x14).
 *
 * <p>Tiles are numbered over a grid one column wider than the output's tiles ({@code wp = ceil(ow/t) + 1}), so
 * that the input of tile {@code u} is read from the {@code t x t} phase planes of the zero-padded image (rows and
 * columns by their remainder mod t) at {@code u} plus a constant per element: a vector of tiles is one load per
 * element, and the extra column's tiles are computed and dropped. Each image's tile count is rounded up to a
 * multiple of 16 so that vectors of tiles never straddle a GEMM panel.
 *
 * <p>Numerics: not bit-identical to the direct convolution (the transforms reassociate sums, and F(4x4, 3x3)'s
 * scale them by up to 8 and 1/24); errors stay within {@code 32 eps sum |w| |x|} per output for F(2x2, 3x3) and
 * {@code 128 eps sum |w| |x|} for F(4x4, 3x3), measured up to about 20 (see {@code WinogradPropertyTest}).
 */
public final class Winograd {
    private Winograd() {}

    /**
     * Tiles per image at least: a 14 x 14 output has 56 tiles of 2x2 (7 rows of 8) and does 2 times fewer
     * multiply-adds than the direct convolution; a 7 x 7 one has 20, padded to a 32-column panel, and gains too little
     * over it. The same bound picks F(4x4, 3x3) from 28 x 28 (56 tiles of 4x4) up.
     */
    private static final int MIN_TILES = 48;

    /** Tiles per image at most (a 128 x 128 output), which bounds the scratch: 36 x channels x tiles floats, twice. */
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
        return transforms(m, g) != null;
    }

    /** The transforms a convolution of {@code m} output channels takes: F(4x4, 3x3)'s, F(2x2, 3x3)'s or none (null). */
    static WinogradTransforms transforms(int m, ConvPanels.Geometry g) {
        if (!(g.kh() == 3 && g.kw() == 3 && g.sh() == 1 && g.sw() == 1 && g.dh() == 1 && g.dw() == 1 && g.ph() <= 2
                && g.pw() <= 2 && 24L * (m + g.c()) <= (long) m * g.c())) {
            return null;
        }
        // F(4x4, 3x3) wherever it has the tiles: measured side by side against F(2x2, 3x3) (1 thread), 64 channels in
        // and out at 56x56 21% faster, 48 at 56x56 13%, 32 in and 128 out 19%, 128 at 28x28 22%, 128 at 56x56 26%
        if (fits(WinogradTransforms.VECTOR4, m, g)) return WinogradTransforms.VECTOR4;
        return fits(WinogradTransforms.VECTOR, m, g) ? WinogradTransforms.VECTOR : null;
    }

    private static boolean fits(WinogradTransforms tr, int m, ConvPanels.Geometry g) {
        if (tr == null) return false;
        int t = tr.tile(), a = t + 2;
        return (long) tileRows(g, t) * tileGridWidth(g, t) >= MIN_TILES && tilesPerImage(g, t) <= MAX_TILES
                && (long) g.c() * t * t * planeFloats(g, t) < Integer.MAX_VALUE / 2
                && (long) a * a * Math.max(m, g.c()) * tilesPerImage(g, t) < Integer.MAX_VALUE / 2;
    }

    private static int tileRows(ConvPanels.Geometry g, int t) {
        return (g.oh() + t - 1) / t;
    }

    /** Tiles per row of the grid: the output's, plus one column. */
    private static int tileGridWidth(ConvPanels.Geometry g, int t) {
        return (g.ow() + t - 1) / t + 1;
    }

    private static int tilesPerImage(ConvPanels.Geometry g, int t) {
        return PackedB.ceilDiv(tileRows(g, t) * tileGridWidth(g, t), TILE_ALIGN) * TILE_ALIGN;
    }

    /** Floats of one phase plane: rows and columns for every tile's reads, past the last tile by a vector and a row. */
    private static int planeFloats(ConvPanels.Geometry g, int t) {
        int wp = tileGridWidth(g, t);
        return PackedB.ceilDiv(tilesPerImage(g, t) + wp + 1 + TILE_ALIGN, TILE_ALIGN) * TILE_ALIGN;
    }

    /** G of F(2x2, 3x3) (4x3) and of F(4x4, 3x3) (6x3), row-major. */
    private static final double[] G2 = {1, 0, 0, 0.5, 0.5, 0.5, 0.5, -0.5, 0.5, 0, 0, 1};
    private static final double[] G4 = {1 / 4d, 0, 0, -1 / 6d, -1 / 6d, -1 / 6d, -1 / 6d, 1 / 6d, -1 / 6d,
            1 / 24d, 1 / 12d, 1 / 6d, 1 / 24d, -1 / 12d, 1 / 6d, 0, 0, 1};

    /** Transformed filters: {@code G g G^T} for each output and input channel, as {@code a^2} packed {@code m x c} matrices. */
    static final class Filters {
        /** The tile size they were transformed for. */
        final int tile;
        final PackedA[] u;

        /** From filters {@code m x c*9} (row-major) read through {@code filter(o, kk)}, for tiles of {@code tile}. */
        Filters(int tile, int m, int c, FilterSource filter) {
            this.tile = tile;
            int a = tile + 2;
            double[] gm = tile == 2 ? G2 : G4;
            float[][] rows = new float[a * a][m * c];
            double[] g = new double[9], gg = new double[3 * a];
            for (int o = 0; o < m; o++) {
                for (int ci = 0; ci < c; ci++) {
                    for (int t = 0; t < 9; t++) g[t] = filter.get(o, ci * 9 + t);
                    // G g (a x 3), then (G g) G^T (a x a)
                    for (int i = 0; i < a; i++) {
                        for (int j = 0; j < 3; j++) gg[3 * i + j] = gm[3 * i] * g[j] + gm[3 * i + 1] * g[3 + j] + gm[3 * i + 2] * g[6 + j];
                    }
                    int at = o * c + ci;
                    for (int i = 0; i < a; i++) {
                        for (int j = 0; j < a; j++) {
                            rows[a * i + j][at] = (float) (gg[3 * i] * gm[3 * j] + gg[3 * i + 1] * gm[3 * j + 1] + gg[3 * i + 2] * gm[3 * j + 2]);
                        }
                    }
                }
            }
            u = new PackedA[a * a];
            for (int xi = 0; xi < a * a; xi++) u[xi] = PackedA.ofRows(rows[xi], m, c);
        }
    }

    /** Element {@code (o, kk)} of an {@code m x c*9} filter matrix. */
    interface FilterSource {
        float get(int o, int kk);
    }

    /** The transformed form of prepacked filters, made once and kept on them. */
    static Filters filters(PackedA pa, ConvPanels.Geometry g) {
        int tile = transforms(pa.m, g).tile();
        Filters f = pa.winograd;
        if (f == null || f.tile != tile) pa.winograd = f = new Filters(tile, pa.m, g.c(), pa::get);
        return f;
    }

    /** The transformed form of filters {@code m x c*9} in a native segment (eager calls). */
    static Filters filters(int m, MemorySegment a, ConvPanels.Geometry g) {
        int k = g.k();
        return new Filters(transforms(m, g).tile(), m, g.c(), (o, kk) -> a.getAtIndex(F32, (long) o * k + kk));
    }

    /** Per-thread buffers reused across calls: phase planes, transformed inputs, GEMM outputs, one chunk of outputs. */
    private static final class Scratch {
        float[] planes = new float[0];
        final float[][] v = new float[36][0];
        /** The GEMMs' outputs, native: the microkernel's stores to a heap segment took 13% of ResNet-18's run. */
        MemorySegment m = MemorySegment.NULL;
        boolean busy;
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /**
     * The convolution of {@link DirectConv#packedF32}'s arguments (already checked) by F(t x t, 3x3) with the tile size
     * the filters were transformed for, image by image; the epilogue runs per block of finished output channels.
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
        WinogradTransforms tr = f.tile == 4 ? WinogradTransforms.VECTOR4 : WinogradTransforms.VECTOR;
        int t = f.tile, positions = (t + 2) * (t + 2);
        int c = g.c(), tiles = tilesPerImage(g, t), planes = c * t * t * planeFloats(g, t);
        Scratch s = SCRATCH.get();
        if (s.busy) s = new Scratch();
        s.busy = true;
        try {
            if (s.planes.length < planes) s.planes = new float[planes];
            int vSize = PackedGemm.packedBSize("conv", c, tiles);
            for (int xi = 0; xi < positions; xi++) if (s.v[xi].length < vSize) s.v[xi] = new float[vSize];
            if (s.m.byteSize() < 4L * positions * m * tiles) s.m = Arena.ofAuto().allocate(4L * positions * m * tiles, 64);
            Scratch sc = s;
            for (int img = i0; img < i1; img++) {
                long xBase = img * imageStride, oBase = img * outStride, first = epilogueRows + img * epilogueImageRows;
                // input transform by channels, the GEMMs, output transform and epilogue by output channels; on the
                // pool when it has threads (the lambdas only then: a warm serial call allocates nothing)
                if (parallel) {
                    Parallel.forRange(c, 1, (c0, c1) -> inputs(tr, g, x, xBase, sc, (int) c0, (int) c1));
                    Parallel.forRange(positions, 1, (x0, x1) -> products(f, sc, m, tiles, (int) x0, (int) x1));
                    Parallel.forRange(m, 1, (o0, o1) -> outputs(tr, g, sc, m, tiles, out, oBase, epilogue, first, (int) o0, (int) o1));
                } else {
                    inputs(tr, g, x, xBase, sc, 0, c);
                    products(f, sc, m, tiles, 0, positions);
                    outputs(tr, g, sc, m, tiles, out, oBase, epilogue, first, 0, m);
                }
            }
        } finally {
            s.busy = false;
        }
    }

    /** Phase planes and input transform of channels {@code [c0, c1)}. */
    private static void inputs(WinogradTransforms tr, ConvPanels.Geometry g, MemorySegment x, long xBase, Scratch s, int c0, int c1) {
        int t = tr.tile(), c = g.c(), tiles = tilesPerImage(g, t), wp = tileGridWidth(g, t), plane = planeFloats(g, t);
        int nPadded = PackedB.ceilDiv(tiles, PackedGemm.NR) * PackedGemm.NR;
        for (int ci = c0; ci < c1; ci++) {
            int at = ci * t * t * plane;
            phasePlanes(g, t, x, xBase + (long) ci * g.h() * g.w(), s.planes, at, plane, wp);
            int pc = ci / PackedGemm.KC * PackedGemm.KC, kc = Math.min(PackedGemm.KC, c - pc);
            tr.input(s.planes, at, plane, wp, tiles, s.v, pc * nPadded + (ci - pc) * PackedGemm.NR, kc * PackedGemm.NR, 0);
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
        int wp = tileGridWidth(g, tr.tile()), n = g.n(), block = Math.max(1, EPILOGUE_FLOATS / Math.max(1, n));
        for (int from = o0; from < o1; from += block) {
            int to = Math.min(o1, from + block);
            for (int o = from; o < to; o++) outputChannel(tr, g, s.m, o * tiles, m * tiles, tiles, wp, out, oBase + (long) o * n);
            if (epilogue != null) epilogue.rows(first + from, first + to);
        }
    }

    /**
     * The {@code t x t} phase planes of one channel of the zero-padded image: plane {@code (py, px)} holds padded
     * element {@code (t r + py, t q + px)} at {@code r * wp + q}; everything else in the planes is 0.
     */
    private static void phasePlanes(ConvPanels.Geometry g, int t, MemorySegment x, long base, float[] planes, int at, int plane,
                                    int wp) {
        int h = g.h(), w = g.w(), ph = g.ph(), pw = g.pw();
        java.util.Arrays.fill(planes, at, at + t * t * plane, 0f);
        F32Windows vector = F32Windows.VECTOR;
        for (int py = 0; py < t; py++) {
            for (int px = 0; px < t; px++) {
                int dst = at + (t * py + px) * plane;
                // padded column t q + px is input column t q + px - pw: q from q0 (first inside) to q1 (last + 1)
                int q0 = Math.max(0, Math.ceilDiv(pw - px, t)), q1 = Math.min(wp, Math.floorDiv(w - 1 + pw - px, t) + 1);
                if (q1 <= q0) continue;
                for (int r = 0; ; r++) {
                    int y = t * r + py - ph;
                    if (y >= h || (long) (r + 1) * wp > plane) break;
                    if (y < 0) continue;
                    long src = base + (long) y * w + (long) t * q0 + px - pw;
                    int to = dst + r * wp + q0, n = q1 - q0;
                    int done = t == 2 ? vector.everySecond(x, src, planes, to, n) : vector.everyFourth(x, src, planes, to, n);
                    for (int q = done; q < n; q++) planes[to + q] = x.getAtIndex(F32, src + (long) t * q);
                }
            }
        }
    }

    /** Output transform of one output channel: every real tile's t x t outputs, clipped to the output. */
    private static void outputChannel(WinogradTransforms tr, ConvPanels.Geometry g, MemorySegment m, long base, long xiStride,
                                      int tiles, int wp, MemorySegment out, long oBase) {
        int t = tr.tile(), oh = g.oh(), ow = g.ow(), tx = wp - 1;
        float[] q = tilePlanes(t * t * tiles);
        tr.output(m, base, xiStride, tiles, q);
        for (int oy = 0; oy < oh; oy++) {
            int r = oy % t, t0 = oy / t * wp;
            long row = oBase + (long) oy * ow;
            // whole runs of t output columns a vector of tiles at a time, then the rest (the last tile clipped)
            int done = tr.interleave(q, tiles, r, t0, ow / t, out, row);
            for (int tc = done; tc < tx; tc++) {
                for (int col = 0; col < t && t * tc + col < ow; col++) {
                    out.setAtIndex(F32, row + (long) t * tc + col, q[(t * r + col) * tiles + t0 + tc]);
                }
            }
        }
    }

    private static final ThreadLocal<float[][]> TILE_PLANES = ThreadLocal.withInitial(() -> new float[1][0]);

    /** This thread's buffer for one channel's output planes: {@code floats} of them. */
    private static float[] tilePlanes(int floats) {
        float[][] holder = TILE_PLANES.get();
        if (holder[0].length < floats) holder[0] = new float[floats];
        return holder[0];
    }
}
