package dev.kiln.frontend.optim;

import java.util.Objects;

/**
 * Adjusts an optimizer's learning rate by epoch (or step; whatever unit {@link #step()} is called per), as
 * {@code torch.optim.lr_scheduler}. The rate is computed in closed form from the base rate (the optimizer's rate
 * when the scheduler is made) and the epoch count, so it never drifts and a run can be resumed with
 * {@link #setEpoch}. Making a scheduler sets the epoch-0 rate, as PyTorch does.
 */
public abstract class LRScheduler {

    private final Optimizer optimizer;
    private final double baseLr;
    private int epoch;

    LRScheduler(Optimizer optimizer) {
        this.optimizer = Objects.requireNonNull(optimizer, "optimizer");
        this.baseLr = optimizer.lr();
    }

    /** The rate at {@code epoch} for base rate {@code baseLr}. */
    abstract double lrAt(int epoch, double baseLr);

    /** Applies the epoch-0 rate; subclass constructors call it once their fields are set. */
    final void start() { optimizer.setLr(lrAt(0, baseLr)); }

    /** Advances one epoch and sets the optimizer's rate for it. */
    public void step() { setEpoch(epoch + 1); }

    /** Jumps to {@code epoch} (e.g. when resuming) and sets the optimizer's rate for it. */
    public void setEpoch(int epoch) {
        if (epoch < 0) throw new IllegalArgumentException(getClass().getSimpleName() + ": epoch must be >= 0, got " + epoch);
        this.epoch = epoch;
        optimizer.setLr(lrAt(epoch, baseLr));
    }

    /** The rate this scheduler last set (PyTorch's {@code get_last_lr()}). */
    public double lastLr() { return lrAt(epoch, baseLr); }

    /** Epochs stepped so far. */
    public int epoch() { return epoch; }

    /** The optimizer's rate when the scheduler was made. */
    public double baseLr() { return baseLr; }
}
