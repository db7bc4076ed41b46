package dev.kiln.runtime.kernels;

import dev.kiln.ir.Shape;
import dev.kiln.ir.ShapeRules;
import dev.kiln.runtime.NDArray;

/** Constant padding in {@code torch.nn.functional.pad} order; negative pads crop. */
public final class Pad {
    private Pad() {}

    /**
     * {@code x} padded with {@code value} (converted to x's dtype): {@code pads} holds (before, after) pairs for
     * the last dim, then the one before it, and so on.
     */
    public static NDArray pad(NDArray x, long[] pads, double value) {
        long[] shape = ShapeRules.pad("pad", Shape.of(x.shape()), pads).toArray();
        NDArray out = ShapeCopy.filled(x.dtype(), value, shape);
        NDArray from = x, to = out;
        for (int p = 0; p < pads.length / 2; p++) {
            int axis = x.rank() - 1 - p;
            long before = pads[2 * p], after = pads[2 * p + 1];
            from = from.slice(axis, Math.max(0, -before), x.dim(axis) - Math.max(0, -after), 1);
            to = to.slice(axis, Math.max(0, before), shape[axis] - Math.max(0, after), 1);
        }
        if (from.numel() > 0) ShapeCopy.copy(from, to);
        return out;
    }
}
