package dev.kiln.codegen;

import dev.kiln.ir.Op;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.OpAttributes;
import dev.kiln.runtime.OpKernels;
import dev.kiln.runtime.PlacedKernels;

import java.util.ArrayList;
import java.util.List;

/**
 * One top-level op that generated code runs through its reference kernel (an op or dtype with no direct kernel
 * or generated loop): its operands, attributes resolved for this program's sizes, and the arena slots its results
 * go to. Its results are exactly the interpreter's; it allocates the kernel's temporaries.
 */
public final class RefStep {
    private final Op op;
    private final OpKernels.Kernel kernel;
    private final OpAttributes attributes;
    private final TensorRef[] operands;
    private final NDArray[] targets;
    private final boolean fresh;

    RefStep(Op op, OpKernels.Kernel kernel, OpAttributes attributes, TensorRef[] operands, NDArray[] targets, boolean fresh) {
        this.op = op;
        this.kernel = kernel;
        this.attributes = attributes;
        this.operands = operands;
        this.targets = targets;
        this.fresh = fresh;
    }

    /** Runs the op for a run whose bound inputs are {@code inputs}. */
    public void run(NDArray[] inputs) {
        List<NDArray> args = new ArrayList<>(operands.length);
        for (TensorRef r : operands) args.add(r.resolve(inputs));
        if (targets.length == 1) {
            PlacedKernels.runInto(kernel, args, attributes, targets[0], fresh);
        } else {
            List<NDArray> results = PlacedKernels.runMultiResult(op, args, attributes);
            for (int i = 0; i < targets.length; i++) PlacedKernels.settle(results.get(i), targets[i]);
        }
    }
}
