package dev.kiln.onnx;

import java.util.Set;

/**
 * A node needs an input's data at import time (a Reshape's shape, a Slice's starts, ...) and the
 * input is computed from graph inputs, so Kiln's statically shaped IR cannot express the node.
 * {@link #graphInputs()} are the graph inputs that value depends on: importing again with those
 * inputs bound to data ({@link ImportOptions#withConstantInputs}) specialises the model to them.
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
