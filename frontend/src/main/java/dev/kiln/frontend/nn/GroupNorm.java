package dev.kiln.frontend.nn;

import dev.kiln.frontend.F;
import dev.kiln.frontend.Tensor;

/** Normalises groups of channels of {@code [N, C, ...]} input, with per-channel scale and shift. */
public final class GroupNorm extends Module {

    private final int groups;
    private final int channels;
    private final double eps;
    private final Parameter weight;
    private final Parameter bias;

    public GroupNorm(int groups, int channels) { this(groups, channels, 1e-5, true); }

    public GroupNorm(int groups, int channels, double eps, boolean affine) {
        if (groups < 1 || channels % groups != 0) {
            throw new IllegalArgumentException("GroupNorm: num_channels " + channels + " must be divisible by num_groups " + groups);
        }
        this.groups = groups;
        this.channels = channels;
        this.eps = eps;
        this.weight = affine ? new Parameter(Tensor.ones(channels)) : null;
        this.bias = affine ? new Parameter(Tensor.zeros(channels)) : null;
    }

    @Override
    public Tensor forward(Tensor x) { return F.groupNorm(x, groups, weight, bias, eps); }

    @Override
    protected String extraRepr() { return groups + ", " + channels + ", eps=" + eps; }
}
