package dev.kiln.frontend.nn;

/** Batch normalisation of {@code [N, C]} or {@code [N, C, L]} input. */
public final class BatchNorm1d extends BatchNorm {

    public BatchNorm1d(int features) { this(features, 1e-5, 0.1, true, true); }

    public BatchNorm1d(int features, double eps, double momentum, boolean affine, boolean trackRunningStats) {
        super(features, eps, momentum, affine, trackRunningStats);
    }

    @Override
    protected boolean acceptsRank(int rank) { return rank == 2 || rank == 3; }
}
