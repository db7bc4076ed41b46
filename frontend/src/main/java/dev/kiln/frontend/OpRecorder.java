package dev.kiln.frontend;

import dev.kiln.ir.Attribute;

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
     * Whether dispatched ops may skip their kernels and yield zeros of their inferred type: for a recorder that
     * needs only the graph's structure (the tracer's second run, which finds symbolic sizes). Such a recorder
     * must stop the run, by throwing from {@link #onDataRead} and {@link #onInPlaceWrite}, wherever those zeros
     * could reach Java or real tensors.
     */
    default boolean shapeOnly() { return false; }

    /** Called before an in-place op writes a new value into {@code target}'s storage. */
    default void onInPlaceWrite(Tensor target) {}
}
