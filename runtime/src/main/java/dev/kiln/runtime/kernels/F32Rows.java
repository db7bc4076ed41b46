package dev.kiln.runtime.kernels;

import java.lang.foreign.MemorySegment;

/**
 * f32 inner loops over one row of elements. Inputs are strided (stride 0 means a broadcast scalar); the
 * output row is contiguous. Offsets and strides are in elements. Two implementations exist: a Vector API one
 * and a plain-Java one, chosen by {@link #best()}.
 */
interface F32Rows {
    void binary(BinaryOp op, MemorySegment a, long aStart, long aStride, MemorySegment b, long bStart, long bStride,
                MemorySegment out, long outStart, long length);

    void unary(UnaryOp op, MemorySegment x, long xStart, long xStride, MemorySegment out, long outStart, long length);

    /** The Vector API implementation when {@code jdk.incubator.vector} is available, else the plain one. */
    static F32Rows best() {
        return Holder.BEST;
    }

    /** Chooses once per JVM. System property {@code kiln.vector=false} forces the plain path. */
    final class Holder {
        static final F32Rows BEST = select();

        private Holder() {}

        private static F32Rows select() {
            return VectorApi.instanceOr(F32Rows.class, "dev.kiln.runtime.kernels.VectorF32Rows", new PlainF32Rows());
        }
    }
}
