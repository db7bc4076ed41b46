package dev.kiln.runtime.kernels;

/**
 * The vector parts of {@link Winograd}: the input and output transforms of F(2x2, 3x3), a chunk of
 * {@link #lanes()} tiles at a time (tile {@code t} of an image at row {@code t / wp}, column {@code t % wp} of the
 * tile grid, whose last column is padding). Only the Vector API implementation exists; {@link #VECTOR} is null
 * without it or when vectors are wider than 16 floats.
 */
interface WinogradTransforms {
    WinogradTransforms VECTOR = Holder.select();

    /** Floats per vector: tiles per chunk. */
    int lanes();

    /**
     * {@code V = B^T d B} of one channel's tiles {@code [0, tiles)}: input element {@code (i, j)} of tile {@code t}
     * is {@code planes[base + (2*(i%2) + j%2) * planeStride + t + (i/2)*wp + j/2]} (the channel's four phase planes
     * of the zero-padded image); position {@code xi = 4 r + s} of tile {@code t} goes to
     * {@code v[xi][rowBase + ((g0 + t) / NR) * panelStride + (g0 + t) % NR]}, a row of a packed B panel.
     */
    void input(float[] planes, int base, int planeStride, int wp, int tiles, float[][] v, int rowBase, int panelStride,
               int g0);

    /**
     * {@code Y = A^T M A} of one output channel's tiles {@code [0, tiles)}: position {@code xi} of tile {@code t}
     * read at float {@code base + xi * xiStride + t} of {@code m}; output {@code (a, b)} of tile {@code t} written to
     * {@code q[(2a + b) * tiles + t]}.
     */
    void output(java.lang.foreign.MemorySegment m, long base, long xiStride, int tiles, float[] q);

    /**
     * Output row {@code a} (0 or 1) of tiles {@code [t0, t0 + n)} into {@code n} pairs of floats at element
     * {@code at} of {@code out}: {@code out[at + 2i + b] = q[(2a + b) * tiles + t0 + i]}. Whole vectors of tiles
     * only (the last one may overlap the one before); returns the number of tiles done.
     */
    int interleave(float[] q, int tiles, int a, int t0, int n, java.lang.foreign.MemorySegment out, long at);

    final class Holder {
        private Holder() {}

        private static WinogradTransforms select() {
            WinogradTransforms t = VectorApi.instanceOr(WinogradTransforms.class, "dev.kiln.runtime.kernels.VectorWinogradTransforms", null);
            return t != null && t.lanes() <= 16 && PackedGemm.NR % t.lanes() == 0 ? t : null;
        }
    }
}
