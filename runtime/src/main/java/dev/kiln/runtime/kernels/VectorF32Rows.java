package dev.kiln.runtime.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static dev.kiln.runtime.Elements.F32;

/**
 * f32 row loops on the Vector API for unit-stride operands and broadcast scalars (stride 0); other strides and
 * the tail of each row go to {@link PlainF32Rows}. Each op has its own small method with the operation fixed
 * inside the loop, so C2 compiles and intrinsifies them independently. Only loaded when
 * {@code jdk.incubator.vector} is present, so nothing else in the runtime may refer to this class directly.
 */
final class VectorF32Rows implements F32Rows {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int STEP = S.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final PlainF32Rows TAIL = new PlainF32Rows();

    /** Which operand, if any, is a broadcast scalar. */
    private enum Shape { SAME, RIGHT_SCALAR, LEFT_SCALAR }

    VectorF32Rows() {}

    @Override
    public void binary(BinaryOp op, MemorySegment a, long aStart, long aStride, MemorySegment b, long bStart,
                       long bStride, MemorySegment out, long outStart, long length) {
        Shape shape = aStride == 1 && bStride == 1 ? Shape.SAME
                : aStride == 1 && bStride == 0 ? Shape.RIGHT_SCALAR
                : aStride == 0 && bStride == 1 ? Shape.LEFT_SCALAR : null;
        boolean vectorised = switch (op) {
            case ADD, SUB, MUL, DIV, MAXIMUM, MINIMUM -> true;
            default -> false;
        };
        if (shape == null || length < STEP || !vectorised) {
            TAIL.binary(op, a, aStart, aStride, b, bStart, bStride, out, outStart, length);
            return;
        }
        long bound = S.loopBound(length);
        switch (op) {
            case ADD -> add(shape, a, aStart, b, bStart, out, outStart, bound);
            case SUB -> sub(shape, a, aStart, b, bStart, out, outStart, bound);
            case MUL -> mul(shape, a, aStart, b, bStart, out, outStart, bound);
            case DIV -> div(shape, a, aStart, b, bStart, out, outStart, bound);
            case MAXIMUM -> lanewise(VectorOperators.MAX, shape, a, aStart, b, bStart, out, outStart, bound);
            case MINIMUM -> lanewise(VectorOperators.MIN, shape, a, aStart, b, bStart, out, outStart, bound);
            default -> throw new AssertionError(op);
        }
        TAIL.binary(op, a, aStart + bound * aStride, aStride, b, bStart + bound * bStride, bStride, out,
                outStart + bound, length - bound);
    }

    @Override
    public void unary(UnaryOp op, MemorySegment x, long xStart, long xStride, MemorySegment out, long outStart,
                      long length) {
        // Only ops whose vector form is exact (or already was) run here; the rest stay scalar and bit-identical.
        boolean vectorised = switch (op) {
            case NEG, RELU, SIGMOID, TANH, ABS, SQRT, RECIPROCAL -> true;
            default -> false;
        };
        if (xStride != 1 || length < STEP || !vectorised) {
            TAIL.unary(op, x, xStart, xStride, out, outStart, length);
            return;
        }
        long bound = S.loopBound(length);
        switch (op) {
            case NEG -> neg(x, xStart, out, outStart, bound);
            case RELU -> relu(x, xStart, out, outStart, bound);
            case SIGMOID -> sigmoid(x, xStart, out, outStart, bound);
            case TANH -> tanh(x, xStart, out, outStart, bound);
            case ABS -> abs(x, xStart, out, outStart, bound);
            case SQRT -> sqrt(x, xStart, out, outStart, bound);
            case RECIPROCAL -> reciprocal(x, xStart, out, outStart, bound);
            default -> throw new AssertionError(op);
        }
        TAIL.unary(op, x, xStart + bound, xStride, out, outStart + bound, length - bound);
    }

    private static FloatVector load(MemorySegment s, long start, long i) {
        return FloatVector.fromMemorySegment(S, s, (start + i) * 4L, ORDER);
    }

    private static void store(FloatVector v, MemorySegment out, long start, long i) {
        v.intoMemorySegment(out, (start + i) * 4L, ORDER);
    }

    private static void add(Shape shape, MemorySegment a, long as, MemorySegment b, long bs, MemorySegment o,
                            long os, long bound) {
        switch (shape) {
            case SAME -> {
                for (long i = 0; i < bound; i += STEP) store(load(a, as, i).add(load(b, bs, i)), o, os, i);
            }
            case RIGHT_SCALAR -> {
                float s = b.getAtIndex(F32, bs);
                for (long i = 0; i < bound; i += STEP) store(load(a, as, i).add(s), o, os, i);
            }
            case LEFT_SCALAR -> {
                FloatVector s = FloatVector.broadcast(S, a.getAtIndex(F32, as));
                for (long i = 0; i < bound; i += STEP) store(s.add(load(b, bs, i)), o, os, i);
            }
        }
    }

    private static void sub(Shape shape, MemorySegment a, long as, MemorySegment b, long bs, MemorySegment o,
                            long os, long bound) {
        switch (shape) {
            case SAME -> {
                for (long i = 0; i < bound; i += STEP) store(load(a, as, i).sub(load(b, bs, i)), o, os, i);
            }
            case RIGHT_SCALAR -> {
                float s = b.getAtIndex(F32, bs);
                for (long i = 0; i < bound; i += STEP) store(load(a, as, i).sub(s), o, os, i);
            }
            case LEFT_SCALAR -> {
                FloatVector s = FloatVector.broadcast(S, a.getAtIndex(F32, as));
                for (long i = 0; i < bound; i += STEP) store(s.sub(load(b, bs, i)), o, os, i);
            }
        }
    }

    private static void mul(Shape shape, MemorySegment a, long as, MemorySegment b, long bs, MemorySegment o,
                            long os, long bound) {
        switch (shape) {
            case SAME -> {
                for (long i = 0; i < bound; i += STEP) store(load(a, as, i).mul(load(b, bs, i)), o, os, i);
            }
            case RIGHT_SCALAR -> {
                float s = b.getAtIndex(F32, bs);
                for (long i = 0; i < bound; i += STEP) store(load(a, as, i).mul(s), o, os, i);
            }
            case LEFT_SCALAR -> {
                FloatVector s = FloatVector.broadcast(S, a.getAtIndex(F32, as));
                for (long i = 0; i < bound; i += STEP) store(s.mul(load(b, bs, i)), o, os, i);
            }
        }
    }

    private static void div(Shape shape, MemorySegment a, long as, MemorySegment b, long bs, MemorySegment o,
                            long os, long bound) {
        switch (shape) {
            case SAME -> {
                for (long i = 0; i < bound; i += STEP) store(load(a, as, i).div(load(b, bs, i)), o, os, i);
            }
            case RIGHT_SCALAR -> {
                float s = b.getAtIndex(F32, bs);
                for (long i = 0; i < bound; i += STEP) store(load(a, as, i).div(s), o, os, i);
            }
            case LEFT_SCALAR -> {
                FloatVector s = FloatVector.broadcast(S, a.getAtIndex(F32, as));
                for (long i = 0; i < bound; i += STEP) store(s.div(load(b, bs, i)), o, os, i);
            }
        }
    }

    /** max/min with Math.max/min semantics (NaN propagates, -0.0 < 0.0), which the Vector API shares. */
    private static void lanewise(VectorOperators.Binary op, Shape shape, MemorySegment a, long as, MemorySegment b,
                                 long bs, MemorySegment o, long os, long bound) {
        switch (shape) {
            case SAME -> {
                for (long i = 0; i < bound; i += STEP) store(load(a, as, i).lanewise(op, load(b, bs, i)), o, os, i);
            }
            case RIGHT_SCALAR -> {
                FloatVector s = FloatVector.broadcast(S, b.getAtIndex(F32, bs));
                for (long i = 0; i < bound; i += STEP) store(load(a, as, i).lanewise(op, s), o, os, i);
            }
            case LEFT_SCALAR -> {
                FloatVector s = FloatVector.broadcast(S, a.getAtIndex(F32, as));
                for (long i = 0; i < bound; i += STEP) store(s.lanewise(op, load(b, bs, i)), o, os, i);
            }
        }
    }

    private static void abs(MemorySegment x, long xs, MemorySegment o, long os, long bound) {
        for (long i = 0; i < bound; i += STEP) store(load(x, xs, i).abs(), o, os, i);
    }

    private static void sqrt(MemorySegment x, long xs, MemorySegment o, long os, long bound) {
        for (long i = 0; i < bound; i += STEP) store(load(x, xs, i).sqrt(), o, os, i);
    }

    private static void reciprocal(MemorySegment x, long xs, MemorySegment o, long os, long bound) {
        FloatVector one = FloatVector.broadcast(S, 1f);
        for (long i = 0; i < bound; i += STEP) store(one.div(load(x, xs, i)), o, os, i);
    }

    private static void neg(MemorySegment x, long xs, MemorySegment o, long os, long bound) {
        for (long i = 0; i < bound; i += STEP) store(load(x, xs, i).neg(), o, os, i);
    }

    private static void relu(MemorySegment x, long xs, MemorySegment o, long os, long bound) {
        for (long i = 0; i < bound; i += STEP) store(load(x, xs, i).max(0f), o, os, i);
    }

    private static void sigmoid(MemorySegment x, long xs, MemorySegment o, long os, long bound) {
        FloatVector one = FloatVector.broadcast(S, 1f);
        for (long i = 0; i < bound; i += STEP) {
            store(one.div(VectorExp.exp(load(x, xs, i).neg()).add(one)), o, os, i);
        }
    }

    private static void tanh(MemorySegment x, long xs, MemorySegment o, long os, long bound) {
        for (long i = 0; i < bound; i += STEP) store(load(x, xs, i).lanewise(VectorOperators.TANH), o, os, i);
    }
}
