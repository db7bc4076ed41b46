package dev.kiln.frontend.optim;

/** Decays the rate by {@code gamma} every {@code stepSize} epochs: {@code lr = base * gamma^floor(epoch / stepSize)}. */
public final class StepLR extends LRScheduler {

    private final int stepSize;
    private final double gamma;

    /** With PyTorch's default gamma 0.1. */
    public StepLR(Optimizer optimizer, int stepSize) { this(optimizer, stepSize, 0.1); }

    /** Multiplies the rate by {@code gamma} every {@code stepSize} epochs. */
    public StepLR(Optimizer optimizer, int stepSize, double gamma) {
        super(optimizer);
        if (stepSize < 1) throw new IllegalArgumentException("StepLR: stepSize must be >= 1, got " + stepSize);
        HyperParameters.atLeast("StepLR", "gamma", gamma, 0);
        this.stepSize = stepSize;
        this.gamma = gamma;
        start();
    }

    @Override
    double lrAt(int epoch, double baseLr) { return baseLr * Math.pow(gamma, epoch / stepSize); }
}
