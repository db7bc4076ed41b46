package dev.kiln.runtime.kernels;

import dev.kiln.ir.DType;
import dev.kiln.runtime.Elements;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.Shapes;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Elementwise kernels with NumPy broadcasting. Both operands of a binary op must have the same dtype. f32 runs
 * on vectorised row loops (Vector API when available); other dtypes take a general path (f16/bf16 computed in
 * f32, integers in 64-bit wrap-around arithmetic, u64 with unsigned division, remainder and ordering). Every op returns a new contiguous tensor.
 */
public final class Elementwise {
    private Elementwise() {}

    /** Whether f32 loops currently run on the Vector API (false when the JVM lacks jdk.incubator.vector). */
    public static boolean usesVectorApi() {
        return !(F32Rows.best() instanceof PlainF32Rows);
    }

    /** {@code a + b}, broadcasting. */
    public static NDArray add(NDArray a, NDArray b) { return binary(BinaryOp.ADD, a, b, F32Rows.best()); }

    /** {@code a - b}, broadcasting. */
    public static NDArray sub(NDArray a, NDArray b) { return binary(BinaryOp.SUB, a, b, F32Rows.best()); }

    /** {@code a * b}, broadcasting. */
    public static NDArray mul(NDArray a, NDArray b) { return binary(BinaryOp.MUL, a, b, F32Rows.best()); }

    /** {@code a / b}, broadcasting; integer division truncates toward zero and rejects a zero divisor. */
    public static NDArray div(NDArray a, NDArray b) { return binary(BinaryOp.DIV, a, b, F32Rows.best()); }

    /** {@code a ** b}, broadcasting; floating-point only, with C's special cases ({@code pow(1, nan) = 1}). */
    public static NDArray pow(NDArray a, NDArray b) {
        Checks.floating("pow", a);
        return binary(BinaryOp.POW, a, b, F32Rows.best());
    }

    /**
     * Python's {@code a % b} (torch.remainder), broadcasting: the result takes the divisor's sign, so
     * {@code -1 % 3 = 2} and {@code 1 % -3 = -2}; float {@code x % 0} is NaN, integer {@code x % 0} an error.
     */
    public static NDArray remainder(NDArray a, NDArray b) { return binary(BinaryOp.REMAINDER, a, b, F32Rows.best()); }

    /** Elementwise max, broadcasting; NaN propagates and {@code 0.0} beats {@code -0.0}. */
    public static NDArray maximum(NDArray a, NDArray b) { return binary(BinaryOp.MAXIMUM, a, b, F32Rows.best()); }

    /** Elementwise min, broadcasting; NaN propagates and {@code -0.0} beats {@code 0.0}. */
    public static NDArray minimum(NDArray a, NDArray b) { return binary(BinaryOp.MINIMUM, a, b, F32Rows.best()); }

    /** {@code -x}. */
    public static NDArray neg(NDArray x) { return unary(UnaryOp.NEG, x, F32Rows.best()); }

    /** {@code max(x, 0)}; NaN stays NaN. */
    public static NDArray relu(NDArray x) { return unary(UnaryOp.RELU, x, F32Rows.best()); }

    /** {@code 1 / (1 + exp(-x))}; floating-point tensors only. */
    public static NDArray sigmoid(NDArray x) { return unary(UnaryOp.SIGMOID, x, F32Rows.best()); }

    /** Hyperbolic tangent; floating-point tensors only. */
    public static NDArray tanh(NDArray x) { return unary(UnaryOp.TANH, x, F32Rows.best()); }

    /** {@code a > b} as a bool tensor, broadcasting. */
    public static NDArray gt(NDArray a, NDArray b) { return compare(CompareOp.GT, a, b); }

    /** {@code a < b} as a bool tensor, broadcasting. */
    public static NDArray lt(NDArray a, NDArray b) { return compare(CompareOp.LT, a, b); }

    /** {@code a == b} as a bool tensor, broadcasting. */
    public static NDArray eq(NDArray a, NDArray b) { return compare(CompareOp.EQ, a, b); }

    /** {@code a != b} as a bool tensor, broadcasting (true where either is NaN). */
    public static NDArray ne(NDArray a, NDArray b) { return compare(CompareOp.NE, a, b); }

    /** {@code a <= b} as a bool tensor, broadcasting. */
    public static NDArray le(NDArray a, NDArray b) { return compare(CompareOp.LE, a, b); }

    /** {@code a >= b} as a bool tensor, broadcasting. */
    public static NDArray ge(NDArray a, NDArray b) { return compare(CompareOp.GE, a, b); }

    static NDArray binary(BinaryOp op, NDArray a, NDArray b, F32Rows rows) {
        Checks.sameDType(op.opName, a, b);
        Checks.notBool(op.opName, a);
        long[] shape = Shapes.broadcast(op.opName, a.shape(), b.shape());
        NDArray x = a.broadcastTo(shape);
        NDArray y = b.broadcastTo(shape);
        NDArray out = NDArray.zeros(a.dtype(), shape);
        DType t = a.dtype();
        MemorySegment as = x.segment(), bs = y.segment(), os = out.segment();
        Loops.Plan plan = Loops.plan(shape, new long[] {x.offset(), y.offset(), 0},
                x.strides(), y.strides(), out.strides());
        long sa = plan.innerStride(0), sb = plan.innerStride(1), so = plan.innerStride(2);
        if (t == DType.F32) {
            plan.run((p, n) -> rows.binary(op, as, p[0], sa, bs, p[1], sb, os, p[2], n));
        } else if (t.isFloatingPoint()) {
            plan.run((p, n) -> {
                for (long i = 0; i < n; i++) {
                    Elements.setDouble(os, t, p[2] + i * so, op.apply(
                            Elements.getDouble(as, t, p[0] + i * sa), Elements.getDouble(bs, t, p[1] + i * sb)));
                }
            });
        } else if (t == DType.U64) {
            plan.run((p, n) -> {
                for (long i = 0; i < n; i++) {
                    Elements.setLong(os, t, p[2] + i * so, op.applyUnsigned(
                            Elements.getLong(as, t, p[0] + i * sa), Elements.getLong(bs, t, p[1] + i * sb)));
                }
            });
        } else {
            plan.run((p, n) -> {
                for (long i = 0; i < n; i++) {
                    Elements.setLong(os, t, p[2] + i * so, op.apply(
                            Elements.getLong(as, t, p[0] + i * sa), Elements.getLong(bs, t, p[1] + i * sb)));
                }
            });
        }
        return out;
    }

    static NDArray unary(UnaryOp op, NDArray x, F32Rows rows) {
        DType t = x.dtype();
        Checks.notBool(op.opName, x);
        if (!op.integral) Checks.floating(op.opName, x);
        long[] shape = x.shape();
        NDArray out = NDArray.zeros(t, shape);
        MemorySegment xs = x.segment(), os = out.segment();
        Loops.Plan plan = Loops.plan(shape, new long[] {x.offset(), 0}, x.strides(), out.strides());
        long sx = plan.innerStride(0), so = plan.innerStride(1);
        if (t == DType.F32) {
            plan.run((p, n) -> rows.unary(op, xs, p[0], sx, os, p[1], n));
        } else if (t.isFloatingPoint()) {
            plan.run((p, n) -> {
                for (long i = 0; i < n; i++) {
                    Elements.setDouble(os, t, p[1] + i * so, op.apply(Elements.getDouble(xs, t, p[0] + i * sx)));
                }
            });
        } else {
            boolean u64 = t == DType.U64;
            plan.run((p, n) -> {
                for (long i = 0; i < n; i++) {
                    long v = Elements.getLong(xs, t, p[0] + i * sx);
                    Elements.setLong(os, t, p[1] + i * so, u64 ? op.applyUnsigned(v) : op.apply(v));
                }
            });
        }
        return out;
    }

    private static NDArray compare(CompareOp op, NDArray a, NDArray b) {
        Checks.sameDType(op.opName, a, b);
        long[] shape = Shapes.broadcast(op.opName, a.shape(), b.shape());
        NDArray x = a.broadcastTo(shape);
        NDArray y = b.broadcastTo(shape);
        NDArray out = NDArray.zeros(DType.BOOL, shape);
        DType t = a.dtype();
        MemorySegment as = x.segment(), bs = y.segment(), os = out.segment();
        Loops.Plan plan = Loops.plan(shape, new long[] {x.offset(), y.offset(), 0},
                x.strides(), y.strides(), out.strides());
        long sa = plan.innerStride(0), sb = plan.innerStride(1), so = plan.innerStride(2);
        boolean floating = t.isFloatingPoint();
        plan.run((p, n) -> {
            for (long i = 0; i < n; i++) {
                long ia = p[0] + i * sa, ib = p[1] + i * sb;
                boolean r = floating
                        ? op.test(Elements.getDouble(as, t, ia), Elements.getDouble(bs, t, ib))
                        : op.test(Elements.compareLongs(t, Elements.getLong(as, t, ia), Elements.getLong(bs, t, ib)), 0);
                os.set(ValueLayout.JAVA_BYTE, p[2] + i * so, (byte) (r ? 1 : 0));
            }
        });
        return out;
    }
}
