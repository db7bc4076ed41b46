package dev.kiln.runtime.kernels;

import dev.kiln.runtime.Elements;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.Shapes;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * Strided element copies and constant fills shared by the shape kernels. Copies are planned like
 * elementwise loops: rows dense on both sides move in bulk, others element by element; large copies
 * split across threads. The destination must not overlap the source or itself.
 */
final class ShapeCopy {
    private ShapeCopy() {}

    /** Copies {@code shape} elements between two strided layouts of one dtype ({@code byteSize} bytes each). */
    static void copy(MemorySegment src, long srcOffset, long[] srcStrides,
                     MemorySegment dst, long dstOffset, long[] dstStrides, long[] shape, int byteSize) {
        Loops.Plan plan = Loops.plan(shape, new long[] {srcOffset, dstOffset}, srcStrides, dstStrides);
        long si = plan.innerStride(0), di = plan.innerStride(1);
        plan.run((start, n) -> {
            if (si == 1 && di == 1) {
                MemorySegment.copy(src, start[0] * byteSize, dst, start[1] * byteSize, n * byteSize);
            } else {
                copyRow(src, start[0], si, dst, start[1], di, n, byteSize);
            }
        });
    }

    private static void copyRow(MemorySegment src, long s, long si, MemorySegment dst, long d, long di, long n, int byteSize) {
        switch (byteSize) {
            case 8 -> {
                for (long i = 0; i < n; i++, s += si, d += di) {
                    dst.setAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, d, src.getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, s));
                }
            }
            case 4 -> {
                for (long i = 0; i < n; i++, s += si, d += di) {
                    dst.setAtIndex(ValueLayout.JAVA_INT_UNALIGNED, d, src.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, s));
                }
            }
            default -> {
                for (long i = 0; i < n; i++, s += si, d += di) Elements.copyElement(src, s, dst, d, byteSize);
            }
        }
    }

    /** Copies {@code src} into {@code dst}, which must have the same dtype and shape. */
    static void copy(NDArray src, NDArray dst) {
        if (src.dtype() != dst.dtype() || !Arrays.equals(src.shape(), dst.shape())) {
            throw new IllegalStateException("ShapeCopy: " + src.dtype() + Shapes.str(src.shape()) + " into "
                    + dst.dtype() + Shapes.str(dst.shape()));
        }
        copy(src.segment(), src.offset(), src.strides(), dst.segment(), dst.offset(), dst.strides(), src.shape(),
                src.dtype().byteSize());
    }

    /** A new contiguous tensor with {@code x}'s values. */
    static NDArray contiguousCopy(NDArray x) {
        NDArray out = NDArray.zeros(x.dtype(), x.shape());
        copy(x, out);
        return out;
    }

    /** A new contiguous tensor of {@code shape} with every element {@code value} (converted to {@code dtype}). */
    static NDArray filled(dev.kiln.ir.DType dtype, double value, long[] shape) {
        NDArray out = NDArray.zeros(dtype, shape);
        long n = out.numel();
        if (n == 0 || Double.doubleToRawLongBits(value) == 0) return out;
        MemorySegment seg = out.segment();
        int size = dtype.byteSize();
        Elements.setDouble(seg, dtype, 0, value);
        // Doubling copies: 1, 2, 4, ... elements already hold the value.
        for (long done = 1; done < n; ) {
            long c = Math.min(done, n - done);
            MemorySegment.copy(seg, 0, seg, done * size, c * size);
            done += c;
        }
        return out;
    }
}
