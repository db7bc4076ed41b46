package dev.kiln.codegen;

/**
 * A generated loop over rows {@code [rowStart, rowEnd)} of its iteration space (see {@link LoopSpec}): the form in
 * which generated elementwise loops and epilogues are handed to a thread pool or, later, to a tiled GEMM or
 * convolution kernel that applies an epilogue per output tile while the tile is in cache.
 */
@FunctionalInterface
public interface RowLoop {
    void rows(long rowStart, long rowEnd);
}
