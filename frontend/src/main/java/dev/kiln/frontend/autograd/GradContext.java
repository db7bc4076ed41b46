package dev.kiln.frontend.autograd;

import dev.kiln.frontend.Tensor;
import dev.kiln.ir.DType;
import dev.kiln.runtime.OpAttributes;

/** What a {@link GradRule} may read of the op it differentiates: inputs, output and attributes. */
public final class GradContext {

    private final Node node;

    GradContext(Node node) { this.node = node; }

    public String op() { return node.op(); }

    public int inputCount() { return node.inputCount(); }

    /** Input {@code i} as it was when the op ran; an error if it was modified in place since. */
    public Tensor input(int i) { return node.savedInput(i); }

    /** The op's output as it was computed; an error if it was modified in place since. */
    public Tensor output() { return node.savedOutput(); }

    /** Whether input {@code i} needs a gradient (rules may skip work and return null otherwise). */
    public boolean needsGrad(int i) { return node.needsGrad(i); }

    /** Input {@code i}'s shape, readable without touching its (possibly modified) data. */
    public long[] inputShape(int i) { return node.inputShape(i); }

    public DType inputDType(int i) { return node.inputDType(i); }

    public OpAttributes attrs() { return node.attributes(); }
}
