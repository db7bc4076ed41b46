package dev.kiln.runtime;

import dev.kiln.ir.DType;
import dev.kiln.ir.KilnException;
import dev.kiln.ir.Shape;
import dev.kiln.ir.ShapeRules;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * An n-dimensional tensor stored off-heap: a {@link MemorySegment} viewed through a dtype, a shape, element
 * strides and an element offset. Metadata is immutable, so views ({@link #permute}, {@link #broadcastTo}, ...)
 * are cheap and share data; the data itself is mutable. New tensors are allocated in the current
 * {@link MemoryScope} (or GC-managed memory outside any scope), aligned to 64 bytes.
 */
public final class NDArray {
    private static final long ALIGNMENT = 64;
    private static final int PREVIEW_VALUES = 8;

    private final MemorySegment segment;
    private final DType dtype;
    private final long[] shape;
    private final long[] strides;
    private final long offset;
    private final long numel;

    private NDArray(MemorySegment segment, DType dtype, long[] shape, long[] strides, long offset) {
        this.segment = segment;
        this.dtype = dtype;
        this.shape = shape;
        this.strides = strides;
        this.offset = offset;
        this.numel = Shapes.numel(shape);
    }

    // ---------------------------------------------------------------- creation

    /**
     * A new contiguous tensor of zeros. Memory comes from the slot the interpreter's planned mode
     * offered for the running op's result when dtype and element count match (see {@link Allocations});
     * otherwise it is fresh memory from the current {@link MemoryScope}, counted in {@link Allocations}. A
     * tensor larger than {@link TensorLimits#maxTensorBytes()}, or one the machine cannot allocate, is a
     * {@link KilnException} before any memory is taken.
     */
    public static NDArray zeros(DType dtype, long... shape) {
        long[] dims = shape.clone();
        long numel = Shapes.numel(dims);
        MemorySegment seg = Placement.claim(dtype, numel);
        if (seg == null) {
            long bytes = TensorLimits.checkedBytes(dtype, dims, "a new tensor");
            try {
                seg = MemoryScope.allocateTensor(bytes, ALIGNMENT);
            } catch (OutOfMemoryError e) {
                throw new KilnException("a new tensor: " + dtype + " " + Shapes.str(dims) + " needs " + TensorLimits.describe(bytes)
                        + ", which the machine cannot allocate now (" + e.getMessage() + ")", e);
            }
            Allocations.record(bytes);
        }
        return new NDArray(seg, dtype, dims, Shapes.contiguousStrides(dims), 0);
    }

    /** A new contiguous tensor with every element set to {@code value} (converted to {@code dtype}). */
    public static NDArray full(DType dtype, double value, long... shape) {
        NDArray t = zeros(dtype, shape);
        if (value != 0 || Double.doubleToRawLongBits(value) != 0) {
            for (long i = 0; i < t.numel; i++) Elements.setDouble(t.segment, dtype, i, value);
        }
        return t;
    }

    /** An f32 tensor holding {@code data} in row-major order; no shape means 1-D of {@code data.length}. */
    public static NDArray of(float[] data, long... shape) {
        NDArray t = zeros(DType.F32, checkedShape("of", data.length, shape));
        MemorySegment.copy(data, 0, t.segment, Elements.F32, 0, data.length);
        return t;
    }

    /** An f64 tensor holding {@code data} in row-major order; no shape means 1-D. */
    public static NDArray of(double[] data, long... shape) {
        NDArray t = zeros(DType.F64, checkedShape("of", data.length, shape));
        MemorySegment.copy(data, 0, t.segment, Elements.F64, 0, data.length);
        return t;
    }

    /** An i64 tensor holding {@code data} in row-major order; no shape means 1-D. */
    public static NDArray of(long[] data, long... shape) {
        NDArray t = zeros(DType.I64, checkedShape("of", data.length, shape));
        MemorySegment.copy(data, 0, t.segment, Elements.I64, 0, data.length);
        return t;
    }

    /** An i32 tensor holding {@code data} in row-major order; no shape means 1-D. */
    public static NDArray of(int[] data, long... shape) {
        NDArray t = zeros(DType.I32, checkedShape("of", data.length, shape));
        MemorySegment.copy(data, 0, t.segment, Elements.I32, 0, data.length);
        return t;
    }

    /** A bool tensor holding {@code data} in row-major order; no shape means 1-D. */
    public static NDArray ofBooleans(boolean[] data, long... shape) {
        NDArray t = zeros(DType.BOOL, checkedShape("ofBooleans", data.length, shape));
        for (int i = 0; i < data.length; i++) t.segment.set(Elements.I8, i, (byte) (data[i] ? 1 : 0));
        return t;
    }

    /**
     * Views existing memory as a tensor (for interop with code that owns its own segments). Throws if any
     * addressed element would fall outside {@code segment}.
     */
    public static NDArray wrap(MemorySegment segment, DType dtype, long[] shape, long[] strides, long offset) {
        long[] dims = shape.clone();
        long[] st = strides.clone();
        if (st.length != dims.length) {
            throw new KilnException("wrap: strides " + Shapes.str(st) + " do not match shape "
                    + Shapes.str(dims));
        }
        long n = Shapes.numel(dims);
        long last = offset;
        for (int i = 0; i < dims.length; i++) {
            if (st[i] < 0) throw new KilnException("wrap: negative stride in " + Shapes.str(st));
            if (dims[i] > 0) last += (dims[i] - 1) * st[i];
        }
        long capacity = segment.byteSize() / dtype.byteSize();
        if (offset < 0 || (n > 0 && last >= capacity)) {
            throw new KilnException("wrap: shape " + Shapes.str(dims) + " with strides " + Shapes.str(st)
                    + " and offset " + offset + " needs element " + last + " but the segment holds " + capacity
                    + " " + dtype + " elements");
        }
        return new NDArray(segment, dtype, dims, st, offset);
    }

    private static long[] checkedShape(String op, int length, long[] shape) {
        long[] dims = shape.length == 0 ? new long[] {length} : shape.clone();
        long n = Shapes.numel(dims);
        if (n != length) {
            throw new KilnException(op + ": shape " + Shapes.str(dims) + " needs " + n
                    + " elements but the data has " + length);
        }
        return dims;
    }

    // ---------------------------------------------------------------- metadata

    /** The element type. */
    public DType dtype() { return dtype; }

    /** A copy of the shape. */
    public long[] shape() { return shape.clone(); }

    /** A copy of the strides, in elements. */
    public long[] strides() { return strides.clone(); }

    /** Offset of the first element in the segment, in elements. */
    public long offset() { return offset; }

    /** The backing memory (shared with every view of it). */
    public MemorySegment segment() { return segment; }

    /** Number of dimensions (0 for a scalar). */
    public int rank() { return shape.length; }

    /** Number of elements (the product of the shape). */
    public long numel() { return numel; }

    /** Size of dimension {@code axis}; negative axes count from the end. */
    public long dim(int axis) {
        return shape[Shapes.axis("dim", axis, shape.length)];
    }

    /** Whether elements are laid out densely in row-major order (size-1 dimensions may have any stride). */
    public boolean isContiguous() {
        long expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] == 0) return true;
            if (shape[i] != 1 && strides[i] != expected) return false;
            expected *= shape[i];
        }
        return true;
    }

    // ---------------------------------------------------------------- element access

    /** The element at {@code index} (one coordinate per dimension) as a double. */
    public double getDouble(long... index) {
        return Elements.getDouble(segment, dtype, elementOffset(index));
    }

    /** Sets the element at {@code index} to {@code value}, converted to this dtype. */
    public void setDouble(double value, long... index) {
        Elements.setDouble(segment, dtype, elementOffset(index), value);
    }

    /** The element at {@code index} as a long (exact for i64; floats truncate). */
    public long getLong(long... index) {
        return Elements.getLong(segment, dtype, elementOffset(index));
    }

    /** Sets the element at {@code index} to {@code value}, converted to this dtype. */
    public void setLong(long value, long... index) {
        Elements.setLong(segment, dtype, elementOffset(index), value);
    }

    /** The value of a one-element tensor. */
    public double item() {
        if (numel != 1) {
            throw new KilnException("item: tensor of shape " + Shapes.str(shape)
                    + " has " + numel + " elements, expected exactly 1");
        }
        return Elements.getDouble(segment, dtype, flatToOffset(0));
    }

    /** The element with row-major flat index {@code flat} as a double (fast when contiguous). */
    public double getFlat(long flat) {
        return Elements.getDouble(segment, dtype, flatToOffset(checkFlat(flat)));
    }

    /** Sets the element with row-major flat index {@code flat}. */
    public void setFlat(long flat, double value) {
        Elements.setDouble(segment, dtype, flatToOffset(checkFlat(flat)), value);
    }

    /** The f32 element with row-major flat index {@code flat}; this tensor must be f32. */
    public float getFloat(long flat) {
        requireF32("getFloat");
        return segment.getAtIndex(Elements.F32, flatToOffset(checkFlat(flat)));
    }

    /** Sets the f32 element with row-major flat index {@code flat}; this tensor must be f32. */
    public void setFloat(long flat, float value) {
        requireF32("setFloat");
        segment.setAtIndex(Elements.F32, flatToOffset(checkFlat(flat)), value);
    }

    private void requireF32(String op) {
        if (dtype != DType.F32) throw new KilnException(op + ": tensor is " + dtype + ", not f32");
    }

    private long checkFlat(long flat) {
        if (flat < 0 || flat >= numel) {
            throw new IndexOutOfBoundsException("flat index " + flat + " out of range for shape " + Shapes.str(shape)
                    + " (" + numel + " elements)");
        }
        return flat;
    }

    private long flatToOffset(long flat) {
        if (isContiguous()) return offset + flat;
        long pos = offset;
        for (int d = shape.length - 1; d >= 0; d--) {
            pos += (flat % shape[d]) * strides[d];
            flat /= shape[d];
        }
        return pos;
    }

    private long elementOffset(long[] index) {
        if (index.length != shape.length) {
            throw new KilnException("index " + Arrays.toString(index) + " has " + index.length
                    + " coordinates but the tensor has shape " + Shapes.str(shape));
        }
        long pos = offset;
        for (int d = 0; d < index.length; d++) {
            if (index[d] < 0 || index[d] >= shape[d]) {
                throw new IndexOutOfBoundsException("index " + Arrays.toString(index) + " out of bounds for shape "
                        + Shapes.str(shape));
            }
            pos += index[d] * strides[d];
        }
        return pos;
    }

    // ---------------------------------------------------------------- export

    /** All elements in row-major order, converted to float. */
    public float[] toFloatArray() {
        float[] out = new float[arrayLength("toFloatArray")];
        if (dtype == DType.F32 && isContiguous()) {
            MemorySegment.copy(segment, Elements.F32, offset * 4, out, 0, out.length);
            return out;
        }
        StridedCursor c = cursor();
        for (int i = 0; i < out.length; i++, c.advance()) {
            out[i] = (float) Elements.getDouble(segment, dtype, c.position(0));
        }
        return out;
    }

    /** All elements in row-major order, converted to double. */
    public double[] toDoubleArray() {
        double[] out = new double[arrayLength("toDoubleArray")];
        StridedCursor c = cursor();
        for (int i = 0; i < out.length; i++, c.advance()) out[i] = Elements.getDouble(segment, dtype, c.position(0));
        return out;
    }

    /** All elements in row-major order, converted to long (floats truncate toward zero). */
    public long[] toLongArray() {
        long[] out = new long[arrayLength("toLongArray")];
        StridedCursor c = cursor();
        for (int i = 0; i < out.length; i++, c.advance()) out[i] = Elements.getLong(segment, dtype, c.position(0));
        return out;
    }

    /** All elements in row-major order; any non-zero value is true. */
    public boolean[] toBooleanArray() {
        boolean[] out = new boolean[arrayLength("toBooleanArray")];
        StridedCursor c = cursor();
        for (int i = 0; i < out.length; i++, c.advance()) {
            out[i] = Elements.getDouble(segment, dtype, c.position(0)) != 0;
        }
        return out;
    }

    private int arrayLength(String op) {
        if (numel > Integer.MAX_VALUE - 8) {
            throw new KilnException(op + ": tensor of shape " + Shapes.str(shape) + " has " + numel
                    + " elements, too many for a Java array");
        }
        return (int) numel;
    }

    private StridedCursor cursor() {
        return new StridedCursor(shape, new long[] {offset}, strides);
    }

    // ---------------------------------------------------------------- copies and conversion

    /** This tensor if it is already contiguous, otherwise a contiguous copy. */
    public NDArray contiguous() {
        return isContiguous() ? this : copy();
    }

    /** A new contiguous tensor with the same dtype, shape and values. */
    public NDArray copy() {
        NDArray out = zeros(dtype, shape);
        int size = dtype.byteSize();
        if (isContiguous()) {
            MemorySegment.copy(segment, offset * size, out.segment, 0, numel * size);
            return out;
        }
        StridedCursor c = cursor();
        for (long i = 0; i < numel; i++, c.advance()) {
            Elements.copyElement(segment, c.position(0), out.segment, i, size);
        }
        return out;
    }

    /**
     * The elements as little-endian bytes in row-major order, the layout of IR constants, ONNX raw
     * data and safetensors; a copy.
     */
    public byte[] toLittleEndianBytes() {
        if (java.nio.ByteOrder.nativeOrder() != java.nio.ByteOrder.LITTLE_ENDIAN) {
            throw new UnsupportedOperationException("toLittleEndianBytes: big-endian platforms are not supported");
        }
        NDArray c = contiguous();
        int size = dtype.byteSize();
        return c.segment.asSlice(c.offset * size, c.numel * size).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
    }

    /**
     * Writes {@code src} (same dtype, broadcastable to this shape) into this tensor's storage, through
     * any strides: the in-place primitive. Views of the same storage see the new values.
     */
    public void assign(NDArray src) {
        if (src.dtype != dtype) {
            throw new KilnException("assign: source dtype " + src.dtype.irName() + " differs from target " + dtype.irName());
        }
        NDArray from = src.broadcastTo(shape);
        int size = dtype.byteSize();
        if (isContiguous() && from.isContiguous() && from.segment != segment) {
            MemorySegment.copy(from.segment, from.offset * size, segment, offset * size, numel * size);
            return;
        }
        // Read everything first when source and target share storage, so overlapping views copy correctly.
        NDArray staged = from.segment == segment ? from.copy() : from;
        StridedCursor s = staged.cursor(), d = cursor();
        for (long i = 0; i < numel; i++, s.advance(), d.advance()) {
            Elements.copyElement(staged.segment, s.position(0), segment, d.position(0), size);
        }
    }

    /**
     * This tensor converted to {@code target} (this tensor itself when the dtype already matches). Floats
     * round to the nearest representable value, float-to-int truncates toward zero, ints wrap like a C cast,
     * and anything non-zero becomes true.
     */
    public NDArray to(DType target) {
        if (target == dtype) return this;
        NDArray out = zeros(target, shape);
        boolean integral = dtype.kind() != DType.Kind.FLOAT && target.kind() != DType.Kind.FLOAT;
        StridedCursor c = cursor();
        for (long i = 0; i < numel; i++, c.advance()) {
            if (integral) {
                Elements.setLong(out.segment, target, i, Elements.getLong(segment, dtype, c.position(0)));
            } else {
                Elements.setDouble(out.segment, target, i, Elements.getDouble(segment, dtype, c.position(0)));
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- views

    /**
     * The same elements with a new shape (one dimension may be -1 and is inferred). A view when this tensor
     * is contiguous, otherwise a reshaped copy.
     */
    public NDArray reshape(long... newShape) {
        long[] dims = Shapes.resolveReshape(shape, newShape);
        NDArray source = contiguous();
        return new NDArray(source.segment, dtype, dims, Shapes.contiguousStrides(dims), source.offset);
    }

    /** A view with dimensions reordered: dimension {@code i} of the result is dimension {@code perm[i]} here. */
    public NDArray permute(int... perm) {
        if (perm.length != shape.length) {
            throw new KilnException("permute: permutation " + Arrays.toString(perm) + " has "
                    + perm.length + " entries but the tensor has shape " + Shapes.str(shape));
        }
        boolean[] seen = new boolean[perm.length];
        long[] dims = new long[perm.length];
        long[] st = new long[perm.length];
        for (int i = 0; i < perm.length; i++) {
            int axis = Shapes.axis("permute", perm[i], shape.length);
            if (seen[axis]) {
                throw new KilnException("permute: " + Arrays.toString(perm)
                        + " is not a permutation: axis " + axis + " repeats");
            }
            seen[axis] = true;
            dims[i] = shape[axis];
            st[i] = strides[axis];
        }
        return new NDArray(segment, dtype, dims, st, offset);
    }

    /** A view with dimensions {@code d0} and {@code d1} swapped (negative axes allowed). */
    public NDArray transpose(int d0, int d1) {
        int a = Shapes.axis("transpose", d0, shape.length);
        int b = Shapes.axis("transpose", d1, shape.length);
        int[] perm = new int[shape.length];
        for (int i = 0; i < perm.length; i++) perm[i] = i;
        perm[a] = b;
        perm[b] = a;
        return permute(perm);
    }

    /** Merges dimensions {@code startDim..endDim} (inclusive, negative allowed) into one, like torch.flatten. */
    public NDArray flatten(int startDim, int endDim) {
        if (shape.length == 0) return reshape(1);
        int s = Shapes.axis("flatten", startDim, shape.length);
        int e = Shapes.axis("flatten", endDim, shape.length);
        if (s > e) {
            throw new KilnException("flatten: startDim " + startDim + " comes after endDim " + endDim
                    + " for shape " + Shapes.str(shape));
        }
        long[] dims = new long[shape.length - (e - s)];
        long merged = 1;
        for (int i = s; i <= e; i++) merged *= shape[i];
        System.arraycopy(shape, 0, dims, 0, s);
        dims[s] = merged;
        System.arraycopy(shape, e + 1, dims, s + 1, shape.length - e - 1);
        return reshape(dims);
    }

    /** A view with a new size-1 dimension inserted at {@code axis} (in {@code [-rank-1, rank]}). */
    public NDArray unsqueeze(int axis) {
        int a = Shapes.axis("unsqueeze", axis, shape.length + 1);
        long[] dims = new long[shape.length + 1];
        long[] st = new long[shape.length + 1];
        for (int i = 0, j = 0; i < dims.length; i++) {
            if (i == a) {
                dims[i] = 1;
                st[i] = a < shape.length ? strides[a] * shape[a] : 1;
            } else {
                dims[i] = shape[j];
                st[i] = strides[j++];
            }
        }
        return new NDArray(segment, dtype, dims, st, offset);
    }

    /** A view without dimension {@code axis}, which must have size 1. */
    public NDArray squeeze(int axis) {
        int a = Shapes.axis("squeeze", axis, shape.length);
        if (shape[a] != 1) {
            throw new KilnException("squeeze: dimension " + axis + " of shape " + Shapes.str(shape)
                    + " has size " + shape[a] + ", not 1");
        }
        long[] dims = new long[shape.length - 1];
        long[] st = new long[shape.length - 1];
        for (int i = 0, j = 0; i < shape.length; i++) {
            if (i == a) continue;
            dims[j] = shape[i];
            st[j++] = strides[i];
        }
        return new NDArray(segment, dtype, dims, st, offset);
    }

    /**
     * A view repeating this tensor along size-1 (or missing leading) dimensions to {@code target}, using zero
     * strides; NumPy broadcasting rules. Writing through the view writes the shared elements.
     */
    public NDArray broadcastTo(long... target) {
        long[] dims = target.clone();
        Shapes.numel(dims);
        if (dims.length < shape.length) {
            throw new KilnException("broadcastTo: cannot broadcast shape " + Shapes.str(shape)
                    + " to " + Shapes.str(dims) + ": the target has fewer dimensions");
        }
        long[] st = new long[dims.length];
        int lead = dims.length - shape.length;
        for (int i = 0; i < shape.length; i++) {
            long have = shape[i];
            long want = dims[i + lead];
            if (have == want) {
                st[i + lead] = strides[i];
            } else if (have == 1) {
                st[i + lead] = 0;
            } else {
                throw new KilnException("broadcastTo: cannot broadcast shape " + Shapes.str(shape)
                        + " to " + Shapes.str(dims) + ": dimension " + i + " has size " + have
                        + " and must be 1 or " + want);
            }
        }
        return new NDArray(segment, dtype, dims, st, offset);
    }

    /**
     * A view of elements {@code start} (inclusive) to {@code end} (exclusive) by {@code step} along {@code axis},
     * with Python's slicing rules: negative bounds count from the end and both clamp to the dim.
     */
    public NDArray slice(int axis, long start, long end, long step) {
        int a = Shapes.axis("slice", axis, shape.length);
        long[] range = ShapeRules.sliceRange("slice", shape[a], start, end, step);
        long[] dims = shape.clone();
        long[] st = strides.clone();
        dims[a] = range[1];
        st[a] = range[1] <= 1 ? strides[a] : strides[a] * step;
        return new NDArray(segment, dtype, dims, st, range[1] == 0 ? offset : offset + range[0] * strides[a]);
    }

    /**
     * A view broadcasting size-1 dims (and new leading dims) to {@code sizes} with zero strides, as
     * {@code torch.Tensor.expand}: -1 keeps a dim.
     */
    public NDArray expand(long... sizes) {
        return broadcastTo(ShapeRules.expand("expand", Shape.of(shape), sizes).toArray());
    }

    /**
     * A view of this tensor's elements in {@code newShape} (one -1 inferred) without copying, or null when the
     * strides cannot express it; PyTorch's rule for {@code view}, which also works on many non-contiguous layouts.
     */
    public NDArray viewOrNull(long... newShape) {
        long[] dims = Shapes.resolveReshape(shape, newShape);
        if (numel == 0 || shape.length == 0) return new NDArray(segment, dtype, dims, Shapes.contiguousStrides(dims), offset);
        long[] st = new long[dims.length];
        int viewD = dims.length - 1;
        long chunkBase = strides[shape.length - 1];
        long tensorNumel = 1, viewNumel = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            tensorNumel *= shape[d];
            // A chunk of dims that are contiguous with each other ends here.
            if (d == 0 || (shape[d - 1] != 1 && strides[d - 1] != tensorNumel * chunkBase)) {
                while (viewD >= 0 && (viewNumel < tensorNumel || dims[viewD] == 1)) {
                    st[viewD] = viewNumel * chunkBase;
                    viewNumel *= dims[viewD];
                    viewD--;
                }
                if (viewNumel != tensorNumel) return null;
                if (d > 0) {
                    chunkBase = strides[d - 1];
                    tensorNumel = 1;
                    viewNumel = 1;
                }
            }
        }
        return viewD == -1 ? new NDArray(segment, dtype, dims, st, offset) : null;
    }

    /**
     * Whether two different indices of this tensor address the same element: a dim of size > 1 with stride 0,
     * as made by {@link #expand} or {@link #broadcastTo}. Writing through such a tensor is ambiguous.
     */
    public boolean hasInternalOverlap() {
        for (int i = 0; i < shape.length; i++) if (shape[i] > 1 && strides[i] == 0) return true;
        return false;
    }

    /** Short summary: dtype, shape and the first few values. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("NDArray(").append(dtype).append(", ").append(Shapes.str(shape))
                .append(", [");
        try {
            long shown = Math.min(numel, PREVIEW_VALUES);
            StridedCursor c = cursor();
            for (long i = 0; i < shown; i++, c.advance()) {
                if (i > 0) sb.append(", ");
                double v = Elements.getDouble(segment, dtype, c.position(0));
                if (dtype.isFloatingPoint()) sb.append((float) v);
                else if (dtype == DType.BOOL) sb.append(v != 0);
                else sb.append((long) v);
            }
            if (numel > shown) sb.append(", ...");
        } catch (IllegalStateException freed) {
            sb.append("<memory freed>");
        }
        return sb.append("])").toString();
    }
}
