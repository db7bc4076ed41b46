package dev.kiln.frontend.optim;

import dev.kiln.ir.DType;
import dev.kiln.runtime.Elements;
import dev.kiln.runtime.NDArray;

import java.lang.foreign.MemorySegment;

/**
 * Element access by row-major flat index, in double, straight on an array's memory (no ops, so nothing is
 * recorded by autograd or the tracer). Contiguous f32 and f64 arrays take a direct path; anything else goes
 * through {@link NDArray#getFlat}/{@link NDArray#setFlat}.
 */
abstract sealed class FlatAccess {

    static FlatAccess of(NDArray a) {
        if (a.isContiguous() && a.dtype() == DType.F32) return new F32(a.segment(), a.offset());
        if (a.isContiguous() && a.dtype() == DType.F64) return new F64(a.segment(), a.offset());
        return new Strided(a);
    }

    abstract double get(long i);

    abstract void set(long i, double v);

    private static final class F32 extends FlatAccess {
        private final MemorySegment seg;
        private final long base;

        F32(MemorySegment seg, long base) {
            this.seg = seg;
            this.base = base;
        }

        @Override
        double get(long i) { return seg.getAtIndex(Elements.F32, base + i); }

        @Override
        void set(long i, double v) { seg.setAtIndex(Elements.F32, base + i, (float) v); }
    }

    private static final class F64 extends FlatAccess {
        private final MemorySegment seg;
        private final long base;

        F64(MemorySegment seg, long base) {
            this.seg = seg;
            this.base = base;
        }

        @Override
        double get(long i) { return seg.getAtIndex(Elements.F64, base + i); }

        @Override
        void set(long i, double v) { seg.setAtIndex(Elements.F64, base + i, v); }
    }

    private static final class Strided extends FlatAccess {
        private final NDArray a;

        Strided(NDArray a) { this.a = a; }

        @Override
        double get(long i) { return a.getFlat(i); }

        @Override
        void set(long i, double v) { a.setFlat(i, v); }
    }
}
