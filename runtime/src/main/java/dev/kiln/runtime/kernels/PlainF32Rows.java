package dev.kiln.runtime.kernels;

import java.lang.foreign.MemorySegment;

import static dev.kiln.runtime.Elements.F32;

/** Scalar f32 row loops; work on any JVM and handle any strides. */
final class PlainF32Rows implements F32Rows {

    @Override
    public void binary(BinaryOp op, MemorySegment a, long aStart, long aStride, MemorySegment b, long bStart,
                       long bStride, MemorySegment out, long outStart, long length) {
        switch (op) {
            case ADD -> {
                for (long i = 0; i < length; i++) {
                    out.setAtIndex(F32, outStart + i,
                            a.getAtIndex(F32, aStart + i * aStride) + b.getAtIndex(F32, bStart + i * bStride));
                }
            }
            case SUB -> {
                for (long i = 0; i < length; i++) {
                    out.setAtIndex(F32, outStart + i,
                            a.getAtIndex(F32, aStart + i * aStride) - b.getAtIndex(F32, bStart + i * bStride));
                }
            }
            case MUL -> {
                for (long i = 0; i < length; i++) {
                    out.setAtIndex(F32, outStart + i,
                            a.getAtIndex(F32, aStart + i * aStride) * b.getAtIndex(F32, bStart + i * bStride));
                }
            }
            case DIV -> {
                for (long i = 0; i < length; i++) {
                    out.setAtIndex(F32, outStart + i,
                            a.getAtIndex(F32, aStart + i * aStride) / b.getAtIndex(F32, bStart + i * bStride));
                }
            }
            default -> {
                for (long i = 0; i < length; i++) {
                    out.setAtIndex(F32, outStart + i,
                            op.apply(a.getAtIndex(F32, aStart + i * aStride), b.getAtIndex(F32, bStart + i * bStride)));
                }
            }
        }
    }

    @Override
    public void unary(UnaryOp op, MemorySegment x, long xStart, long xStride, MemorySegment out, long outStart,
                      long length) {
        switch (op) {
            case NEG -> {
                for (long i = 0; i < length; i++) {
                    out.setAtIndex(F32, outStart + i, -x.getAtIndex(F32, xStart + i * xStride));
                }
            }
            case RELU -> {
                for (long i = 0; i < length; i++) {
                    out.setAtIndex(F32, outStart + i, Math.max(x.getAtIndex(F32, xStart + i * xStride), 0f));
                }
            }
            default -> {
                for (long i = 0; i < length; i++) {
                    out.setAtIndex(F32, outStart + i, (float) op.apply(x.getAtIndex(F32, xStart + i * xStride)));
                }
            }
        }
    }
}
