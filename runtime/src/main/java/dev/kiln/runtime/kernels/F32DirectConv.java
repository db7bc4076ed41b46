package dev.kiln.runtime.kernels;

import java.lang.foreign.MemorySegment;

/**
 * The direct convolution of {@link DirectConv#im2colGemmF32} for stride 1 (few filters: LeNet's), with the output
 * pixels in the vector lanes. An image is first copied into a zero-padded {@code c x hp x wp} block
 * ({@code hp = oh + (kh-1)*dh}, {@code wp = ow + (kw-1)*dw}); then output pixel {@code (y, x)} of every filter is a
 * sum over the taps of {@code padded[ci, y + i*dh, x + j*dw]}, so a run of consecutive "wide" positions
 * {@code y*wp + x} reads consecutive padded elements for every tap: a vector load, multiplied by the tap's weight
 * broadcast and added to an accumulator, with no im2col matrix. The columns {@code x >= ow} of a wide row are
 * computed and dropped when the wide output is compacted into the {@code m x oh x ow} result.
 * {@link #VECTOR} is the Vector API implementation when {@code jdk.incubator.vector} is available and
 * {@code kiln.vector} is not {@code false}, else {@code null} (the caller then takes im2col + GEMM).
 */
interface F32DirectConv {
    F32DirectConv VECTOR = VectorApi.instanceOr(F32DirectConv.class, "dev.kiln.runtime.kernels.VectorDirectConv", null);

    /** Elements per vector: wide positions are computed in whole vectors. */
    int lanes();

    /**
     * Filters computed together in one register tile: fewer filters than this repeat the last one, and the last tile
     * of {@code m} filters overlaps the one before it (the repeated sums are computed in the same order, so the
     * values stored twice are equal).
     */
    int filtersPerTile();

    /** Vectors of wide positions computed together in one register tile (the last tile overlaps like the filters'). */
    int vectorsPerTile();

    /**
     * {@code wide[o * widePlane + q] = sum over taps t of filters[o * k + t] * padded[taps[t] + q]}, f32 with one fused
     * multiply-add per tap in tap order, for every filter {@code o < m} and {@code q < vectors * lanes()}: with
     * {@code taps[t]} the offset {@code ci*paddedPlane + i*dh*wp + j*dw} of tap {@code t = (ci*kh + i)*kw + j}, the
     * convolution over wide positions. The caller has sized the arrays: {@code padded} holds
     * {@code taps[t] + vectors * lanes()} floats for every tap, {@code wide} {@code (m-1)*widePlane + vectors*lanes()}.
     */
    void convolve(float[] filters, int m, int k, int[] taps, float[] padded, int vectors, float[] wide, int widePlane);

    /**
     * {@code out[at + (o*oh + y)*ow + x] = wide[o*widePlane + y*wp + x]} for {@code x < ow}: drops the wide rows' extra
     * columns. Nothing past those {@code m*oh*ow} floats of {@code out} is written; {@code wide} holds at least
     * {@code lanes()} floats past the start of every row copied.
     */
    void compact(float[] wide, int widePlane, int wp, int m, int oh, int ow, MemorySegment out, long at);

    /**
     * {@code out[at + (o*(oh/2) + py)*(ow/2) + px] = relu(max(wide[o*widePlane + (2py+a)*wp + 2px+b] for a, b in {0, 1})
     * + bias[o])}: the 2x2 stride-2 max pool (floor mode) of the wide rows, then the bias and relu, which commute
     * with the max (bit for bit: rounding and relu are monotonic, and relu leaves no negative zero), so the result is
     * that of pooling {@code relu(conv + bias)}. {@code bias} may be null (no bias). Nothing past those
     * {@code m*(oh/2)*(ow/2)} floats of {@code out} is written; {@code wide} holds at least {@code lanes()} floats past
     * the start of every row read.
     */
    void poolRelu(float[] wide, int widePlane, int wp, int m, int oh, int ow, float[] bias, MemorySegment out, long at);
}
