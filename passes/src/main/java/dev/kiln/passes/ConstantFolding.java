package dev.kiln.passes;

import dev.kiln.ir.Attribute;
import dev.kiln.ir.Builder;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Op;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Trait;
import dev.kiln.ir.Value;
import dev.kiln.runtime.Interpreter;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.OpKernels;

import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Replaces a {@link Trait#PURE} op whose operands are all constant tensors by a constant holding its
 * result, computed with the reference CPU kernel ({@link OpKernels}), so folding gives exactly what
 * the interpreter would. Only ops with a kernel, one static-shaped tensor result and no symbolic
 * size attributes are folded, and only when the result takes at most {@link #maxBytes()} bytes (the
 * graph would otherwise grow). Ops that are not PURE (such as {@code dropout_mask}, which draws
 * random numbers) are never folded. Works in regions too and repeats until nothing folds.
 */
public final class ConstantFolding implements Pass {

    /** The default limit on a folded result: 64 KiB. */
    public static final long DEFAULT_MAX_BYTES = 64 * 1024;

    private final long maxBytes;

    public ConstantFolding() { this(DEFAULT_MAX_BYTES); }

    /** Folds only results of at most {@code maxBytes} bytes. */
    public ConstantFolding(long maxBytes) {
        if (maxBytes < 0) throw new IllegalArgumentException("maxBytes must be >= 0, got " + maxBytes);
        this.maxBytes = maxBytes;
    }

    public long maxBytes() { return maxBytes; }

    @Override
    public String name() { return "constant-fold"; }

    @Override
    public boolean run(Graph graph) {
        boolean changed = false;
        while (Pass.rewriteEach(graph.body(), this::fold)) changed = true;
        return changed;
    }

    private boolean fold(Op op) {
        if (!foldable(op)) return false;
        List<NDArray> inputs = new ArrayList<>();
        for (Value v : op.operands()) {
            Attribute.Tensor t = (Attribute.Tensor) v.definingOp().attr("value");
            inputs.add(Interpreter.fromBytes(t.type(), t.data()));
        }
        TensorType type = op.result().tensorType();
        NDArray out;
        try {
            out = OpKernels.run(op.name(), op.attributes(), inputs);
        } catch (RuntimeException e) {
            return false; // leave the error to run time, where the interpreter reports it
        }
        if (out.dtype() != type.dtype() || !Arrays.equals(out.shape(), type.shape().toArray())) return false;
        Value folded = Builder.before(op).constant(new Attribute.Tensor(type, toBytes(out)));
        op.result().replaceAllUsesWith(folded);
        Rewriter.eraseIfDead(op);
        return true;
    }

    private boolean foldable(Op op) {
        if (!op.has(Trait.PURE) || !op.regions().isEmpty() || op.results().size() != 1 || op.operandCount() == 0) return false;
        if (!OpKernels.has(op.name())) return false;
        if (!(op.result().type() instanceof TensorType type) || !type.shape().isStatic()) return false;
        if (type.shape().numel() * type.dtype().byteSize() > maxBytes) return false;
        if (op.attributes().values().stream().anyMatch(a -> a instanceof Attribute.Dims)) return false;
        for (Value v : op.operands()) {
            Op d = v.definingOp();
            if (d == null || !d.name().equals("constant") || !(d.attr("value") instanceof Attribute.Tensor)) return false;
        }
        return true;
    }

    /** The elements of {@code a} as little-endian row-major bytes (the layout {@link Interpreter#fromBytes} reads). */
    static byte[] toBytes(NDArray a) {
        NDArray c = a.isContiguous() ? a : a.contiguous();
        long size = (long) c.dtype().byteSize();
        return c.segment().asSlice(c.offset() * size, c.numel() * size).toArray(ValueLayout.JAVA_BYTE);
    }
}
