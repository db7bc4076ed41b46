package dev.kiln.runtime.kernels;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Sums of a vector's lanes in one fixed order, whichever JIT tier runs them.
 *
 * <p>{@code reduceLanes(ADD)} leaves the order of its additions to the implementation: C2's intrinsic adds the
 * lanes as a tree, the Java fallback that the interpreter and C1 run adds them one after another. The last bit of
 * a dot product then depended on how warm the calling method was, so the same call on the same operands could
 * give two answers. Here the lanes are folded in halves by lane-wise additions of the vector and a permutation of
 * it (lane {@code i} meets lane {@code i ^ h} for {@code h = length/2 .. 1}), which every tier evaluates the same
 * way. Only {@code SPECIES_PREFERRED} vectors are taken, the species every kernel here uses.
 *
 * <p>A vector handed to a method that C2 does not inline is allocated on the heap, and C2 declines to inline at
 * call sites it sees as rare (a kernel's tail columns). So callers store their accumulators into a per-thread
 * array ({@link #floats()}, {@link #doubles()}) and pass the array; no vector crosses a call.
 */
public final class VectorLanes {
    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> DS = DoubleVector.SPECIES_PREFERRED;
    // constants as C2 parses, so the folds a species does not have are never parsed
    private static final int F_LANES = FS.length(), D_LANES = DS.length();
    // lane i -> i ^ distance; a distance the species does not have is never used
    private static final VectorShuffle<Float> F8 = across(FS, 8), F4 = across(FS, 4), F2 = across(FS, 2), F1 = across(FS, 1);
    private static final VectorShuffle<Double> D4 = across(DS, 4), D2 = across(DS, 2), D1 = across(DS, 1);
    /** Room for the accumulators of the widest register tile (8 vectors). */
    public static final int SCRATCH_VECTORS = 8;
    private static final ThreadLocal<float[]> FLOATS = ThreadLocal.withInitial(() -> new float[SCRATCH_VECTORS * F_LANES]);
    private static final ThreadLocal<double[]> DOUBLES = ThreadLocal.withInitial(() -> new double[SCRATCH_VECTORS * D_LANES]);

    private VectorLanes() {}

    /** This thread's array for {@link #SCRATCH_VECTORS} float vectors. */
    public static float[] floats() {
        return FLOATS.get();
    }

    /** This thread's array for {@link #SCRATCH_VECTORS} double vectors. */
    public static double[] doubles() {
        return DOUBLES.get();
    }

    /**
     * The sum, added in halves, of the vector stored at {@code lanes[at ..]}. The vectors are made and consumed
     * here, so nothing is allocated whether C2 inlines this call or not.
     */
    public static float sum(float[] lanes, int at) {
        if (F_LANES > 16) return sumInHalves(lanes, at, F_LANES);
        FloatVector v = FloatVector.fromArray(FS, lanes, at);
        if (F_LANES == 16) v = v.add(v.rearrange(F8));
        if (F_LANES >= 8) v = v.add(v.rearrange(F4));
        if (F_LANES >= 4) v = v.add(v.rearrange(F2));
        if (F_LANES >= 2) v = v.add(v.rearrange(F1));
        return v.lane(0);
    }

    /** The sum, added in halves, of the vector stored at {@code lanes[at ..]}. */
    public static double sum(double[] lanes, int at) {
        if (D_LANES > 8) return sumInHalves(lanes, at, D_LANES);
        DoubleVector v = DoubleVector.fromArray(DS, lanes, at);
        if (D_LANES == 8) v = v.add(v.rearrange(D4));
        if (D_LANES >= 4) v = v.add(v.rearrange(D2));
        if (D_LANES >= 2) v = v.add(v.rearrange(D1));
        return v.lane(0);
    }

    /** The same order for species wider than 512 bits, which no kernel here is tuned for. */
    private static float sumInHalves(float[] lanes, int at, int count) {
        for (int distance = count / 2; distance > 0; distance /= 2)
            for (int i = at; i < at + distance; i++) lanes[i] += lanes[i + distance];
        return lanes[at];
    }

    private static double sumInHalves(double[] lanes, int at, int count) {
        for (int distance = count / 2; distance > 0; distance /= 2)
            for (int i = at; i < at + distance; i++) lanes[i] += lanes[i + distance];
        return lanes[at];
    }

    private static <E> VectorShuffle<E> across(VectorSpecies<E> species, int distance) {
        int used = distance < species.length() ? distance : 0;
        return VectorShuffle.fromOp(species, i -> i ^ used);
    }
}
