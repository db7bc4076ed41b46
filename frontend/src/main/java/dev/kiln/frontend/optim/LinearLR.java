package dev.kiln.frontend.optim;

/**
 * Scales the base rate by a factor moving linearly from {@code startFactor} to {@code endFactor} over
 * {@code totalIters} epochs, then constant: {@code lr = base * (start + (end - start) * min(epoch, total) / total)}
 * ({@code torch.optim.lr_scheduler.LinearLR}). {@link #warmup} is the usual linear warm-up.
 */
public final class LinearLR extends LRScheduler {

    private final double startFactor;
    private final double endFactor;
    private final int totalIters;

    /** With PyTorch's defaults: start 1/3, end 1, 5 iterations. */
    public LinearLR(Optimizer optimizer) { this(optimizer, 1.0 / 3, 1.0, 5); }

    /** Factor from {@code startFactor} (in (0, 1]) to {@code endFactor} (in [0, 1]) over {@code totalIters} epochs. */
    public LinearLR(Optimizer optimizer, double startFactor, double endFactor, int totalIters) {
        super(optimizer);
        if (!(startFactor > 0 && startFactor <= 1)) {
            throw new IllegalArgumentException("LinearLR: startFactor must be in (0, 1], got " + startFactor);
        }
        if (!(endFactor >= 0 && endFactor <= 1)) {
            throw new IllegalArgumentException("LinearLR: endFactor must be in [0, 1], got " + endFactor);
        }
        if (totalIters < 1) throw new IllegalArgumentException("LinearLR: totalIters must be >= 1, got " + totalIters);
        this.startFactor = startFactor;
        this.endFactor = endFactor;
        this.totalIters = totalIters;
        start();
    }

    /** Linear warm-up from {@code startFactor * base} to the base rate over {@code warmupSteps} steps. */
    public static LinearLR warmup(Optimizer optimizer, int warmupSteps, double startFactor) {
        return new LinearLR(optimizer, startFactor, 1.0, warmupSteps);
    }

    @Override
    double lrAt(int epoch, double baseLr) {
        return baseLr * (startFactor + (endFactor - startFactor) * Math.min(epoch, totalIters) / totalIters);
    }
}
