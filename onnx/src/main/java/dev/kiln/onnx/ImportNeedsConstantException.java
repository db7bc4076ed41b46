package dev.kiln.onnx;

import java.util.Set;

/**
 * A node needs an input's data at import time (a Pad's pads, a Slice's starts, a Reshape's shape
 * computed from tensor values, ...) and the input is computed from graph inputs, or it computes with
 * sizes read from dynamic dims something Kiln's symbolic size lists cannot express ({@code N + 1},
 * a shape used as tensor data). {@link #graphInputs()} are the graph inputs that value depends on:
 * importing again with those inputs bound to data ({@link ImportOptions#withConstantInputs})
 * specialises the model to them.
 */
public class ImportNeedsConstantException extends ImportUnsupportedException {

    private final Set<String> graphInputs;

    public ImportNeedsConstantException(String message, Set<String> graphInputs) {
        super(message);
        this.graphInputs = Set.copyOf(graphInputs);
    }

    /** The graph inputs whose data the node needs at import time. */
    public Set<String> graphInputs() { return graphInputs; }
}
