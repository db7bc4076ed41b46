package dev.kiln.codegen;

import dev.kiln.runtime.NDArray;

import java.util.List;
import java.util.Map;

/** A graph lowered by a {@link Backend} for one binding of its symbolic dims, ready to run. */
public interface LoweredGraph {
    /** Runs into caller-provided output tensors of the graph's output dtypes and shapes. */
    void runInto(List<NDArray> inputs, List<NDArray> outputs);

    /** Runs into new output tensors. */
    List<NDArray> run(List<NDArray> inputs);

    /** The sizes of symbolic dims this code was generated for. */
    Map<String, Long> bindings();

    /** What each lowered op became, one line each. */
    List<String> kernels();
}
