package dev.kiln.onnx;

import dev.kiln.runtime.NDArray;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Options for {@link OnnxImporter}. {@code constantInputs} binds graph inputs to data at import time:
 * they become constants rather than inputs, so nodes that need their data (shapes, axes, pads computed
 * from inputs) can be imported, for exactly that data.
 */
public record ImportOptions(Map<String, NDArray> constantInputs) {

    public ImportOptions {
        constantInputs = Map.copyOf(constantInputs);
    }

    public static ImportOptions defaults() { return new ImportOptions(Map.of()); }

    /** These options with {@code inputs} (by ONNX input name) bound as import-time constants. */
    public ImportOptions withConstantInputs(Map<String, NDArray> inputs) {
        Map<String, NDArray> all = new LinkedHashMap<>(constantInputs);
        all.putAll(inputs);
        return new ImportOptions(all);
    }
}
