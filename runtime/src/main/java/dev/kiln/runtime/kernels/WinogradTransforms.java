package dev.kiln.runtime.kernels;

/**
 * The vector parts of {@link Winograd}: the input and output transforms of F(t x t, 3x3) for tile size
 * {@code t = }{@link #tile()} (2 or 4; transform size {@code a = t + 2}), a chunk of {@link #lanes()} tiles at a
 * time (tile {@code u} of an image at row {@code u / wp}, column {@code u % wp} of the tile grid, whose last column
 * is padding). Only Vector API implementations exist; {@link #VECTOR} (F(2x2, 3x3)) is null without it or when
 * vectors are wider than 16 floats, {@link #VECTOR4} (F(4x4, 3x3)) also when they are narrower than 8.
 */
interface WinogradTransforms {
    WinogradTransforms VECTOR = Holder.select("dev.kiln.runtime.kernels.VectorWinogradTransforms");
    WinogradTransforms VECTOR4 = Holder.select("dev.kiln.runtime.kernels.VectorWinogradTransforms4");

    /** Floats per vector: tiles per chunk. */
    int lanes();

    /** Outputs per tile side: 2 for F(2x2, 3x3), 4 for F(4x4, 3x3). */
    int tile();

    /**
     * {@code V = B^T d B} of one channel's tiles {@code [0, tiles)}: input element {@code (i, j)} of tile {@code u}
     * is {@code planes[base + (t*(i%t) + j%t) * planeStride + u + (i/t)*wp + j/t]} (the channel's {@code t x t}
     * phase planes of the zero-padded image); position {@code xi = a i' + j'} of tile {@code u} goes to
     * {@code v[xi][rowBase + ((g0 + u) / NR) * panelStride + (g0 + u) % NR]}, a row of a packed B panel.
     */
    void input(float[] planes, int base, int planeStride, int wp, int tiles, float[][] v, int rowBase, int panelStride,
               int g0);

    /**
     * {@code Y = A^T M A} of one output channel's tiles {@code [0, tiles)}: position {@code xi} of tile {@code u}
     * read at float {@code base + xi * xiStride + u} of {@code m}; output {@code (r, s)} of tile {@code u} written to
     * {@code q[(t r + s) * tiles + u]}.
     */
    void output(java.lang.foreign.MemorySegment m, long base, long xiStride, int tiles, float[] q);

    /**
     * Output row {@code r} (0 to t-1) of tiles {@code [t0, t0 + n)} into {@code n} runs of {@code t} floats at
     * element {@code at} of {@code out}: {@code out[at + t i + s] = q[(t r + s) * tiles + t0 + i]}. Whole vectors of
     * tiles only (the last one may overlap the one before); returns the number of tiles done.
     */
    int interleave(float[] q, int tiles, int r, int t0, int n, java.lang.foreign.MemorySegment out, long at);

    final class Holder {
        private Holder() {}

        private static WinogradTransforms select(String className) {
            WinogradTransforms t = VectorApi.instanceOr(WinogradTransforms.class, className, null);
            return t != null && t.lanes() <= 16 && (t.tile() == 2 || t.lanes() >= 8) && PackedGemm.NR % t.lanes() == 0 ? t : null;
        }
    }
}
