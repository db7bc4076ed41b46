package dev.kiln.codegen;

import dev.kiln.ir.KilnException;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.runtime.InputMismatchException;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.OpKernels;
import dev.kiln.runtime.OpAttributes;
import dev.kiln.runtime.ScalarOpsEval;
import dev.kiln.runtime.kernels.Parallel;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;

/**
 * The small runtime support generated code calls: binding and checking inputs at entry, writing outputs, slicing
 * input segments, running rows in parallel, and the reference-kernel calls of ops inside control flow. Everything
 * on the straight-line path allocates nothing.
 */
public final class Steps {
    private Steps() {}

    /**
     * Checks input {@code i} against {@code dtype} and {@code shape} (the sizes this code was generated for), binds
     * it (contiguous) into {@code arrays[i]} and its bytes into {@code segments[i]}. A non-contiguous input is
     * copied first.
     */
    public static void bindInput(List<NDArray> inputs, int i, DType dtype, long[] shape, NDArray[] arrays,
                                 MemorySegment[] segments, String graph) {
        NDArray a = inputs.get(i);
        if (a == null) throw new KilnException(graph + ": input " + i + " is null");
        boolean ok = a.dtype() == dtype && a.rank() == shape.length;
        for (int d = 0; ok && d < shape.length; d++) ok = a.dim(d) == shape[d];
        if (!ok) {
            throw new InputMismatchException(graph + ": input " + i + " expected " + dtype.irName() + Arrays.toString(shape)
                    + ", got " + a.dtype().irName() + Arrays.toString(a.shape()));
        }
        if (!a.isContiguous()) a = a.copy();
        arrays[i] = a;
        segments[i] = contiguousBytes(a);
    }

    /** {@code bytes} of {@code segment} from {@code offset}: a view into a bound input. */
    public static MemorySegment slice(MemorySegment segment, long offset, long bytes) {
        return segment.asSlice(offset, bytes);
    }

    /** Checks output buffer {@code i} against the dtype and shape this code was generated for. */
    public static void checkOutput(List<NDArray> outputs, int i, DType dtype, long[] shape, String graph) {
        NDArray o = outputs.get(i);
        boolean ok = o != null && o.dtype() == dtype && o.rank() == shape.length;
        for (int d = 0; ok && d < shape.length; d++) ok = o.dim(d) == shape[d];
        if (!ok) {
            throw new KilnException(graph + ": output buffer " + i + " must be " + dtype.irName() + Arrays.toString(shape)
                    + ", got " + (o == null ? "null" : o.dtype().irName() + Arrays.toString(o.shape())));
        }
    }

    /**
     * Binds output buffer {@code i} (already checked) as bound buffer {@code index}, for an op to write its result
     * straight into it; {@code slot} instead when the buffer is strided or may share bytes with an input or another
     * output buffer, so that no op reads what it has overwritten.
     */
    public static void bindOutput(List<NDArray> outputs, int i, NDArray slot, int index, NDArray[] arrays, MemorySegment[] segments) {
        NDArray o = outputs.get(i);
        MemorySegment bytes = o.isContiguous() ? contiguousBytes(o) : null;
        int inputCount = index - i;
        for (int k = 0; bytes != null && k < inputCount; k++) {
            if (overlap(bytes, segments[k])) bytes = null;
        }
        for (int k = 0; bytes != null && k < outputs.size(); k++) {
            NDArray other = outputs.get(k);
            if (k != i && overlap(bytes, other.segment())) bytes = null;
        }
        arrays[index] = bytes != null ? o : slot;
        segments[index] = bytes != null ? bytes : slot.segment();
    }

    /** Copies output {@code i} from its slot when {@link #bindOutput} could not bind the caller's buffer. */
    public static void finishOutput(List<NDArray> outputs, int i, int index, NDArray[] arrays) {
        NDArray written = arrays[index];
        NDArray o = outputs.get(i);
        if (written != o) o.assign(written);
    }

    /** Copies {@code bytes} contiguous bytes of a result into output {@code i} (checked at entry). */
    public static void output(MemorySegment result, long bytes, List<NDArray> outputs, int i) {
        NDArray o = outputs.get(i);
        if (o.isContiguous()) {
            MemorySegment.copy(result, 0, o.segment(), o.offset() * o.dtype().byteSize(), bytes);
        } else {
            o.assign(NDArray.wrap(result, o.dtype(), o.shape(), contiguous(o.shape()), 0));
        }
    }

    /** Writes a strided result (a view) into output {@code i} (checked at entry). */
    public static void outputView(NDArray result, List<NDArray> outputs, int i) {
        outputs.get(i).assign(result);
    }

    private static MemorySegment contiguousBytes(NDArray a) {
        long bytes = a.numel() * a.dtype().byteSize();
        MemorySegment s = a.segment();
        return a.offset() == 0 && s.byteSize() == bytes ? s : s.asSlice(a.offset() * a.dtype().byteSize(), bytes);
    }

    /** Whether two segments may share bytes: exact for native memory, assumed for anything else. */
    private static boolean overlap(MemorySegment a, MemorySegment b) {
        if (!a.isNative() || !b.isNative()) return true;
        long a0 = a.address(), b0 = b.address();
        return a0 < b0 + b.byteSize() && b0 < a0 + a.byteSize();
    }

    private static long[] contiguous(long[] shape) { return TensorRef.contiguousStrides(shape); }

    /** Runs {@code loop} over {@code rows} rows, split across Kiln's thread pool. */
    public static void parallelRows(RowLoop loop, long rows, long minRowsPerTask) {
        Parallel.forRange(rows, minRowsPerTask, loop::rows);
    }

    /** A tensor of the graph for this run ({@link TensorRef#resolve}). */
    public static NDArray resolve(TensorRef ref, NDArray[] inputs) { return ref.resolve(inputs); }

    // ---------------------------------------------------------------- control flow and host scalars

    /** A reference kernel with its attributes resolved for this program's sizes. */
    public record KernelCall(Op op, OpKernels.Kernel kernel, OpAttributes attributes) {}

    /** Runs a reference kernel on tensors produced by generated control flow; returns its result. */
    public static Object kernel(KernelCall call, Object[] operands) {
        List<NDArray> args = Arrays.stream(operands).map(o -> (NDArray) o).toList();
        if (call.op().results().size() > 1) {
            return dev.kiln.runtime.PlacedKernels.runMultiResult(call.op(), args, call.attributes());
        }
        return call.kernel().apply(args, call.attributes());
    }

    /** Result {@code i} of a multi-result kernel call. */
    public static Object result(Object results, int i) { return ((List<?>) results).get(i); }

    public static Object scalar(Op op, Object[] operands) { return ScalarOpsEval.eval(op, operands); }

    /** The host scalar of a one-element tensor, as the interpreter's {@code item}. */
    public static Object item(Object tensor) {
        NDArray x = (NDArray) tensor;
        if (x.numel() != 1) throw new KilnException("item: tensor of shape " + Arrays.toString(x.shape()) + " has " + x.numel() + " elements, not 1");
        return switch (dev.kiln.ir.ScalarType.forDType(x.dtype())) {
            case INT -> x.getLong(new long[x.rank()]);
            case FLOAT -> x.getFlat(0);
            case BOOL -> x.getFlat(0) != 0;
        };
    }

    public static boolean truth(Object b) { return (Boolean) b; }

    public static long longValue(Object l) { return (Long) l; }

    public static Object boxLong(long l) { return l; }

    /** Copies a tensor computed by control flow into its planned slot. */
    public static void settle(Object value, NDArray slot) {
        dev.kiln.runtime.PlacedKernels.settle((NDArray) value, slot);
    }
}
