package dev.kiln.frontend;

import dev.kiln.ir.Attribute;
import dev.kiln.ir.Builder;
import dev.kiln.ir.DType;
import dev.kiln.runtime.NDArray;

import java.util.Arrays;
import java.util.Map;

/**
 * An n-dimensional array with PyTorch-style methods. Data lives off-heap in an {@link NDArray};
 * every op goes through {@link Dispatch}, so it runs eagerly and can be traced into IR. Autograd
 * metadata will live beside the data here (a later issue); tensors are otherwise immutable handles.
 */
public class Tensor {

    private final NDArray data;

    protected Tensor(NDArray data) { this.data = java.util.Objects.requireNonNull(data, "data"); }

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

    // ---- creation --------------------------------------------------------------------------------

    public static Tensor zeros(long... shape) { return zeros(DType.F32, shape); }

    public static Tensor zeros(DType dtype, long... shape) { return new Tensor(NDArray.zeros(dtype, shape)); }

    public static Tensor ones(long... shape) { return full(1.0, shape); }

    public static Tensor full(double value, long... shape) { return full(DType.F32, value, shape); }

    public static Tensor full(DType dtype, double value, long... shape) { return new Tensor(NDArray.full(dtype, value, shape)); }

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

    public static Tensor of(float[] values, long... shape) { return new Tensor(NDArray.of(values, shape)); }

    public static Tensor of(double[] values, long... shape) { return new Tensor(NDArray.of(values, shape)); }

    public static Tensor of(long[] values, long... shape) { return new Tensor(NDArray.of(values, shape)); }

    public static Tensor of(int[] values, long... shape) { return new Tensor(NDArray.of(values, shape)); }

    public static Tensor ofBooleans(boolean[] values, long... shape) { return new Tensor(NDArray.ofBooleans(values, shape)); }

    // ---- elementwise -----------------------------------------------------------------------------

    public Tensor add(Tensor other) { return op("add", other); }

    public Tensor sub(Tensor other) { return op("sub", other); }

    public Tensor mul(Tensor other) { return op("mul", other); }

    public Tensor div(Tensor other) { return op("div", other); }

    public Tensor add(double value) { return add(scalar(dtype(), value)); }

    public Tensor sub(double value) { return sub(scalar(dtype(), value)); }

    public Tensor mul(double value) { return mul(scalar(dtype(), value)); }

    public Tensor div(double value) { return div(scalar(dtype(), value)); }

    public Tensor neg() { return op("neg"); }

    public Tensor relu() { return op("relu"); }

    public Tensor sigmoid() { return op("sigmoid"); }

    public Tensor tanh() { return op("tanh"); }

    public Tensor gt(Tensor other) { return op("gt", other); }

    public Tensor lt(Tensor other) { return op("lt", other); }

    public Tensor eq(Tensor other) { return op("eq", other); }

    /** Converts to {@code target}; returns this tensor when the dtype already matches, as PyTorch does. */
    public Tensor to(DType target) {
        return target == dtype() ? this : Dispatch.call("cast", Builder.attrs("dtype", target), this);
    }

    // ---- linear algebra and nn -------------------------------------------------------------------

    /** NumPy/PyTorch matmul: batched and broadcast, 1-D operands promoted. */
    public Tensor matmul(Tensor other) { return op("matmul", other); }

    public Tensor softmax(int axis) { return Dispatch.call("softmax", Builder.attrs("axis", axis), this); }

    public Tensor logSoftmax(int axis) { return Dispatch.call("log_softmax", Builder.attrs("axis", axis), this); }

    // ---- shape -----------------------------------------------------------------------------------

    /** Same elements in a new shape; one entry may be -1. */
    public Tensor reshape(long... newShape) { return Dispatch.call("reshape", Builder.attrs("shape", newShape), this); }

    public Tensor permute(int... perm) { return Dispatch.call("permute", Builder.attrs("perm", perm), this); }

    /** Swaps two dims. */
    public Tensor transpose(int dim0, int dim1) {
        int[] perm = new int[rank()];
        for (int i = 0; i < perm.length; i++) perm[i] = i;
        int a = dev.kiln.ir.Shape.normalizeAxis(dim0, rank()), b = dev.kiln.ir.Shape.normalizeAxis(dim1, rank());
        perm[a] = b;
        perm[b] = a;
        return permute(perm);
    }

    public Tensor flatten() { return flatten(0, -1); }

    public Tensor flatten(int startDim, int endDim) {
        return Dispatch.call("flatten", Builder.attrs("start_dim", startDim, "end_dim", endDim), this);
    }

    // ---- reductions ------------------------------------------------------------------------------

    public Tensor sum() { return reduce("sum", new int[0], false); }

    public Tensor sum(int dim, boolean keepDim) { return reduce("sum", new int[] {dim}, keepDim); }

    public Tensor sum(int[] dims, boolean keepDim) { return reduce("sum", dims, keepDim); }

    public Tensor mean() { return reduce("mean", new int[0], false); }

    public Tensor mean(int dim, boolean keepDim) { return reduce("mean", new int[] {dim}, keepDim); }

    public Tensor mean(int[] dims, boolean keepDim) { return reduce("mean", dims, keepDim); }

    private Tensor reduce(String op, int[] dims, boolean keepDim) {
        return Dispatch.call(op, Builder.attrs("axes", dims, "keepdim", keepDim), this);
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

    private Tensor op(String name, Tensor... others) {
        Tensor[] inputs = new Tensor[others.length + 1];
        inputs[0] = this;
        System.arraycopy(others, 0, inputs, 1, others.length);
        return Dispatch.call(name, Map.of(), inputs);
    }

    @Override
    public String toString() { return "Tensor" + data; }

    /** Attributes helper for subclasses and functional ops. */
    static Map<String, Attribute> attrs(Object... kv) { return Builder.attrs(kv); }
}
