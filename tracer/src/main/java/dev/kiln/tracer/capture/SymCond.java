package dev.kiln.tracer.capture;

import dev.kiln.frontend.Tensor;
import org.objectweb.asm.Opcodes;

/**
 * A data-dependent branch condition: {@code if<op>} ({@code IFEQ} ... {@code IFLE}) applied to a
 * {@link SymCompare}. It becomes a bool tensor with Java's NaN semantics, for either edge.
 */
record SymCond(int opcode, SymCompare compare) {

    /** A bool tensor that is true exactly when the jump is taken ({@code whenJump}) or not taken. */
    Tensor tensor(boolean whenJump) {
        int op = whenJump ? opcode : negate(opcode);
        Tensor a = compare.a(), b = compare.b();
        int nan = compare.nanResult();
        return switch (op) {
            case Opcodes.IFEQ -> a.eq(b);
            case Opcodes.IFNE -> a.ne(b);
            case Opcodes.IFLT -> nan < 0 ? a.ge(b).logicalNot() : a.lt(b);
            case Opcodes.IFGE -> nan >= 0 ? a.lt(b).logicalNot() : a.ge(b);
            case Opcodes.IFGT -> nan > 0 ? a.le(b).logicalNot() : a.gt(b);
            case Opcodes.IFLE -> nan <= 0 ? a.gt(b).logicalNot() : a.le(b);
            default -> throw new IllegalStateException("not a compare-with-zero jump: " + op);
        };
    }

    private static int negate(int op) {
        return switch (op) {
            case Opcodes.IFEQ -> Opcodes.IFNE;
            case Opcodes.IFNE -> Opcodes.IFEQ;
            case Opcodes.IFLT -> Opcodes.IFGE;
            case Opcodes.IFGE -> Opcodes.IFLT;
            case Opcodes.IFGT -> Opcodes.IFLE;
            case Opcodes.IFLE -> Opcodes.IFGT;
            default -> throw new IllegalStateException("not a compare-with-zero jump: " + op);
        };
    }
}
