package dev.kiln.runtime.kernels;

import dev.kiln.ir.KilnException;
import dev.kiln.ir.DType;
import dev.kiln.runtime.Elements;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.Shapes;
import dev.kiln.runtime.StridedCursor;

/** Validation of index tensors: dtype, and every entry within {@code [0, size)} of the indexed axis. */
final class IndexChecks {
    private IndexChecks() {}

    /** Requires an i64 index (or i32 where {@code allowI32}). */
    static void dtype(String op, NDArray index, boolean allowI32) {
        if (index.dtype() != DType.I64 && !(allowI32 && index.dtype() == DType.I32)) {
            throw new KilnException(op + ": index must be " + (allowI32 ? "i64 or i32" : "i64") + ", got "
                    + index.dtype() + " of shape " + Shapes.str(index.shape()));
        }
    }

    /** Throws naming the op, axis, the first bad entry, its position and the size if any entry is out of range. */
    static void inRange(String op, NDArray index, int axis, long size) {
        long[] shape = index.shape();
        StridedCursor c = new StridedCursor(shape, new long[] {index.offset()}, index.strides());
        for (long i = 0, n = index.numel(); i < n; i++, c.advance()) {
            long v = Elements.getLong(index.segment(), index.dtype(), c.position(0));
            if (v < 0 || v >= size) {
                throw new KilnException(op + ": index " + v + " is out of range for axis " + axis
                        + " with size " + size + " (at index position " + Shapes.str(unflatten(i, shape)) + ")");
            }
        }
    }

    private static long[] unflatten(long flat, long[] shape) {
        long[] at = new long[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            at[d] = flat % shape[d];
            flat /= shape[d];
        }
        return at;
    }

    /** {@code strides} with the entry at {@code axis} set to 0. */
    static long[] withoutAxis(long[] strides, int axis) {
        long[] s = strides.clone();
        s[axis] = 0;
        return s;
    }
}
