package dev.kiln.tracer.capture;

import org.objectweb.asm.Opcodes;

/** Evaluates a conditional jump's condition: a concrete "jump taken" or a symbolic {@link SymCond}. */
final class Branches {

    private Branches() {}

    /** Pops the jump's operands; returns {@code Boolean} (whether the jump is taken), a {@link SymCond} or a {@link HostCond}. */
    static Object condition(Frame f, int op, State s) {
        switch (op) {
            case Opcodes.IFEQ, Opcodes.IFNE, Opcodes.IFLT, Opcodes.IFGE, Opcodes.IFGT, Opcodes.IFLE -> {
                Object v = s.pop();
                if (v instanceof SymCompare c) return new SymCond(op, c);
                if (v instanceof HostCompare c) return new HostCond(op, c.a(), c.b(), c.nanResult());
                if (v instanceof HostScalar h && h.jvm() == 'I') {
                    return new HostCond(op, h.value(), f.ctx.recorder.builder().constant(dev.kiln.ir.Attribute.of(0L)), 0);
                }
                int i = Arith.intValue(f, v);
                return switch (op) {
                    case Opcodes.IFEQ -> i == 0;
                    case Opcodes.IFNE -> i != 0;
                    case Opcodes.IFLT -> i < 0;
                    case Opcodes.IFGE -> i >= 0;
                    case Opcodes.IFGT -> i > 0;
                    default -> i <= 0;
                };
            }
            case Opcodes.IF_ICMPEQ, Opcodes.IF_ICMPNE, Opcodes.IF_ICMPLT, Opcodes.IF_ICMPGE, Opcodes.IF_ICMPGT, Opcodes.IF_ICMPLE -> {
                Object bv = s.pop(), av = s.pop();
                if (Host.involved(av, bv)) {
                    int jump = op - Opcodes.IF_ICMPEQ + Opcodes.IFEQ;
                    return new HostCond(jump, Host.value(f.ctx, av, 'I'), Host.value(f.ctx, bv, 'I'), 0);
                }
                int b = Arith.intValue(f, bv), a = Arith.intValue(f, av);
                return switch (op) {
                    case Opcodes.IF_ICMPEQ -> a == b;
                    case Opcodes.IF_ICMPNE -> a != b;
                    case Opcodes.IF_ICMPLT -> a < b;
                    case Opcodes.IF_ICMPGE -> a >= b;
                    case Opcodes.IF_ICMPGT -> a > b;
                    default -> a <= b;
                };
            }
            case Opcodes.IF_ACMPEQ, Opcodes.IF_ACMPNE -> {
                Object b = s.pop(), a = s.pop();
                if (a instanceof SymScalar || b instanceof SymScalar || a instanceof HostScalar || b instanceof HostScalar) throw f.error("compares a tensor's Java value by reference");
                return (a == b) == (op == Opcodes.IF_ACMPEQ);
            }
            case Opcodes.IFNULL, Opcodes.IFNONNULL -> {
                Object v = s.pop();
                return (v == null) == (op == Opcodes.IFNULL);
            }
            default -> throw f.unsupported("jump opcode " + op);
        }
    }
}
