package dev.kiln.runtime.kernels;

/**
 * Work applied to complete output rows of a GEMM while they are still in cache: bias, activation, residual or
 * any fused tail. {@link DirectGemm} calls it once per block of rows {@code [r0, r1)} as soon as every column of
 * those rows holds its final value, and the blocks of one call cover every row exactly once. With more than one
 * thread, blocks are handed to the pool's threads concurrently, so an implementation must only touch the rows it
 * is given (and whatever it only reads). It must not call back into a GEMM that writes the same output.
 */
@FunctionalInterface
public interface RowEpilogue {
    /** Finishes rows {@code [r0, r1)} of the output, whose GEMM values are final. */
    void rows(long r0, long r1);
}
