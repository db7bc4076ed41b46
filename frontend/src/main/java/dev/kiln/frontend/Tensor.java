package dev.kiln.frontend;

import dev.kiln.frontend.autograd.Autograd;
import dev.kiln.frontend.autograd.Node;
import dev.kiln.ir.Builder;
import dev.kiln.ir.DType;
import dev.kiln.ir.Shape;
import dev.kiln.runtime.NDArray;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An n-dimensional array with PyTorch's API and semantics: type promotion, views that share storage,
 * in-place ops with version counters, and reverse-mode autograd. Data lives off-heap in an
 * {@link NDArray}; every op goes through {@link Dispatch}, so it runs eagerly, can be recorded for
 * autograd, and can be traced into IR.
 */
public class Tensor {

    private final NDArray data;
    private AtomicLong version;
    private Tensor viewBase;
    private boolean requiresGrad;
    private Node gradFn;
    private Tensor grad;

    protected Tensor(NDArray data) {
        this.data = java.util.Objects.requireNonNull(data, "data");
        this.version = new AtomicLong();
    }

    /** Wraps runtime storage as a tensor (no copy). */
    public static Tensor wrap(NDArray data) { return new Tensor(data); }

    /** The underlying storage (shared, not copied). */
    public NDArray data() { return data; }

    // ---- metadata --------------------------------------------------------------------------------

    public long[] shape() { return data.shape(); }

    public long dim(int axis) { return data.dim(axis); }

    public int rank() { return data.rank(); }

    public long numel() { return data.numel(); }

    public DType dtype() { return data.dtype(); }

    public boolean isContiguous() { return data.isContiguous(); }

    // ---- autograd state --------------------------------------------------------------------------

    public boolean requiresGrad() { return requiresGrad; }

    /** Marks a leaf tensor as one whose gradient should be computed; returns this. */
    public Tensor setRequiresGrad(boolean value) {
        if (gradFn != null) {
            throw new IllegalStateException("setRequiresGrad: only leaf tensors can change requires_grad; this one was computed by '"
                    + gradFn.op() + "' (use detach() for a leaf copy)");
        }
        if (value && !dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("setRequiresGrad: only floating-point tensors can require gradients, this is " + dtype());
        }
        requiresGrad = value;
        return this;
    }

    /** The op that computed this tensor, for autograd; null for leaves. */
    public Node gradFn() { return gradFn; }

    public boolean isLeaf() { return gradFn == null; }

    /** The accumulated gradient (leaves only); null until a backward pass reaches this tensor. */
    public Tensor grad() { return grad; }

    public void setGrad(Tensor value) {
        if (value != null && (!Arrays.equals(value.shape(), shape()) || value.dtype() != dtype())) {
            throw new IllegalArgumentException("setGrad: gradient " + value.dtype() + Arrays.toString(value.shape())
                    + " does not match tensor " + dtype() + Arrays.toString(shape()));
        }
        grad = value;
    }

    /** Back-propagates from this one-element tensor (a loss) into the leaves' {@link #grad()}. */
    public void backward() { Autograd.backward(this, null, false); }

    /** Back-propagates {@code gradient} (same shape as this tensor). */
    public void backward(Tensor gradient) { Autograd.backward(this, gradient, false); }

    /** Back-propagates; with {@code retainGraph} the graph can be back-propagated again. */
    public void backward(Tensor gradient, boolean retainGraph) { Autograd.backward(this, gradient, retainGraph); }

    /** A tensor sharing this one's data (and version counter) but cut from the autograd graph. */
    public Tensor detach() {
        Tensor t = new Tensor(data);
        t.version = version;
        t.viewBase = this;
        Dispatch.alias(t, this);
        return t;
    }

    /** How many in-place changes this tensor's storage has seen (shared by all views of it). */
    public long version() { return version.get(); }

    /** Records an in-place change to the storage made outside Kiln's ops (e.g. by an optimiser). */
    public void bumpVersion() { version.incrementAndGet(); }

    void initFromOp(Node node, Tensor viewOf) {
        if (viewOf != null) {
            version = viewOf.version;
            viewBase = viewOf.viewBase != null ? viewOf.viewBase : viewOf;
        }
        if (node != null) {
            node.setOutput(this);
            gradFn = node;
            requiresGrad = true;
        }
    }

    // ---- creation --------------------------------------------------------------------------------

    public static Tensor zeros(long... shape) { return zeros(DType.F32, shape); }

    public static Tensor zeros(DType dtype, long... shape) { return new Tensor(NDArray.zeros(dtype, shape)); }

    public static Tensor ones(long... shape) { return full(1.0, shape); }

    public static Tensor ones(DType dtype, long... shape) { return full(dtype, 1.0, shape); }

    public static Tensor full(double value, long... shape) { return full(DType.F32, value, shape); }

    public static Tensor full(DType dtype, double value, long... shape) { return new Tensor(NDArray.full(dtype, value, shape)); }

    public static Tensor zerosLike(Tensor t) { return zeros(t.dtype(), t.shape()); }

    public static Tensor onesLike(Tensor t) { return ones(t.dtype(), t.shape()); }

    public static Tensor fullLike(Tensor t, double value) { return full(t.dtype(), value, t.shape()); }

    /** 0-d tensor holding {@code value} as {@code dtype}. */
    public static Tensor scalar(DType dtype, double value) { return full(dtype, value); }

    /** {@code [0, 1, ..., end-1]} as i64, like {@code torch.arange(end)}. */
    public static Tensor arange(long end) { return arange(0, end, 1, DType.I64); }

    /** {@code start, start+step, ...} below {@code end}, as {@code dtype}. */
    public static Tensor arange(double start, double end, double step, DType dtype) {
        if (step == 0 || Double.isNaN(step)) throw new IllegalArgumentException("arange: step must be non-zero, got " + step);
        long n = (long) Math.max(0, Math.ceil((end - start) / step));
        NDArray out = NDArray.zeros(dtype, n);
        for (long i = 0; i < n; i++) out.setFlat(i, start + i * step);
        return new Tensor(out);
    }

    /** {@code steps} evenly spaced f32 values from {@code start} to {@code end} inclusive. */
    public static Tensor linspace(double start, double end, long steps) {
        if (steps < 0) throw new IllegalArgumentException("linspace: steps must be >= 0, got " + steps);
        NDArray out = NDArray.zeros(DType.F32, steps);
        double step = steps > 1 ? (end - start) / (steps - 1) : 0;
        for (long i = 0; i < steps; i++) out.setFlat(i, i < steps / 2 ? start + i * step : end - (steps - 1 - i) * step);
        return new Tensor(out);
    }

    /** The {@code n × n} identity, f32. */
    public static Tensor eye(long n) { return eye(n, n, DType.F32); }

    public static Tensor eye(long rows, long cols, DType dtype) {
        NDArray out = NDArray.zeros(dtype, rows, cols);
        for (long i = 0; i < Math.min(rows, cols); i++) out.setFlat(i * cols + i, 1);
        return new Tensor(out);
    }

    /** Uniform in [0, 1), f32. */
    public static Tensor rand(Generator generator, long... shape) { return uniform(generator, 0, 1, shape); }

    /** Uniform in [low, high), f32. */
    public static Tensor uniform(Generator generator, double low, double high, long... shape) {
        NDArray out = NDArray.zeros(DType.F32, shape);
        for (long i = 0; i < out.numel(); i++) out.setFlat(i, low + (high - low) * generator.nextUniform());
        return new Tensor(out);
    }

    /** Standard normal, f32. */
    public static Tensor randn(Generator generator, long... shape) {
        NDArray out = NDArray.zeros(DType.F32, shape);
        for (long i = 0; i < out.numel(); i++) out.setFlat(i, generator.nextGaussian());
        return new Tensor(out);
    }

    /** Uniform integers in [low, high), i64. */
    public static Tensor randint(Generator generator, long low, long high, long... shape) {
        if (high <= low) throw new IllegalArgumentException("randint: high (" + high + ") must be greater than low (" + low + ")");
        NDArray out = NDArray.zeros(DType.I64, shape);
        for (long i = 0; i < out.numel(); i++) out.setFlat(i, low + Math.min(high - low - 1, (long) (generator.nextUniform() * (high - low))));
        return new Tensor(out);
    }

    public static Tensor of(float[] values, long... shape) { return new Tensor(NDArray.of(values, shape)); }

    public static Tensor of(double[] values, long... shape) { return new Tensor(NDArray.of(values, shape)); }

    public static Tensor of(long[] values, long... shape) { return new Tensor(NDArray.of(values, shape)); }

    public static Tensor of(int[] values, long... shape) { return new Tensor(NDArray.of(values, shape)); }

    public static Tensor ofBooleans(boolean[] values, long... shape) { return new Tensor(NDArray.ofBooleans(values, shape)); }

    // ---- elementwise arithmetic (with type promotion) --------------------------------------------

    public Tensor add(Tensor other) { return binary("add", other); }

    public Tensor sub(Tensor other) { return binary("sub", other); }

    public Tensor mul(Tensor other) { return binary("mul", other); }

    /** True division: integer operands give a float result, as in PyTorch. */
    public Tensor div(Tensor other) {
        DType t = Promotion.resultType(this, other);
        if (!t.isFloatingPoint()) t = DType.F32;
        return op("div", this.to(t), other.to(t));
    }

    public Tensor pow(Tensor exponent) { return binary("pow", exponent); }

    /** Python-style remainder: the result has the divisor's sign. */
    public Tensor remainder(Tensor other) { return binary("remainder", other); }

    public Tensor maximum(Tensor other) { return binary("maximum", other); }

    public Tensor minimum(Tensor other) { return binary("minimum", other); }

    public Tensor add(double value) { return add(scalarLike(value, true)); }

    public Tensor add(long value) { return add(scalarLike(value, false)); }

    public Tensor sub(double value) { return sub(scalarLike(value, true)); }

    public Tensor sub(long value) { return sub(scalarLike(value, false)); }

    public Tensor mul(double value) { return mul(scalarLike(value, true)); }

    public Tensor mul(long value) { return mul(scalarLike(value, false)); }

    public Tensor div(double value) { return div(scalarLike(value, true)); }

    public Tensor div(long value) { return div(scalarLike(value, false)); }

    public Tensor remainder(double value) { return remainder(scalarLike(value, true)); }

    /** {@code this ** exponent} for a scalar exponent. */
    public Tensor pow(double exponent) {
        Tensor x = dtype().isFloatingPoint() ? this : to(DType.F32);
        return op("pow_scalar", Builder.attrs("exponent", exponent), x);
    }

    // ---- elementwise functions -------------------------------------------------------------------

    public Tensor neg() { return op("neg"); }

    public Tensor abs() { return op("abs"); }

    public Tensor sign() { return op("sign"); }

    public Tensor exp() { return floatOp("exp"); }

    public Tensor log() { return floatOp("log"); }

    public Tensor log1p() { return floatOp("log1p"); }

    public Tensor sqrt() { return floatOp("sqrt"); }

    public Tensor rsqrt() { return floatOp("rsqrt"); }

    public Tensor reciprocal() { return floatOp("reciprocal"); }

    public Tensor sin() { return floatOp("sin"); }

    public Tensor cos() { return floatOp("cos"); }

    public Tensor tanh() { return floatOp("tanh"); }

    public Tensor sigmoid() { return floatOp("sigmoid"); }

    public Tensor erf() { return floatOp("erf"); }

    public Tensor relu() { return op("relu"); }

    /** {@code min(max(x, 0), 6)}. */
    public Tensor relu6() { return clamp(0, 6); }

    public Tensor leakyRelu(double negativeSlope) { return op("leaky_relu", Builder.attrs("negative_slope", negativeSlope), this); }

    public Tensor elu(double alpha) { return op("elu", Builder.attrs("alpha", alpha), this); }

    /** GELU; {@code tanhApproximation} selects PyTorch's {@code approximate='tanh'} form. */
    public Tensor gelu(boolean tanhApproximation) {
        return op("gelu", Builder.attrs("approximate", tanhApproximation ? "tanh" : "none"), floatInput());
    }

    public Tensor gelu() { return gelu(false); }

    /** {@code x * sigmoid(x)}. */
    public Tensor silu() { return floatOp("silu"); }

    public Tensor softplus(double beta, double threshold) {
        return op("softplus", Builder.attrs("beta", beta, "threshold", threshold), floatInput());
    }

    public Tensor softplus() { return softplus(1, 20); }

    public Tensor floor() { return op("floor"); }

    public Tensor ceil() { return op("ceil"); }

    /** Rounds half to even, as {@code torch.round}. */
    public Tensor round() { return op("round"); }

    /** Limits values to {@code [min, max]}; pass ±infinity for a one-sided clamp. */
    public Tensor clamp(double min, double max) {
        boolean fractional = !isWhole(min) || !isWhole(max);
        Tensor x = fractional && !dtype().isFloatingPoint() ? to(DType.F32) : this;
        return op("clamp", Builder.attrs("min", min, "max", max), x);
    }

    private static boolean isWhole(double v) { return Double.isInfinite(v) || v == Math.rint(v); }

    /** A copy with its own storage (gradients flow through it). */
    public Tensor copyTensor() { return op("clone"); }

    /** This tensor if its layout is contiguous, otherwise a contiguous copy. */
    public Tensor contiguous() { return isContiguous() ? this : op("clone"); }

    /** A contiguous copy even when this tensor is already contiguous. */
    public Tensor contiguousCopy() { return op("clone"); }

    /** Converts to {@code target}; returns this tensor when the dtype already matches, as PyTorch does. */
    public Tensor to(DType target) {
        return target == dtype() ? this : op("cast", Builder.attrs("dtype", target), this);
    }

    // ---- comparisons and logic -------------------------------------------------------------------

    public Tensor eq(Tensor other) { return compare("eq", other); }

    public Tensor ne(Tensor other) { return compare("ne", other); }

    public Tensor lt(Tensor other) { return compare("lt", other); }

    public Tensor le(Tensor other) { return compare("le", other); }

    public Tensor gt(Tensor other) { return compare("gt", other); }

    public Tensor ge(Tensor other) { return compare("ge", other); }

    public Tensor eq(double v) { return eq(scalarLike(v, true)); }

    public Tensor gt(double v) { return gt(scalarLike(v, true)); }

    public Tensor lt(double v) { return lt(scalarLike(v, true)); }

    public Tensor ge(double v) { return ge(scalarLike(v, true)); }

    public Tensor le(double v) { return le(scalarLike(v, true)); }

    public Tensor logicalAnd(Tensor other) { return op("logical_and", to(DType.BOOL), other.to(DType.BOOL)); }

    public Tensor logicalOr(Tensor other) { return op("logical_or", to(DType.BOOL), other.to(DType.BOOL)); }

    public Tensor logicalNot() { return op("logical_not", to(DType.BOOL)); }

    /** Elementwise {@code condition ? a : b}, broadcasting all three. */
    public static Tensor where(Tensor condition, Tensor a, Tensor b) {
        DType t = Promotion.resultType(a, b);
        return Dispatch.call("where", Map.of(), condition.to(DType.BOOL), a.to(t), b.to(t));
    }

    // ---- reductions ------------------------------------------------------------------------------

    public Tensor sum() { return reduce("sum", new int[0], false); }

    public Tensor sum(int dim, boolean keepDim) { return reduce("sum", new int[] {dim}, keepDim); }

    public Tensor sum(int[] dims, boolean keepDim) { return reduce("sum", dims, keepDim); }

    public Tensor mean() { return reduce("mean", new int[0], false); }

    public Tensor mean(int dim, boolean keepDim) { return reduce("mean", new int[] {dim}, keepDim); }

    public Tensor mean(int[] dims, boolean keepDim) { return reduce("mean", dims, keepDim); }

    public Tensor prod() { return reduce("prod", new int[0], false); }

    public Tensor prod(int dim, boolean keepDim) { return reduce("prod", new int[] {dim}, keepDim); }

    /** The largest element. */
    public Tensor max() { return reduce("amax", new int[0], false); }

    /** The largest values along {@code dim} (use {@link #argmax(int, boolean)} for their indices). */
    public Tensor max(int dim, boolean keepDim) { return reduce("amax", new int[] {dim}, keepDim); }

    public Tensor min() { return reduce("amin", new int[0], false); }

    public Tensor min(int dim, boolean keepDim) { return reduce("amin", new int[] {dim}, keepDim); }

    public Tensor amax(int[] dims, boolean keepDim) { return reduce("amax", dims, keepDim); }

    public Tensor amin(int[] dims, boolean keepDim) { return reduce("amin", dims, keepDim); }

    /** Index of the largest element of the flattened tensor (i64, 0-d). */
    public Tensor argmax() { return reshape(-1).argmax(0, false); }

    public Tensor argmax(int dim, boolean keepDim) { return op("argmax", Builder.attrs("axis", dim, "keepdim", keepDim), this); }

    public Tensor argmin() { return reshape(-1).argmin(0, false); }

    public Tensor argmin(int dim, boolean keepDim) { return op("argmin", Builder.attrs("axis", dim, "keepdim", keepDim), this); }

    /** {@code log(sum(exp(x)))} along {@code dims}, computed stably. */
    public Tensor logsumexp(int[] dims, boolean keepDim) { return floatInput().reduce("logsumexp", dims, keepDim); }

    public Tensor logsumexp(int dim, boolean keepDim) { return logsumexp(new int[] {dim}, keepDim); }

    /** Variance with Bessel's {@code correction} (1 = unbiased, as PyTorch's default). */
    public Tensor var(int[] dims, boolean keepDim, int correction) {
        Tensor x = floatInput();
        Tensor centred = x.sub(x.mean(dims, true));
        Tensor squares = centred.mul(centred);
        // The biased form divides inside mean, so no element count is frozen into a traced graph.
        if (correction == 0) return squares.mean(dims, keepDim);
        long n = reducedCount(dims);
        return squares.sum(dims, keepDim).div((double) Math.max(0, n - correction));
    }

    public Tensor var() { return var(new int[0], false, 1); }

    public Tensor std(int[] dims, boolean keepDim, int correction) { return var(dims, keepDim, correction).sqrt(); }

    public Tensor std() { return std(new int[0], false, 1); }

    /** The p-norm over all elements ({@code p} = 1, 2 or infinity). */
    public Tensor norm(double p) { return norm(p, new int[0], false); }

    /** The p-norm over {@code dims} ({@code p} = 1, 2, infinity, or any positive p). */
    public Tensor norm(double p, int[] dims, boolean keepDim) {
        Tensor x = floatInput();
        if (p == 2) return x.mul(x).sum(dims, keepDim).sqrt();
        if (p == 1) return x.abs().sum(dims, keepDim);
        if (p == Double.POSITIVE_INFINITY) return x.abs().amax(dims, keepDim);
        if (!(p > 0)) throw new IllegalArgumentException("norm: p must be positive, got " + p);
        return x.abs().pow(p).sum(dims, keepDim).pow(1 / p);
    }

    // ---- linear algebra --------------------------------------------------------------------------

    /** NumPy/PyTorch matmul: batched and broadcast, 1-D operands promoted. */
    public Tensor matmul(Tensor other) { return binary("matmul", other); }

    /** Batched matrix product of two rank-3 tensors with equal batch sizes. */
    public Tensor bmm(Tensor other) {
        if (rank() != 3 || other.rank() != 3 || dim(0) != other.dim(0)) {
            throw new IllegalArgumentException("bmm: expects [B, n, m] and [B, m, p], got " + Arrays.toString(shape())
                    + " and " + Arrays.toString(other.shape()));
        }
        return matmul(other);
    }

    /** {@code beta * this + alpha * (a @ b)}. */
    public Tensor addmm(Tensor a, Tensor b, double beta, double alpha) {
        Tensor product = a.matmul(b);
        return (beta == 1 ? this : mul(beta)).add(alpha == 1 ? product : product.mul(alpha));
    }

    public Tensor softmax(int axis) { return op("softmax", Builder.attrs("axis", axis), floatInput()); }

    public Tensor logSoftmax(int axis) { return op("log_softmax", Builder.attrs("axis", axis), floatInput()); }

    // ---- shape and views -------------------------------------------------------------------------

    /** Same elements in a new shape (one entry may be -1): a view when the layout allows, else a copy. */
    public Tensor reshape(long... newShape) { return op("reshape", Builder.attrs("shape", newShape), this); }

    /** Like {@link #reshape}, but always a view: a layout whose strides cannot express it is an error. */
    public Tensor view(long... newShape) {
        if (data.viewOrNull(newShape) == null) {
            throw new IllegalStateException("view: tensor of shape " + Arrays.toString(shape()) + " with strides "
                    + Arrays.toString(data.strides()) + " is not compatible with shape " + Arrays.toString(newShape)
                    + " (not contiguous enough); use reshape(...) or contiguous().view(...)");
        }
        return reshape(newShape);
    }

    public Tensor permute(int... perm) { return op("permute", Builder.attrs("perm", perm), this); }

    /** Swaps two dims (a view). */
    public Tensor transpose(int dim0, int dim1) {
        int[] perm = new int[rank()];
        for (int i = 0; i < perm.length; i++) perm[i] = i;
        int a = Shape.normalizeAxis(dim0, rank()), b = Shape.normalizeAxis(dim1, rank());
        perm[a] = b;
        perm[b] = a;
        return permute(perm);
    }

    /** The transpose of a 2-D tensor (a view). */
    public Tensor t() {
        if (rank() != 2) throw new IllegalArgumentException("t: expects a 2-D tensor, got shape " + Arrays.toString(shape()));
        return transpose(0, 1);
    }

    public Tensor flatten() { return flatten(0, -1); }

    public Tensor flatten(int startDim, int endDim) {
        return op("flatten", Builder.attrs("start_dim", startDim, "end_dim", endDim), this);
    }

    /** Removes dim {@code axis}, which must have size 1 (a view). */
    public Tensor squeeze(int axis) {
        int a = Shape.normalizeAxis(axis, rank());
        if (dim(a) != 1) return this;
        List<Long> dims = new ArrayList<>();
        for (int i = 0; i < rank(); i++) if (i != a) dims.add(dim(i));
        return reshape(dims.stream().mapToLong(Long::longValue).toArray());
    }

    /** Removes every dim of size 1. */
    public Tensor squeeze() { return reshape(Arrays.stream(shape()).filter(d -> d != 1).toArray()); }

    /** Inserts a dim of size 1 at {@code axis} (a view). */
    public Tensor unsqueeze(int axis) {
        int a = axis < 0 ? axis + rank() + 1 : axis;
        if (a < 0 || a > rank()) throw new IllegalArgumentException("unsqueeze: axis " + axis + " is out of range for rank " + rank());
        long[] dims = new long[rank() + 1];
        for (int i = 0, j = 0; i < dims.length; i++) dims[i] = i == a ? 1 : dim(j++);
        return reshape(dims);
    }

    /** Broadcasts to {@code shape} without copying (-1 keeps a dim); writing to the result is an error. */
    public Tensor expand(long... newShape) { return op("expand", Builder.attrs("shape", newShape), this); }

    /** Elements {@code start} (inclusive) to {@code end} (exclusive) with {@code step} along {@code axis} (a view). */
    public Tensor slice(int axis, long start, long end, long step) {
        return op("slice", Builder.attrs("axis", axis, "start", start, "end", end, "step", step), this);
    }

    /** {@code length} elements from {@code start} along {@code axis} (a view). */
    public Tensor narrow(int axis, long start, long length) {
        long size = dim(axis);
        long from = start < 0 ? start + size : start;
        if (from < 0 || length < 0 || from + length > size) {
            throw new IllegalArgumentException("narrow: start (" + start + ") + length (" + length + ") exceeds dimension size (" + size + ")");
        }
        return slice(axis, from, from + length, 1);
    }

    /** Index {@code index} along {@code axis}, removing that dim (a view). */
    public Tensor select(int axis, long index) {
        long size = dim(axis);
        long i = index < 0 ? index + size : index;
        if (i < 0 || i >= size) throw new IllegalArgumentException("select: index " + index + " is out of range for size " + size);
        return narrow(axis, i, 1).squeeze(axis);
    }

    /** Pieces of {@code size} (the last may be smaller) along {@code axis}; views. */
    public List<Tensor> split(long size, int axis) {
        if (size <= 0) throw new IllegalArgumentException("split: size must be positive, got " + size);
        List<Tensor> out = new ArrayList<>();
        for (long s = 0; s < dim(axis); s += size) out.add(narrow(axis, s, Math.min(size, dim(axis) - s)));
        return out;
    }

    /** {@code chunks} nearly equal pieces along {@code axis}, as {@code torch.chunk}. */
    public List<Tensor> chunk(int chunks, int axis) {
        if (chunks <= 0) throw new IllegalArgumentException("chunk: chunks must be positive, got " + chunks);
        return split(Math.ceilDiv(dim(axis), chunks), axis);
    }

    public static Tensor cat(List<Tensor> tensors, int axis) {
        if (tensors.isEmpty()) throw new IllegalArgumentException("cat: needs at least one tensor");
        DType t = tensors.get(0).dtype();
        for (Tensor x : tensors) t = Promotion.promoteTypes(t, x.dtype());
        DType common = t;
        return Dispatch.call("cat", Builder.attrs("axis", axis), tensors.stream().map(x -> x.to(common)).toArray(Tensor[]::new));
    }

    /** Joins tensors of equal shape along a new dim {@code axis}. */
    public static Tensor stack(List<Tensor> tensors, int axis) {
        if (tensors.isEmpty()) throw new IllegalArgumentException("stack: needs at least one tensor");
        return cat(tensors.stream().map(x -> x.unsqueeze(axis)).toList(), axis);
    }

    /** Reverses the order of elements along {@code axes}. */
    public Tensor flip(int... axes) { return op("flip", Builder.attrs("axes", axes), this); }

    /** Tiles the tensor {@code repeats[i]} times along each dim, as {@code Tensor.repeat}. */
    public Tensor repeat(long... repeats) { return op("repeat", Builder.attrs("repeats", repeats), this); }

    /** The lower triangle (on and below diagonal {@code k}) of the last two dims; the rest zero. */
    public Tensor tril(long k) { return op("tril", Builder.attrs("diagonal", k), this); }

    public Tensor triu(long k) { return op("triu", Builder.attrs("diagonal", k), this); }

    /** Constant padding; {@code pads} lists (before, after) pairs starting from the last dim, as {@code F.pad}. */
    public Tensor pad(long[] pads, double value) { return op("pad", Builder.attrs("pads", pads, "value", value), this); }

    // ---- indexing --------------------------------------------------------------------------------

    /** {@code out[i][j] = this[index[i][j]][j]} for axis 0, and so on (index is i64, same rank). */
    public Tensor gather(int axis, Tensor index) { return op("gather", Builder.attrs("axis", axis), this, index.to(DType.I64)); }

    /** Picks entries {@code index} (1-D, i64) along {@code axis}. */
    public Tensor indexSelect(int axis, Tensor index) {
        return op("index_select", Builder.attrs("axis", axis), this, index.to(DType.I64));
    }

    /** A copy with {@code src} written at {@code index} along {@code axis}. */
    public Tensor scatter(int axis, Tensor index, Tensor src) {
        return op("scatter", Builder.attrs("axis", axis), this, index.to(DType.I64), sameDType("scatter", src));
    }

    /** A copy with {@code src} added at {@code index} along {@code axis}. */
    public Tensor scatterAdd(int axis, Tensor index, Tensor src) {
        return op("scatter_add", Builder.attrs("axis", axis), this, index.to(DType.I64), sameDType("scatter_add", src));
    }

    private Tensor sameDType(String op, Tensor src) {
        if (src.dtype() != dtype()) throw new IllegalArgumentException(op + ": src dtype " + src.dtype() + " must match self dtype " + dtype());
        return src;
    }

    /** One-hot encoding of integer class indices in {@code [0, classes)}: a new last dim, i64 like PyTorch. */
    public Tensor oneHot(long classes) {
        if (dtype().isFloatingPoint()) throw new IllegalArgumentException("oneHot: needs integer class indices, got " + dtype());
        if (numel() > 0) {
            long lo = (long) min().item(), hi = (long) max().item();
            if (lo < 0 || hi >= classes) {
                throw new IllegalArgumentException("oneHot: class values must be in [0, " + classes + "), got values from " + lo + " to " + hi);
            }
        }
        return unsqueeze(-1).to(DType.I64).eq(arange(classes)).to(DType.I64);
    }

    // ---- in-place ops ----------------------------------------------------------------------------

    public Tensor add_(Tensor other) { return inPlace(add(other)); }

    public Tensor add_(double value) { return inPlace(add(value)); }

    public Tensor sub_(Tensor other) { return inPlace(sub(other)); }

    public Tensor sub_(double value) { return inPlace(sub(value)); }

    public Tensor mul_(Tensor other) { return inPlace(mul(other)); }

    public Tensor mul_(double value) { return inPlace(mul(value)); }

    public Tensor div_(Tensor other) { return inPlace(div(other)); }

    public Tensor div_(double value) { return inPlace(div(value)); }

    public Tensor clamp_(double min, double max) { return inPlace(clamp(min, max)); }

    public Tensor relu_() { return inPlace(relu()); }

    public Tensor zero_() { return fill_(0); }

    public Tensor fill_(double value) { return inPlace(fullLike(this, value)); }

    /** Copies {@code src} (broadcast, converted to this dtype) into this tensor. */
    public Tensor copy_(Tensor src) { return inPlace(src.to(dtype()).expand(shape())); }

    /**
     * Writes an op's out-of-place {@code result} into this tensor's storage: views of it see the change,
     * its version counter advances, and for autograd this tensor now carries the result's history.
     */
    private Tensor inPlace(Tensor result) {
        if (Autograd.isGradEnabled()) {
            if (requiresGrad && isLeaf()) {
                throw new IllegalStateException("a leaf tensor that requires grad is being used in an in-place operation; "
                        + "do it under Autograd.noGrad() or on a copy");
            }
            if (result.requiresGrad() && viewBase != null) {
                throw new UnsupportedOperationException("in-place operations that record gradients are not supported on views; "
                        + "use the out-of-place form");
            }
        }
        if (result.dtype() != dtype()) {
            throw new IllegalArgumentException("in-place result type " + result.dtype() + " can't be cast to the tensor's type "
                    + dtype() + "; use the out-of-place form");
        }
        if (!Arrays.equals(result.shape(), shape())) {
            throw new IllegalArgumentException("in-place output of shape " + Arrays.toString(result.shape())
                    + " doesn't match the tensor's shape " + Arrays.toString(shape()));
        }
        if (data.hasInternalOverlap()) {
            throw new IllegalStateException("in-place write to a tensor in which several elements share one memory location "
                    + "(e.g. an expand() result); clone() it first");
        }
        Dispatch.inPlaceWrite(this);
        data.assign(result.data());
        bumpVersion();
        // The tensor now holds the result, so it takes the result's history (a leaf keeps its flag).
        if (!isLeaf() || result.gradFn != null) {
            gradFn = result.gradFn;
            requiresGrad = gradFn != null;
        }
        Dispatch.alias(this, result);
        return this;
    }

    // ---- reading data ----------------------------------------------------------------------------

    /** The value of a one-element tensor. Under tracing this is where data leaves the graph. */
    public double item() {
        Dispatch.dataRead(this, "item()");
        if (numel() != 1) throw new IllegalArgumentException("item: tensor of shape " + Arrays.toString(shape()) + " has " + numel() + " elements, not 1");
        return data.getFlat(0);
    }

    public float[] toFloatArray() {
        Dispatch.dataRead(this, "toFloatArray()");
        return data.toFloatArray();
    }

    public double[] toDoubleArray() {
        Dispatch.dataRead(this, "toDoubleArray()");
        return data.toDoubleArray();
    }

    public long[] toLongArray() {
        Dispatch.dataRead(this, "toLongArray()");
        return data.toLongArray();
    }

    public boolean[] toBooleanArray() {
        Dispatch.dataRead(this, "toBooleanArray()");
        return data.toBooleanArray();
    }

    @Override
    public String toString() {
        return "Tensor" + data + (gradFn != null ? ", grad_fn=" + gradFn.op() : requiresGrad ? ", requires_grad" : "");
    }

    // ---- helpers ---------------------------------------------------------------------------------

    private Tensor binary(String name, Tensor other) {
        DType t = Promotion.resultType(this, other);
        return op(name, this.to(t), other.to(t));
    }

    private Tensor compare(String name, Tensor other) {
        DType t = Promotion.resultType(this, other);
        return op(name, this.to(t), other.to(t));
    }

    /** Ops defined on floats only promote integer inputs to the default float dtype, as PyTorch does. */
    private Tensor floatOp(String name) { return op(name, floatInput()); }

    private Tensor floatInput() { return dtype().isFloatingPoint() ? this : to(DType.F32); }

    /** A 0-d operand for a Java number: of this tensor's dtype unless the number's category is higher. */
    private Tensor scalarLike(double value, boolean isFloat) {
        return scalar(Promotion.resultType(this, isFloat), value);
    }

    private Tensor reduce(String name, int[] dims, boolean keepDim) {
        Tensor x = name.equals("sum") || name.equals("prod") ? (dtype().isFloatingPoint() ? this : to(DType.I64)) : this;
        return op(name, Builder.attrs("axes", dims, "keepdim", keepDim), x);
    }

    private long reducedCount(int[] dims) {
        if (dims.length == 0) return numel();
        long n = 1;
        for (int d : dims) n *= dim(d);
        return n;
    }

    private Tensor op(String name) { return Dispatch.call(name, Map.of(), this); }

    private static Tensor op(String name, Tensor... inputs) { return Dispatch.call(name, Map.of(), inputs); }

    private static Tensor op(String name, Map<String, dev.kiln.ir.Attribute> attrs, Tensor... inputs) {
        return Dispatch.call(name, attrs, inputs);
    }
}
