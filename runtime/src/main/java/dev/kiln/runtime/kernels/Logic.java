package dev.kiln.runtime.kernels;

import dev.kiln.ir.KilnException;
import dev.kiln.ir.DType;
import dev.kiln.runtime.Elements;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.Shapes;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Logical ops on bool tensors and {@code where}, with NumPy broadcasting. */
public final class Logic {
    private Logic() {}

    /** {@code a && b} of two bool tensors. */
    public static NDArray logicalAnd(NDArray a, NDArray b) { return logical("logical_and", a, b, true); }

    /** {@code a || b} of two bool tensors. */
    public static NDArray logicalOr(NDArray a, NDArray b) { return logical("logical_or", a, b, false); }

    /** {@code !x} of a bool tensor. */
    public static NDArray logicalNot(NDArray x) {
        requireBool("logical_not", x);
        NDArray out = NDArray.zeros(DType.BOOL, x.shape());
        MemorySegment xs = x.segment(), os = out.segment();
        Loops.Plan plan = Loops.plan(x.shape(), new long[] {x.offset(), 0}, x.strides(), out.strides());
        long sx = plan.innerStride(0), so = plan.innerStride(1);
        plan.run((p, n) -> {
            for (long i = 0; i < n; i++) {
                byte v = xs.getAtIndex(ValueLayout.JAVA_BYTE, p[0] + i * sx);
                os.setAtIndex(ValueLayout.JAVA_BYTE, p[1] + i * so, (byte) (v == 0 ? 1 : 0));
            }
        });
        return out;
    }

    /** {@code cond ? a : b} elementwise; {@code cond} is bool, {@code a} and {@code b} share a dtype; all three broadcast. */
    public static NDArray where(NDArray cond, NDArray a, NDArray b) {
        requireBool("where", cond);
        Checks.sameDType("where", a, b);
        long[] shape = Shapes.broadcast("where", cond.shape(), Shapes.broadcast("where", a.shape(), b.shape()));
        NDArray c = cond.broadcastTo(shape), x = a.broadcastTo(shape), y = b.broadcastTo(shape);
        NDArray out = NDArray.zeros(a.dtype(), shape);
        MemorySegment cs = c.segment(), xs = x.segment(), ys = y.segment(), os = out.segment();
        int size = a.dtype().byteSize();
        Loops.Plan plan = Loops.plan(shape, new long[] {c.offset(), x.offset(), y.offset(), 0},
                c.strides(), x.strides(), y.strides(), out.strides());
        long sc = plan.innerStride(0), sx = plan.innerStride(1), sy = plan.innerStride(2), so = plan.innerStride(3);
        plan.run((p, n) -> {
            for (long i = 0; i < n; i++) {
                if (cs.getAtIndex(ValueLayout.JAVA_BYTE, p[0] + i * sc) != 0) {
                    Elements.copyElement(xs, p[1] + i * sx, os, p[3] + i * so, size);
                } else {
                    Elements.copyElement(ys, p[2] + i * sy, os, p[3] + i * so, size);
                }
            }
        });
        return out;
    }

    private static NDArray logical(String op, NDArray a, NDArray b, boolean and) {
        requireBool(op, a);
        requireBool(op, b);
        long[] shape = Shapes.broadcast(op, a.shape(), b.shape());
        NDArray x = a.broadcastTo(shape), y = b.broadcastTo(shape);
        NDArray out = NDArray.zeros(DType.BOOL, shape);
        MemorySegment xs = x.segment(), ys = y.segment(), os = out.segment();
        Loops.Plan plan = Loops.plan(shape, new long[] {x.offset(), y.offset(), 0}, x.strides(), y.strides(), out.strides());
        long sx = plan.innerStride(0), sy = plan.innerStride(1), so = plan.innerStride(2);
        plan.run((p, n) -> {
            for (long i = 0; i < n; i++) {
                boolean u = xs.getAtIndex(ValueLayout.JAVA_BYTE, p[0] + i * sx) != 0;
                boolean v = ys.getAtIndex(ValueLayout.JAVA_BYTE, p[1] + i * sy) != 0;
                os.setAtIndex(ValueLayout.JAVA_BYTE, p[2] + i * so, (byte) ((and ? u && v : u || v) ? 1 : 0));
            }
        });
        return out;
    }

    private static void requireBool(String op, NDArray x) {
        if (x.dtype() != DType.BOOL) {
            throw new KilnException(op + ": expects a bool tensor, got " + x.dtype() + " of shape "
                    + Shapes.str(x.shape()) + "; convert with to(bool) first");
        }
    }
}
