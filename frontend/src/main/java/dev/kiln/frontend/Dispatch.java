package dev.kiln.frontend;

import dev.kiln.frontend.autograd.Autograd;
import dev.kiln.frontend.autograd.Node;
import dev.kiln.ir.Attribute;
import dev.kiln.ir.InferenceContext;
import dev.kiln.ir.OpRegistry;
import dev.kiln.ir.OpSchema;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Type;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.OpAttributes;
import dev.kiln.runtime.EagerKernels;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The one path every tensor op takes: it checks the call against the op's registry entry (so eager
 * errors read like IR errors), runs the CPU kernel ({@link EagerKernels}: the compiled path's direct kernel
 * where the operands allow), records the op for autograd when an input
 * requires grad, and tells the current {@link OpRecorder}. A kernel result that shares its first
 * input's storage is a view: it shares that input's version counter.
 */
public final class Dispatch {

    private static final ThreadLocal<OpRecorder> RECORDER = new ThreadLocal<>();

    private Dispatch() {}

    /** Runs registry op {@code op} eagerly. */
    public static Tensor call(String op, Map<String, Attribute> attributes, Tensor... inputs) {
        OpSchema schema = OpRegistry.get(op);
        List<Type> types = new ArrayList<>(inputs.length);
        List<NDArray> arrays = new ArrayList<>(inputs.length);
        for (Tensor t : inputs) {
            NDArray a = t.data();
            types.add(TensorType.of(a.dtype(), a.shape()));
            arrays.add(a);
        }
        schema.checkOperands(types);
        schema.checkAttributes(attributes);
        List<Type> results = schema.inference().infer(new InferenceContext(schema, types, attributes, List.of()));
        OpAttributes attrs = new OpAttributes(schema, attributes);
        Type resultType = results.isEmpty() ? null : results.get(0);
        OpRecorder recorder = RECORDER.get();
        NDArray placeholder = recorder != null && resultType instanceof TensorType t && t.shape().isStatic()
                ? recorder.placeholder(t.dtype(), t.shape().toArray()) : null;
        NDArray out = placeholder != null ? placeholder : EagerKernels.apply(op, arrays, attrs, resultType);
        List<Tensor> inputList = List.of(inputs);
        // Only floating-point results carry gradients (a cast to bool or an argmax never requires grad).
        Node node = out.dtype().isFloatingPoint() ? Autograd.record(op, attrs, inputList) : null;
        Tensor result = new Tensor(out);
        boolean isView = placeholder == null && inputs.length > 0 && out.segment() == inputs[0].data().segment();
        result.initFromOp(node, isView ? inputs[0] : null);
        if (recorder != null) recorder.record(op, attributes, inputList, result);
        return result;
    }

    static void dataRead(Tensor tensor, String what) {
        OpRecorder recorder = RECORDER.get();
        if (recorder != null) recorder.onDataRead(tensor, what);
    }

    static void inPlaceWrite(Tensor target) {
        OpRecorder recorder = RECORDER.get();
        if (recorder != null) recorder.onInPlaceWrite(target);
    }

    /** Tells the recorder that {@code target} now holds the same value as {@code source}. */
    static void alias(Tensor target, Tensor source) {
        OpRecorder recorder = RECORDER.get();
        if (recorder != null) recorder.alias(target, source);
    }

    /** Installs {@code recorder} on this thread until the returned scope is closed. */
    public static RecordingScope record(OpRecorder recorder) {
        OpRecorder previous = RECORDER.get();
        RECORDER.set(recorder);
        return () -> {
            if (RECORDER.get() != recorder) throw new IllegalStateException("recording scopes closed out of order");
            RECORDER.set(previous);
        };
    }

    /** The recorder installed on this thread, or null. */
    public static OpRecorder currentRecorder() { return RECORDER.get(); }

    /** An installed recorder; closing it restores the previous one. */
    public interface RecordingScope extends AutoCloseable {
        @Override
        void close();
    }
}
