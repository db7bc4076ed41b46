package dev.kiln.runtime.kernels;

import java.lang.foreign.MemorySegment;

/**
 * The register-blocked inner kernel of {@link PackedGemm}: one {@code mr() x nr()} tile of C from a packed panel
 * of A ({@code kc x mr}, k-major: element {@code (r, p)} at {@code a[ao + p * mr + r]}) and a packed panel of B
 * ({@code kc x nr}, k-major: element {@code (p, j)} at {@code b[bo + p * nr + j]}). The tile is written to C (byte
 * offset {@code co}, row stride {@code ldcBytes}) or, when {@code accumulate}, added to what C holds. Two
 * implementations: a Vector API one sized from {@code SPECIES_PREFERRED}, and a plain-Java one; chosen once by
 * {@link #best()}.
 */
interface Microkernel {
    /** Rows of the tile (the broadcast side, A). */
    int mr();

    /** Columns of the tile (the vector side, B); packed B panels are this wide. */
    int nr();

    void tile(int kc, float[] a, int ao, float[] b, int bo, MemorySegment c, long co, long ldcBytes,
              boolean accumulate);

    /**
     * Copies {@code rows} runs of {@code cols <= nr()} contiguous floats (the first at byte {@code from} of
     * {@code src}, the next {@code strideBytes} further) into rows of {@code nr()} floats of {@code dst} from
     * {@code to}, zero past {@code cols}: packing one panel of a row-major B.
     */
    void packPanel(MemorySegment src, long from, long strideBytes, int rows, int cols, float[] dst, int to);

    /**
     * Packs one row panel of a row-major A: {@code rows <= mr()} rows of {@code kc} contiguous floats (the first at
     * byte {@code from} of {@code src}, the next {@code strideBytes} further) into {@code dst} from {@code to},
     * k-major ({@code dst[to + p * mr() + r]}), rows past {@code rows} zero.
     */
    void packRows(MemorySegment src, long from, long strideBytes, int rows, int kc, float[] dst, int to);

    /** The Vector API kernel when {@code jdk.incubator.vector} is usable, else the plain one. */
    static Microkernel best() {
        return Holder.BEST;
    }

    final class Holder {
        static final Microkernel BEST =
                VectorApi.instanceOr(Microkernel.class, "dev.kiln.runtime.kernels.VectorMicrokernel", new PlainMicrokernel());

        private Holder() {}
    }
}
