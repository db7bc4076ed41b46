package dev.kiln.frontend;

import dev.kiln.ir.Attribute;
import dev.kiln.ir.DType;
import dev.kiln.runtime.NDArray;

import java.util.List;
import java.util.Map;

/**
 * Observes eager execution on the current thread: every op as it runs, and every read of tensor data
 * into Java. The tracer installs one to turn an eager run into IR.
 */
public interface OpRecorder {

    /** Called after {@code op} ran on {@code inputs} with {@code attributes} and produced {@code output}. */
    void record(String op, Map<String, Attribute> attributes, List<Tensor> inputs, Tensor output);

    /**
     * Called before tensor data flows into Java ({@code item}, {@code toFloatArray}, ...), where a
     * recorder cannot follow it. {@code what} names the method.
     */
    void onDataRead(Tensor tensor, String what);

    /**
     * {@code target} now holds the same value as {@code source} without a new op: a detached tensor,
     * or a tensor an in-place op wrote {@code source}'s value into.
     */
    void alias(Tensor target, Tensor source);

    /**
     * A placeholder for the result of an op about to run, or null to run it: a recorder that needs only the
     * graph's structure (the tracer's second run, which finds symbolic sizes) returns one, the op's kernel is
     * skipped, and the placeholder (of the result's inferred dtype and shape; its data is meaningless) stands for
     * the result. Such a recorder must stop the run, by throwing from {@link #onDataRead} and
     * {@link #onInPlaceWrite}, wherever placeholder data could reach Java or a real tensor.
     */
    default NDArray placeholder(DType dtype, long[] shape) { return null; }

    /** Called before an in-place op writes a new value into {@code target}'s storage. */
    default void onInPlaceWrite(Tensor target) {}
}
