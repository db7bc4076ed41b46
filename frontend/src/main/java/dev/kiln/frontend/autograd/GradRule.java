package dev.kiln.frontend.autograd;

import dev.kiln.frontend.Tensor;

import java.util.List;

/**
 * How one op passes a gradient back: given the gradient of its output, the gradients of its inputs
 * (one per operand; null for operands that need none, see {@link GradContext#needsGrad}). Rules
 * are written with ordinary tensor ops and run with gradient recording off.
 */
@FunctionalInterface
public interface GradRule {
    List<Tensor> backward(GradContext ctx, Tensor gradOutput);
}
