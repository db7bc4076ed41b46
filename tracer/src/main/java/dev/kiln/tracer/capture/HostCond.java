package dev.kiln.tracer.capture;

import dev.kiln.ir.Builder;
import dev.kiln.ir.Value;
import org.objectweb.asm.Opcodes;

/**
 * A data-dependent branch condition on host scalars: {@code a <op> b} for {@code op} one of
 * {@code IFEQ} ... {@code IFLE} (read as ==, !=, <, >=, >, <=), with Java's NaN rule for the jump
 * ({@code nanResult} as in {@link HostCompare}; a NaN operand makes the comparison take that value).
 */
record HostCond(int opcode, Value a, Value b, int nanResult) {

    /** A bool scalar that is true exactly when the jump is taken ({@code whenJump}) or not taken. */
    Value value(Builder bld, boolean whenJump) {
        int op = whenJump ? opcode : negate(opcode);
        // With NaN the comparison result is nanResult, so e.g. `<` (result < 0) holds under NaN iff nanResult < 0.
        return switch (op) {
            case Opcodes.IFEQ -> bld.op("scalar_eq", a, b);
            case Opcodes.IFNE -> bld.op("scalar_ne", a, b);
            case Opcodes.IFLT -> nanResult < 0 ? not(bld, bld.op("scalar_le", b, a)) : bld.op("scalar_lt", a, b);
            case Opcodes.IFGE -> nanResult >= 0 && nanResult != 0 ? not(bld, bld.op("scalar_lt", a, b)) : bld.op("scalar_le", b, a);
            case Opcodes.IFGT -> nanResult > 0 ? not(bld, bld.op("scalar_le", a, b)) : bld.op("scalar_lt", b, a);
            case Opcodes.IFLE -> nanResult <= 0 && nanResult != 0 ? not(bld, bld.op("scalar_lt", b, a)) : bld.op("scalar_le", a, b);
            default -> throw new IllegalStateException("not a compare-with-zero jump: " + op);
        };
    }

    private static Value not(Builder bld, Value v) { return bld.op("scalar_not", v); }

    static int negate(int op) {
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
