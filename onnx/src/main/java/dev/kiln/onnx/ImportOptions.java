package dev.kiln.onnx;

import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.TensorLimits;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Options for {@link OnnxImporter}. {@code constantInputs} binds graph inputs to data at import time:
 * they become constants rather than inputs, so nodes that need their data (shapes, axes, pads computed
 * from inputs) can be imported, for exactly that data. {@code maxTensorBytes} is the largest tensor the
 * import will read, build or fold, checked before anything is allocated (an initializer, a constant, a
 * ConstantOfShape, Expand, Pad, Tile, Range, ... result); it defaults to the process-wide
 * {@link TensorLimits#maxTensorBytes()}, which also bounds every tensor at run time.
 */
public record ImportOptions(Map<String, NDArray> constantInputs, long maxTensorBytes) {

    public ImportOptions {
        constantInputs = Map.copyOf(constantInputs);
        if (maxTensorBytes <= 0) throw new IllegalArgumentException("maxTensorBytes must be positive, got " + maxTensorBytes);
    }

    /** Options binding {@code constantInputs}, with the process-wide tensor size limit. */
    public ImportOptions(Map<String, NDArray> constantInputs) { this(constantInputs, TensorLimits.maxTensorBytes()); }

    public static ImportOptions defaults() { return new ImportOptions(Map.of()); }

    /** These options with {@code inputs} (by ONNX input name) bound as import-time constants. */
    public ImportOptions withConstantInputs(Map<String, NDArray> inputs) {
        Map<String, NDArray> all = new LinkedHashMap<>(constantInputs);
        all.putAll(inputs);
        return new ImportOptions(all, maxTensorBytes);
    }

    /** These options with at most {@code bytes} per tensor read, built or folded at import time. */
    public ImportOptions withMaxTensorBytes(long bytes) { return new ImportOptions(constantInputs, bytes); }
}
