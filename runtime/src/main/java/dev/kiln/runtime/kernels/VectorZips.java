package dev.kiln.runtime.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The two-vector zips of the preferred float species, for the Vector API kernels that interleave lanes (Winograd's
 * output rows, packing rows of A): {@code a.rearrange(LOW, b)} is {@code a[0], b[0], a[1], b[1], ...} over the low
 * halves, {@code HIGH} the same over the high halves. Only loaded when {@code jdk.incubator.vector} is present.
 */
final class VectorZips {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    /** Lane 2i takes lane i of the first vector, lane 2i + 1 lane i of the second (negative: the second's). */
    static final VectorShuffle<Float> LOW = VectorShuffle.fromOp(S, n -> n % 2 == 0 ? n / 2 : n / 2 - L);
    /** The same for lanes L/2 .. L-1. */
    static final VectorShuffle<Float> HIGH = VectorShuffle.fromOp(S, n -> n % 2 == 0 ? L / 2 + n / 2 : L / 2 + n / 2 - L);

    private VectorZips() {}
}
