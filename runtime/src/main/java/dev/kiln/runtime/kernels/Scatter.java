package dev.kiln.runtime.kernels;

import dev.kiln.ir.KilnException;
import dev.kiln.ir.DType;
import dev.kiln.ir.Shape;
import dev.kiln.ir.ShapeRules;
import dev.kiln.runtime.Elements;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.Shapes;
import dev.kiln.runtime.StridedCursor;

import java.lang.foreign.MemorySegment;

/**
 * Writes by index into a copy of the input: {@code scatter}, {@code scatter_add}, {@code index_add} and
 * {@code slice_scatter}. Scatters run serially in row-major order of the index, so with duplicate indices
 * {@code scatter} keeps the last value written and sums are accumulated in a fixed order.
 */
public final class Scatter {
    private Scatter() {}

    /** A copy of {@code x} with {@code src[p]} written at p with coordinate {@code axis} replaced by {@code index[p]}. */
    public static NDArray scatter(NDArray x, int axis, NDArray index, NDArray src) {
        return scatterLoop("scatter", x, axis, index, src, false);
    }

    /** Like {@link #scatter}, but adds {@code src[p]} to the element instead of overwriting it. */
    public static NDArray scatterAdd(NDArray x, int axis, NDArray index, NDArray src) {
        return scatterLoop("scatter_add", x, axis, index, src, true);
    }

    private static NDArray scatterLoop(String op, NDArray x, int axis, NDArray index, NDArray src, boolean add) {
        IndexChecks.dtype(op, index, false);
        checkSrc(op, x, src, add);
        ShapeRules.scatter(op, Shape.of(x.shape()), Shape.of(index.shape()), Shape.of(src.shape()), axis);
        NDArray out = ShapeCopy.contiguousCopy(x);
        if (x.rank() == 0) {
            // A scalar scatters like a one-element vector (PyTorch wraps the axis the same way).
            IndexChecks.inRange(op, index, 0, 1);
            write(out.reshape(1), 0, index.reshape(1), new long[] {0}, src.reshape(1), new long[] {1}, add);
            return out;
        }
        int a = ShapeRules.normalize(op, axis, x.rank());
        IndexChecks.inRange(op, index, a, x.dim(a));
        write(out, a, index, index.strides(), src, index.shape(), add);
        return out;
    }

    /** A copy of {@code x} with {@code src}'s slices along {@code axis} added at entries {@code index} (0-D or 1-D). */
    public static NDArray indexAdd(NDArray x, int axis, NDArray index, NDArray src) {
        IndexChecks.dtype("index_add", index, true);
        checkSrc("index_add", x, src, true);
        ShapeRules.indexAdd("index_add", Shape.of(x.shape()), Shape.of(index.shape()), Shape.of(src.shape()), axis);
        int a = ShapeRules.normalize("index_add", axis, x.rank());
        IndexChecks.inRange("index_add", index, a, x.dim(a));
        NDArray out = ShapeCopy.contiguousCopy(x);
        long[] indexStrides = new long[x.rank()];
        indexStrides[a] = index.rank() == 0 ? 0 : index.strides()[0];
        write(out, a, index, indexStrides, src, src.shape(), true);
        return out;
    }

    /** A copy of {@code x} with {@code src} written into {@code x.slice(axis, start, end, step)}. */
    public static NDArray sliceScatter(NDArray x, NDArray src, int axis, long start, long end, long step) {
        checkSrc("slice_scatter", x, src, false);
        ShapeRules.sliceScatter("slice_scatter", Shape.of(x.shape()), Shape.of(src.shape()), axis, start, end, step);
        NDArray out = ShapeCopy.contiguousCopy(x);
        if (src.numel() > 0) ShapeCopy.copy(src, out.slice(axis, start, end, step));
        return out;
    }

    private static void checkSrc(String op, NDArray x, NDArray src, boolean add) {
        if (src.dtype() != x.dtype()) {
            throw new KilnException(op + ": src dtype " + src.dtype() + " differs from x's " + x.dtype()
                    + " (shapes " + Shapes.str(src.shape()) + " and " + Shapes.str(x.shape()) + ")");
        }
        if (add) Checks.notBool(op, x);
    }

    /** For every p in {@code shape}: out[p with axis := index at p] (=|+=) src[p]. Indices already checked. */
    private static void write(NDArray out, int axis, NDArray index, long[] indexStrides, NDArray src, long[] shape, boolean add) {
        MemorySegment os = out.segment(), ss = src.segment(), is = index.segment();
        DType type = out.dtype(), idxType = index.dtype();
        long axisStride = out.strides()[axis];
        int size = type.byteSize();
        boolean floating = type.isFloatingPoint();
        StridedCursor c = new StridedCursor(shape, new long[] {index.offset(), src.offset(), 0},
                indexStrides, src.strides(), IndexChecks.withoutAxis(out.strides(), axis));
        for (long i = 0, n = Shapes.numel(shape); i < n; i++, c.advance()) {
            long to = c.position(2) + Elements.getLong(is, idxType, c.position(0)) * axisStride;
            long from = c.position(1);
            if (!add) {
                Elements.copyElement(ss, from, os, to, size);
            } else if (floating) {
                Elements.setDouble(os, type, to, Elements.getDouble(os, type, to) + Elements.getDouble(ss, type, from));
            } else {
                Elements.setLong(os, type, to, Elements.getLong(os, type, to) + Elements.getLong(ss, type, from));
            }
        }
    }
}
