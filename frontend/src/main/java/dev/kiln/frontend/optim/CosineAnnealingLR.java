package dev.kiln.frontend.optim;

/**
 * Cosine annealing from the base rate to {@code etaMin} over {@code tMax} epochs, PyTorch's closed form:
 * {@code lr = etaMin + (base - etaMin) * (1 + cos(pi * epoch / tMax)) / 2}. Past {@code tMax} the cosine continues
 * (the rate rises again), as in PyTorch.
 */
public final class CosineAnnealingLR extends LRScheduler {

    private final int tMax;
    private final double etaMin;

    /** Anneals to 0. */
    public CosineAnnealingLR(Optimizer optimizer, int tMax) { this(optimizer, tMax, 0); }

    /** Anneals to {@code etaMin} over {@code tMax} epochs. */
    public CosineAnnealingLR(Optimizer optimizer, int tMax, double etaMin) {
        super(optimizer);
        if (tMax < 1) throw new IllegalArgumentException("CosineAnnealingLR: tMax must be >= 1, got " + tMax);
        HyperParameters.atLeast("CosineAnnealingLR", "etaMin", etaMin, 0);
        this.tMax = tMax;
        this.etaMin = etaMin;
        start();
    }

    @Override
    double lrAt(int epoch, double baseLr) {
        return etaMin + (baseLr - etaMin) * (1 + Math.cos(Math.PI * epoch / tMax)) / 2;
    }
}
