package dev.kiln.tracer.capture;

import dev.kiln.frontend.Tensor;
import dev.kiln.ir.DType;
import org.objectweb.asm.Opcodes;

/**
 * Arithmetic, conversion and comparison instructions. On concrete values they compute what the JVM
 * computes; on a {@link SymScalar} (a double read by {@code item()}) {@code dadd}/{@code dsub}/
 * {@code dmul}/{@code ddiv}/{@code dneg} become f64 tensor ops and {@code dcmpl}/{@code dcmpg} a
 * {@link SymCompare}; {@code d2i}/{@code d2l}, and anything involving a {@link HostScalar}, become host-scalar
 * ops ({@link Host}); anything else on a symbolic value is rejected.
 */
final class Arith {

    private Arith() {}

    static int intValue(Frame f, Object v) {
        if (v instanceof Integer i) return i;
        if (v instanceof SymCompare || v instanceof HostCompare) throw f.error("uses the result of comparing a tensor's Java value as an int");
        if (v instanceof HostScalar) throw f.error("uses a data-dependent Java int (computed from tensor data) as an array index, "
                + "array size or switch key, which is not supported in @Compile methods");
        throw f.error("expected an int, got " + v);
    }

    static void apply(Frame f, int op, State s) {
        boolean unary = op >= Opcodes.INEG && op <= Opcodes.DNEG || op >= Opcodes.I2L && op <= Opcodes.I2S;
        Object b = s.pop();
        Object a = unary ? null : s.pop();
        if (Host.involved(a, b)) {
            s.push(Host.apply(f, op, a, b));
            return;
        }
        if (a instanceof SymScalar || b instanceof SymScalar) {
            s.push(symbolic(f, op, a, b));
            return;
        }
        if (a instanceof SymCompare || b instanceof SymCompare || a instanceof HostCompare || b instanceof HostCompare) throw f.error("does arithmetic on the result of comparing a tensor's Java value");
        try {
            s.push(unary ? unary(op, b) : binary(op, a, b));
        } catch (ArithmeticException e) {
            throw f.error("ArithmeticException: " + e.getMessage());
        } catch (ClassCastException | NullPointerException e) {
            throw f.error("arithmetic on a non-number (" + a + ", " + b + ")");
        }
    }

    private static Object symbolic(Frame f, int op, Object a, Object b) {
        switch (op) {
            case Opcodes.DADD, Opcodes.DSUB, Opcodes.DMUL, Opcodes.DDIV -> {
                Tensor x = asF64(a), y = asF64(b);
                return new SymScalar(switch (op) {
                    case Opcodes.DADD -> x.add(y);
                    case Opcodes.DSUB -> x.sub(y);
                    case Opcodes.DMUL -> x.mul(y);
                    default -> x.div(y);
                });
            }
            case Opcodes.DNEG -> {
                return new SymScalar(asF64(b).neg());
            }
            case Opcodes.DCMPL, Opcodes.DCMPG -> {
                return compare(a, b, op == Opcodes.DCMPG ? 1 : -1);
            }
            case Opcodes.D2I, Opcodes.D2L -> {
                return Host.apply(f, op, a, b);
            }
            case Opcodes.D2F -> throw f.error("converting a tensor's Java value (from item()) to float is not supported in "
                    + "@Compile methods (host scalars are int, long or double); keep it a double or a tensor");
            default -> throw f.error("the arithmetic instruction (opcode " + op + ") on a tensor's Java value (from item()) "
                    + "is not supported in @Compile methods");
        }
    }

    /**
     * Prepares a comparison with Java's double semantics. A value compared with a constant that its
     * float dtype holds exactly keeps its dtype (the order is the same); otherwise both sides are
     * compared as f64, which is what Java compares.
     */
    private static SymCompare compare(Object a, Object b, int nanResult) {
        if (a instanceof SymScalar x && b instanceof SymScalar y) {
            DType d = x.tensor().dtype();
            if (d == y.tensor().dtype() && (d == DType.F32 || d == DType.F64)) return new SymCompare(x.tensor(), y.tensor(), nanResult);
            return new SymCompare(asF64(a), asF64(b), nanResult);
        }
        boolean symFirst = a instanceof SymScalar;
        Tensor t = ((SymScalar) (symFirst ? a : b)).tensor();
        double c = ((Number) (symFirst ? b : a)).doubleValue();
        boolean exact = t.dtype() == DType.F64 || t.dtype() == DType.F32 && (double) (float) c == c;
        Tensor sym = exact ? t : t.to(DType.F64);
        Tensor constant = Tensor.scalar(sym.dtype(), c);
        return symFirst ? new SymCompare(sym, constant, nanResult) : new SymCompare(constant, sym, nanResult);
    }

    private static Tensor asF64(Object v) {
        if (v instanceof SymScalar s) return s.tensor().to(DType.F64);
        return Tensor.scalar(DType.F64, ((Number) v).doubleValue());
    }

    private static Object unary(int op, Object v) {
        return switch (op) {
            case Opcodes.INEG -> -(Integer) v;
            case Opcodes.LNEG -> -(Long) v;
            case Opcodes.FNEG -> -(Float) v;
            case Opcodes.DNEG -> -(Double) v;
            case Opcodes.I2L -> (long) (Integer) v;
            case Opcodes.I2F -> (float) (Integer) v;
            case Opcodes.I2D -> (double) (Integer) v;
            case Opcodes.L2I -> (int) (long) (Long) v;
            case Opcodes.L2F -> (float) (Long) v;
            case Opcodes.L2D -> (double) (Long) v;
            case Opcodes.F2I -> (int) (float) (Float) v;
            case Opcodes.F2L -> (long) (float) (Float) v;
            case Opcodes.F2D -> (double) (Float) v;
            case Opcodes.D2I -> (int) (double) (Double) v;
            case Opcodes.D2L -> (long) (double) (Double) v;
            case Opcodes.D2F -> (float) (double) (Double) v;
            case Opcodes.I2B -> (int) (byte) (int) (Integer) v;
            case Opcodes.I2C -> (int) (char) (int) (Integer) v;
            case Opcodes.I2S -> (int) (short) (int) (Integer) v;
            default -> throw new IllegalStateException("unary opcode " + op);
        };
    }

    private static Object binary(int op, Object a, Object b) {
        return switch (op) {
            case Opcodes.IADD -> (Integer) a + (Integer) b;
            case Opcodes.LADD -> (Long) a + (Long) b;
            case Opcodes.FADD -> (Float) a + (Float) b;
            case Opcodes.DADD -> (Double) a + (Double) b;
            case Opcodes.ISUB -> (Integer) a - (Integer) b;
            case Opcodes.LSUB -> (Long) a - (Long) b;
            case Opcodes.FSUB -> (Float) a - (Float) b;
            case Opcodes.DSUB -> (Double) a - (Double) b;
            case Opcodes.IMUL -> (Integer) a * (Integer) b;
            case Opcodes.LMUL -> (Long) a * (Long) b;
            case Opcodes.FMUL -> (Float) a * (Float) b;
            case Opcodes.DMUL -> (Double) a * (Double) b;
            case Opcodes.IDIV -> (Integer) a / (Integer) b;
            case Opcodes.LDIV -> (Long) a / (Long) b;
            case Opcodes.FDIV -> (Float) a / (Float) b;
            case Opcodes.DDIV -> (Double) a / (Double) b;
            case Opcodes.IREM -> (Integer) a % (Integer) b;
            case Opcodes.LREM -> (Long) a % (Long) b;
            case Opcodes.FREM -> (Float) a % (Float) b;
            case Opcodes.DREM -> (Double) a % (Double) b;
            case Opcodes.ISHL -> (Integer) a << (Integer) b;
            case Opcodes.LSHL -> (Long) a << (Integer) b;
            case Opcodes.ISHR -> (Integer) a >> (Integer) b;
            case Opcodes.LSHR -> (Long) a >> (Integer) b;
            case Opcodes.IUSHR -> (Integer) a >>> (Integer) b;
            case Opcodes.LUSHR -> (Long) a >>> (Integer) b;
            case Opcodes.IAND -> (Integer) a & (Integer) b;
            case Opcodes.LAND -> (Long) a & (Long) b;
            case Opcodes.IOR -> (Integer) a | (Integer) b;
            case Opcodes.LOR -> (Long) a | (Long) b;
            case Opcodes.IXOR -> (Integer) a ^ (Integer) b;
            case Opcodes.LXOR -> (Long) a ^ (Long) b;
            case Opcodes.LCMP -> Long.compare((Long) a, (Long) b);
            case Opcodes.FCMPL, Opcodes.FCMPG -> fcmp((Float) a, (Float) b, op == Opcodes.FCMPG ? 1 : -1);
            case Opcodes.DCMPL, Opcodes.DCMPG -> dcmp((Double) a, (Double) b, op == Opcodes.DCMPG ? 1 : -1);
            default -> throw new IllegalStateException("binary opcode " + op);
        };
    }

    private static int fcmp(float a, float b, int nan) {
        if (Float.isNaN(a) || Float.isNaN(b)) return nan;
        return a < b ? -1 : a > b ? 1 : 0;
    }

    private static int dcmp(double a, double b, int nan) {
        if (Double.isNaN(a) || Double.isNaN(b)) return nan;
        return a < b ? -1 : a > b ? 1 : 0;
    }
}
