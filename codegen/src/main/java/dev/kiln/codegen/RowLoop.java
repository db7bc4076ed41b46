package dev.kiln.codegen;

import dev.kiln.runtime.kernels.RowEpilogue;

/**
 * A generated loop over rows {@code [rowStart, rowEnd)} of its iteration space (see {@link LoopSpec}): the form in
 * which generated elementwise loops are handed to the thread pool, and epilogues to the packed GEMM, which runs
 * one per block of finished output rows while they are in cache ({@link RowEpilogue}).
 */
@FunctionalInterface
public interface RowLoop extends RowEpilogue {
    @Override
    void rows(long rowStart, long rowEnd);
}
