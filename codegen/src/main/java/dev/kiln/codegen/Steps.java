package dev.kiln.codegen;

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
        if (a == null) throw new IllegalArgumentException(graph + ": input " + i + " is null");
        boolean ok = a.dtype() == dtype && a.rank() == shape.length;
        for (int d = 0; ok && d < shape.length; d++) ok = a.dim(d) == shape[d];
        if (!ok) {
            throw new InputMismatchException(graph + ": input " + i + " expected " + dtype.irName() + Arrays.toString(shape)
                    + ", got " + a.dtype().irName() + Arrays.toString(a.shape()));
        }
        if (!a.isContiguous()) a = a.copy();
        arrays[i] = a;
        long bytes = a.numel() * dtype.byteSize();
        MemorySegment s = a.segment();
        segments[i] = a.offset() == 0 && s.byteSize() == bytes ? s : s.asSlice(a.offset() * dtype.byteSize(), bytes);
    }

    /** {@code bytes} of {@code segment} from {@code offset}: a view into a bound input. */
    public static MemorySegment slice(MemorySegment segment, long offset, long bytes) {
        return segment.asSlice(offset, bytes);
    }

    /** Copies {@code bytes} contiguous bytes of a result into output {@code i}, after checking its dtype and shape. */
    public static void output(MemorySegment result, long bytes, List<NDArray> outputs, int i, DType dtype, long[] shape, String graph) {
        NDArray o = checkedOutput(outputs, i, dtype, shape, graph);
        if (o.isContiguous()) {
            MemorySegment.copy(result, 0, o.segment(), o.offset() * dtype.byteSize(), bytes);
        } else {
            o.assign(NDArray.wrap(result, dtype, shape, contiguous(shape), 0));
        }
    }

    /** Writes a strided result (a view) into output {@code i}. */
    public static void outputView(NDArray result, List<NDArray> outputs, int i, String graph) {
        checkedOutput(outputs, i, result.dtype(), result.shape(), graph).assign(result);
    }

    private static NDArray checkedOutput(List<NDArray> outputs, int i, DType dtype, long[] shape, String graph) {
        NDArray o = outputs.get(i);
        boolean ok = o != null && o.dtype() == dtype && o.rank() == shape.length;
        for (int d = 0; ok && d < shape.length; d++) ok = o.dim(d) == shape[d];
        if (!ok) {
            throw new IllegalArgumentException(graph + ": output buffer " + i + " must be " + dtype.irName() + Arrays.toString(shape)
                    + ", got " + (o == null ? "null" : o.dtype().irName() + Arrays.toString(o.shape())));
        }
        return o;
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
        if (x.numel() != 1) throw new IllegalArgumentException("item: tensor of shape " + Arrays.toString(x.shape()) + " has " + x.numel() + " elements, not 1");
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
