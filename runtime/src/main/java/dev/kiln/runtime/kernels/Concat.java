package dev.kiln.runtime.kernels;

import dev.kiln.ir.KilnException;
import dev.kiln.ir.Shape;
import dev.kiln.ir.ShapeRules;
import dev.kiln.runtime.NDArray;

import java.util.ArrayList;
import java.util.List;

/** {@code torch.cat}: joins tensors of one dtype along an existing axis into a new tensor. */
public final class Concat {
    private Concat() {}

    /** The tensors joined along {@code axis}; all share a dtype and every dim but {@code axis}. */
    public static NDArray cat(List<NDArray> xs, int axis) {
        if (xs.isEmpty()) throw new KilnException("cat: needs at least one tensor");
        List<Shape> shapes = new ArrayList<>(xs.size());
        for (int i = 0; i < xs.size(); i++) {
            NDArray x = xs.get(i);
            if (x.dtype() != xs.get(0).dtype()) {
                throw new KilnException("cat: tensors must share a dtype: " + xs.get(0).dtype()
                        + " (position 0) and " + x.dtype() + " (position " + i + ")");
            }
            shapes.add(Shape.of(x.shape()));
        }
        long[] shape = ShapeRules.concat("cat", shapes, axis).toArray();
        int a = ShapeRules.normalize("cat", axis, shape.length);
        NDArray out = NDArray.zeros(xs.get(0).dtype(), shape);
        long at = 0;
        for (NDArray x : xs) {
            long n = x.dim(a);
            if (n > 0 && x.numel() > 0) ShapeCopy.copy(x, out.slice(a, at, at + n, 1));
            at += n;
        }
        return out;
    }
}
