package dev.kiln.frontend.autograd;

import dev.kiln.frontend.Tensor;
import dev.kiln.runtime.OpAttributes;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reverse-mode automatic differentiation: records a {@link Node} for each op on tensors that require
 * grad, and runs the recorded graph backwards. Gradient recording is per thread and can be switched
 * off with {@link #noGrad()}.
 */
public final class Autograd {

    private static final ThreadLocal<Boolean> ENABLED = ThreadLocal.withInitial(() -> Boolean.TRUE);

    private Autograd() {}

    public static boolean isGradEnabled() { return ENABLED.get(); }

    /** Turns gradient recording off on this thread until the returned scope is closed. */
    public static GradMode noGrad() { return setGradEnabled(false); }

    /** Sets gradient recording on this thread until the returned scope is closed. */
    public static GradMode setGradEnabled(boolean enabled) {
        boolean previous = ENABLED.get();
        ENABLED.set(enabled);
        return () -> ENABLED.set(previous);
    }

    /** A scope that restores the previous gradient mode when closed. */
    public interface GradMode extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * The node recording {@code op} on {@code inputs}, or null when nothing needs recording (grad
     * mode off, no input requires grad, or the op is declared non-differentiable).
     */
    public static Node record(String op, OpAttributes attributes, List<Tensor> inputs) {
        if (!isGradEnabled() || inputs.stream().noneMatch(Tensor::requiresGrad)) return null;
        GradRule rule = GradTable.lookup(op);
        return rule == null ? null : new Node(op, rule, attributes, inputs);
    }

    /**
     * Back-propagates {@code gradient} (null means 1 for a one-element root) from {@code root} to every
     * leaf that requires grad, accumulating into the leaves' {@code grad}. Unless {@code retainGraph},
     * the graph's saved tensors are freed, and a second backward through it is an error.
     */
    public static void backward(Tensor root, Tensor gradient, boolean retainGraph) {
        if (!root.requiresGrad()) {
            throw new IllegalStateException("backward: the tensor does not require grad and has no grad_fn; "
                    + "call setRequiresGrad(true) on the leaves you want gradients for");
        }
        Tensor seed = seedGradient(root, gradient);
        try (GradMode _ = noGrad()) {
            if (root.gradFn() == null) {
                accumulate(root, seed);
                return;
            }
            Map<Node, Tensor> pending = new IdentityHashMap<>();
            pending.put(root.gradFn(), seed);
            for (Node node : topologicalOrder(root.gradFn())) {
                Tensor grad = pending.remove(node);
                if (grad == null) continue;
                propagate(node, grad, pending);
                if (!retainGraph) node.release();
            }
        }
    }

    private static void propagate(Node node, Tensor grad, Map<Node, Tensor> pending) {
        List<Tensor> inputGrads = node.rule().backward(new GradContext(node), grad);
        if (inputGrads.size() != node.inputCount()) {
            throw new IllegalStateException("gradient rule of '" + node.op() + "' returned " + inputGrads.size()
                    + " gradients for " + node.inputCount() + " inputs");
        }
        for (int i = 0; i < node.inputCount(); i++) {
            if (!node.needsGrad(i)) continue;
            Tensor g = inputGrads.get(i);
            if (g == null) throw new IllegalStateException("gradient rule of '" + node.op() + "' returned no gradient for input " + i);
            if (!Arrays.equals(g.shape(), node.inputShape(i)) || g.dtype() != node.inputDType(i)) {
                throw new IllegalStateException("gradient rule of '" + node.op() + "' returned " + g.dtype() + Arrays.toString(g.shape())
                        + " for input " + i + " of type " + node.inputDType(i) + Arrays.toString(node.inputShape(i)));
            }
            Node next = node.nextFunction(i);
            if (next != null) pending.merge(next, g, Tensor::add);
            else accumulate(node.leaf(i), g);
        }
    }

    private static Tensor seedGradient(Tensor root, Tensor gradient) {
        if (gradient == null) {
            if (root.numel() != 1) {
                throw new IllegalArgumentException("backward: a gradient can be implied only for a one-element output; "
                        + "this output has shape " + Arrays.toString(root.shape()) + ", so pass backward(gradient) of that shape");
            }
            return Tensor.full(root.dtype(), 1.0, root.shape());
        }
        if (!Arrays.equals(gradient.shape(), root.shape()) || gradient.dtype() != root.dtype()) {
            throw new IllegalArgumentException("backward: gradient " + gradient.dtype() + Arrays.toString(gradient.shape())
                    + " does not match the output " + root.dtype() + Arrays.toString(root.shape()));
        }
        return gradient;
    }

    private static void accumulate(Tensor leaf, Tensor g) {
        Tensor owned = g.detach().contiguousCopy();
        leaf.setGrad(leaf.grad() == null ? owned : leaf.grad().add(owned));
    }

    /** Nodes reachable from {@code root}, each before every node it depends on (reverse post-order). */
    private static List<Node> topologicalOrder(Node root) {
        List<Node> postOrder = new ArrayList<>();
        Map<Node, Boolean> visited = new IdentityHashMap<>();
        Deque<Object[]> stack = new ArrayDeque<>();
        stack.push(new Object[] {root, 0});
        visited.put(root, true);
        while (!stack.isEmpty()) {
            Object[] frame = stack.peek();
            Node node = (Node) frame[0];
            int next = (Integer) frame[1];
            if (next < node.inputCount()) {
                frame[1] = next + 1;
                Node child = node.nextFunction(next);
                if (child != null && visited.putIfAbsent(child, true) == null) stack.push(new Object[] {child, 0});
            } else {
                stack.pop();
                postOrder.add(node);
            }
        }
        java.util.Collections.reverse(postOrder);
        return postOrder;
    }
}
