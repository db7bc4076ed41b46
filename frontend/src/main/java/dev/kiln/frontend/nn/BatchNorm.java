package dev.kiln.frontend.nn;

import dev.kiln.frontend.F;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.autograd.Autograd;
import dev.kiln.ir.DType;

/**
 * Batch normalisation over channel dim 1, as PyTorch's BatchNorm: in training it normalises with the
 * batch's statistics and updates the running mean and (unbiased) variance with {@code momentum}; in
 * eval it uses the running statistics.
 */
public abstract class BatchNorm extends Module {

    private final int features;
    private final double eps;
    private final double momentum;
    private final Parameter weight;
    private final Parameter bias;
    private final Buffer runningMean;
    private final Buffer runningVar;
    private final Buffer batchesTracked;

    protected BatchNorm(int features, double eps, double momentum, boolean affine, boolean trackRunningStats) {
        if (features < 1) throw new IllegalArgumentException(getClass().getSimpleName() + ": num_features must be >= 1, got " + features);
        this.features = features;
        this.eps = eps;
        this.momentum = momentum;
        this.weight = affine ? registerParameter("weight", new Parameter(Tensor.ones(features))) : null;
        this.bias = affine ? registerParameter("bias", new Parameter(Tensor.zeros(features))) : null;
        this.runningMean = trackRunningStats ? registerBuffer("running_mean", new Buffer(Tensor.zeros(features))) : null;
        this.runningVar = trackRunningStats ? registerBuffer("running_var", new Buffer(Tensor.ones(features))) : null;
        this.batchesTracked = trackRunningStats ? registerBuffer("num_batches_tracked", new Buffer(Tensor.zeros(DType.I64))) : null;
    }

    /** Ranks the subclass accepts (e.g. 2 or 3 for BatchNorm1d). */
    protected abstract boolean acceptsRank(int rank);

    @Override
    public Tensor forward(Tensor x) {
        if (!acceptsRank(x.rank()) || x.dim(1) != features) {
            throw new IllegalArgumentException(getClass().getSimpleName() + "(" + features + "): unexpected input shape "
                    + java.util.Arrays.toString(x.shape()));
        }
        if (!isTraining() && runningMean != null) {
            return F.batchNorm(x, runningMean, runningVar, weight, bias, eps);
        }
        int[] dims = new int[x.rank() - 1];
        dims[0] = 0;
        for (int i = 2; i < x.rank(); i++) dims[i - 1] = i;
        long n = x.numel() / features;
        if (n <= 1) throw new IllegalArgumentException(getClass().getSimpleName() + ": expected more than 1 value per channel when training, got input "
                + java.util.Arrays.toString(x.shape()));
        Tensor mean = x.mean(dims, false);
        Tensor var = x.var(dims, false, 0);
        if (runningMean != null) {
            try (var _ = Autograd.noGrad()) {
                runningMean.mul_(1 - momentum).add_(mean.detach().mul(momentum));
                runningVar.mul_(1 - momentum).add_(var.detach().mul(momentum * n / (n - 1)));
                batchesTracked.add_(Tensor.scalar(DType.I64, 1));
            }
        }
        return F.batchNorm(x, mean, var, weight, bias, eps);
    }

    @Override
    protected String extraRepr() { return features + ", eps=" + eps + ", momentum=" + momentum + ", affine=" + (weight != null); }
}
