package dev.kiln.frontend.autograd;

import dev.kiln.frontend.Tensor;
import dev.kiln.ir.DType;
import dev.kiln.runtime.OpAttributes;

import java.util.List;

/**
 * One recorded op in the autograd graph: the rule to apply, the inputs and output it saved (with
 * their versions, so a later in-place change is detected), and which inputs need gradients.
 */
public final class Node {

    private final String op;
    private final GradRule rule;
    private final OpAttributes attributes;
    private Tensor[] inputs;
    private final long[] inputVersions;
    private final long[][] inputShapes;
    private final DType[] inputDTypes;
    private final boolean[] needsGrad;
    private final Node[] nextFunctions;
    private final Tensor[] leaves;
    private Tensor output;
    private long outputVersion;

    Node(String op, GradRule rule, OpAttributes attributes, List<Tensor> inputs) {
        this.op = op;
        this.rule = rule;
        this.attributes = attributes;
        int n = inputs.size();
        this.inputs = inputs.toArray(Tensor[]::new);
        this.inputVersions = new long[n];
        this.inputShapes = new long[n][];
        this.inputDTypes = new DType[n];
        this.needsGrad = new boolean[n];
        this.nextFunctions = new Node[n];
        this.leaves = new Tensor[n];
        for (int i = 0; i < n; i++) {
            Tensor t = inputs.get(i);
            inputVersions[i] = t.version();
            inputShapes[i] = t.shape();
            inputDTypes[i] = t.dtype();
            needsGrad[i] = t.requiresGrad();
            // Edges are taken now: a later in-place op may give the tensor a new grad_fn.
            nextFunctions[i] = t.gradFn();
            if (t.requiresGrad() && t.gradFn() == null) leaves[i] = t;
        }
    }

    /** Records the op's output (called once, right after the op ran). */
    public void setOutput(Tensor out) {
        this.output = out;
        this.outputVersion = out.version();
    }

    public String op() { return op; }

    GradRule rule() { return rule; }

    OpAttributes attributes() { return attributes; }

    int inputCount() { return inputShapes.length; }

    boolean needsGrad(int i) { return needsGrad[i]; }

    long[] inputShape(int i) { return inputShapes[i].clone(); }

    DType inputDType(int i) { return inputDTypes[i]; }

    /** The node that produced input {@code i} when this op ran, or null for leaves and constants. */
    Node nextFunction(int i) { return nextFunctions[i]; }

    /** Input {@code i} if it is a leaf that requires grad (where gradients accumulate), else null. */
    Tensor leaf(int i) { return leaves[i]; }

    Tensor savedInput(int i) {
        checkNotReleased();
        Tensor t = inputs[i];
        if (t.version() != inputVersions[i]) throw modified("input " + i, t.version(), inputVersions[i], t);
        return t;
    }

    Tensor savedOutput() {
        checkNotReleased();
        if (output.version() != outputVersion) throw modified("its output", output.version(), outputVersion, output);
        return output;
    }

    boolean released() { return inputs == null; }

    /** Drops saved tensors after a backward pass that did not ask to retain the graph. */
    void release() {
        inputs = null;
        output = null;
    }

    private void checkNotReleased() {
        if (inputs == null) {
            throw new IllegalStateException("Trying to backward through the graph a second time (op '" + op
                    + "' already freed its saved tensors). Call backward(gradient, true) the first time to retain the graph.");
        }
    }

    private IllegalStateException modified(String which, long now, long saved, Tensor t) {
        return new IllegalStateException("one of the tensors needed for gradient computation has been modified by an in-place "
                + "operation: " + which + " of '" + op + "', a " + t.dtype() + java.util.Arrays.toString(t.shape())
                + " tensor, is at version " + now + "; expected version " + saved + ". Use an out-of-place op, or clone() the tensor first.");
    }
}
