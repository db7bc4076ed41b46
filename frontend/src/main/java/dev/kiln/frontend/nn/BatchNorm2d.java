package dev.kiln.frontend.nn;

/** Batch normalisation of {@code [N, C, H, W]} input. */
public final class BatchNorm2d extends BatchNorm {

    public BatchNorm2d(int features) { this(features, 1e-5, 0.1, true, true); }

    public BatchNorm2d(int features, double eps, double momentum, boolean affine, boolean trackRunningStats) {
        super(features, eps, momentum, affine, trackRunningStats);
    }

    @Override
    protected boolean acceptsRank(int rank) { return rank == 4; }
}
