package dev.kiln.codegen;

import dev.kiln.runtime.NDArray;

import java.util.List;

/**
 * What every generated class implements: one run of one lowered graph for one binding of its symbolic dims.
 * {@code inputs} are checked (dtype and shape) once at entry; the results are written into {@code outputs},
 * which must have the graph's output dtypes and shapes.
 */
public interface GeneratedCode {
    void run(List<NDArray> inputs, List<NDArray> outputs);
}
