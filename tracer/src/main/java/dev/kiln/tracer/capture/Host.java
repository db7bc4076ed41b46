package dev.kiln.tracer.capture;

import dev.kiln.frontend.Tensor;
import dev.kiln.ir.Attribute;
import dev.kiln.ir.Builder;
import dev.kiln.ir.ScalarType;
import dev.kiln.ir.Value;
import org.objectweb.asm.Opcodes;

import java.util.Map;

/**
 * Java arithmetic, conversions and comparisons on data-dependent values as host-scalar IR ops
 * ({@code scalar_*}), with Java's semantics: int results are wrapped to 32 bits after each op
 * ({@code scalar_cast {to: "int32"}}), longs wrap in 64-bit scalar arithmetic, {@code d2i}/{@code d2l}
 * saturate and map NaN to 0.
 */
final class Host {

    private Host() {}

    /** The JVM type of a number-like stack value: 'I', 'J', 'D', or 0 for anything else (floats included). */
    static char kindOf(Object v) {
        return switch (v) {
            case Integer i -> 'I';
            case Long l -> 'J';
            case Double d -> 'D';
            case SymScalar s -> 'D';
            case HostScalar h -> h.jvm();
            case null, default -> (char) 0;
        };
    }

    static ScalarType typeOf(char jvm) { return jvm == 'D' ? ScalarType.FLOAT : ScalarType.INT; }

    /** The host-scalar IR value of {@code v} as JVM type {@code jvm}, emitting ops in the current region. */
    static Value value(CaptureContext ctx, Object v, char jvm) {
        Builder b = ctx.recorder.builder();
        char k = kindOf(v);
        if (k != jvm) throw ctx.error("internal: expected a JVM " + jvm + " value, got " + v);
        return switch (v) {
            case HostScalar h -> h.value();
            case Integer i -> b.constant(Attribute.of((long) i));
            case Long l -> b.constant(Attribute.of((long) l));
            case Double d -> b.constant(Attribute.of((double) d));
            case SymScalar s -> {
                Value item = b.op("item", ctx.recorder.valueOf(s.tensor()));
                yield item.type() == ScalarType.FLOAT ? item : cast(b, item, "float");
            }
            default -> throw ctx.error("internal: not a number " + v);
        };
    }

    private static Value cast(Builder b, Value v, String to) { return b.op("scalar_cast", Map.of("to", Attribute.of(to)), v); }

    /** Whether {@code op} on these operands goes through host-scalar ops (some operand is a host scalar). */
    static boolean involved(Object a, Object b) { return a instanceof HostScalar || b instanceof HostScalar; }

    /** Applies arithmetic/conversion/compare opcode {@code op} to {@code a} (null if unary) and {@code b}. */
    static Object apply(Frame f, int op, Object a, Object b) {
        CaptureContext ctx = f.ctx;
        Builder bld = ctx.recorder.builder();
        switch (op) {
            case Opcodes.IADD, Opcodes.ISUB, Opcodes.IMUL -> {
                Value r = bld.op(arithName(op - Opcodes.IADD), value(ctx, need(f, a, 'I'), 'I'), value(ctx, need(f, b, 'I'), 'I'));
                return new HostScalar(cast(bld, r, "int32"), 'I');
            }
            case Opcodes.LADD, Opcodes.LSUB, Opcodes.LMUL -> {
                return new HostScalar(bld.op(arithName(op - Opcodes.LADD), value(ctx, need(f, a, 'J'), 'J'), value(ctx, need(f, b, 'J'), 'J')), 'J');
            }
            case Opcodes.DADD, Opcodes.DSUB, Opcodes.DMUL, Opcodes.DDIV -> {
                return new HostScalar(bld.op(arithName(op - Opcodes.DADD), value(ctx, need(f, a, 'D'), 'D'), value(ctx, need(f, b, 'D'), 'D')), 'D');
            }
            case Opcodes.INEG -> {
                return new HostScalar(cast(bld, bld.op("scalar_neg", value(ctx, need(f, b, 'I'), 'I')), "int32"), 'I');
            }
            case Opcodes.LNEG, Opcodes.DNEG -> {
                char k = op == Opcodes.LNEG ? 'J' : 'D';
                return new HostScalar(bld.op("scalar_neg", value(ctx, need(f, b, k), k)), k);
            }
            case Opcodes.I2L -> { return new HostScalar(value(ctx, need(f, b, 'I'), 'I'), 'J'); }
            case Opcodes.L2I -> { return new HostScalar(cast(bld, value(ctx, need(f, b, 'J'), 'J'), "int32"), 'I'); }
            case Opcodes.I2D, Opcodes.L2D -> {
                char k = op == Opcodes.I2D ? 'I' : 'J';
                return new HostScalar(cast(bld, value(ctx, need(f, b, k), k), "float"), 'D');
            }
            case Opcodes.D2I -> { return new HostScalar(cast(bld, value(ctx, need(f, b, 'D'), 'D'), "int32"), 'I'); }
            case Opcodes.D2L -> { return new HostScalar(cast(bld, value(ctx, need(f, b, 'D'), 'D'), "int"), 'J'); }
            case Opcodes.LCMP -> { return new HostCompare(value(ctx, need(f, a, 'J'), 'J'), value(ctx, need(f, b, 'J'), 'J'), 0); }
            case Opcodes.DCMPL, Opcodes.DCMPG -> {
                return new HostCompare(value(ctx, need(f, a, 'D'), 'D'), value(ctx, need(f, b, 'D'), 'D'), op == Opcodes.DCMPG ? 1 : -1);
            }
            default -> throw f.error("the arithmetic instruction (opcode " + op + ") on a data-dependent Java value (computed from "
                    + "tensor data) is not supported in @Compile methods; supported are +, -, * on int/long/double, / on double, "
                    + "negation, comparisons and int/long/double conversions");
        }
    }

    private static String arithName(int index) {
        // IADD, LADD, ... then ISUB, ... : the op groups are 4 opcodes apart.
        return switch (index) {
            case 0 -> "scalar_add";
            case 4 -> "scalar_sub";
            case 8 -> "scalar_mul";
            case 12 -> "scalar_div";
            default -> throw new IllegalStateException("arith index " + index);
        };
    }

    private static Object need(Frame f, Object v, char jvm) {
        if (kindOf(v) != jvm) {
            throw f.error("expected a Java " + switch (jvm) { case 'I' -> "int"; case 'J' -> "long"; default -> "double"; }
                    + " in arithmetic on a data-dependent value, got " + (v instanceof SymCompare || v instanceof HostCompare
                    ? "the result of a comparison" : String.valueOf(v)));
        }
        return v;
    }

    /** {@code iinc} on a data-dependent int. */
    static HostScalar increment(Frame f, HostScalar h, int by) {
        return (HostScalar) apply(f, Opcodes.IADD, h, by);
    }

    /** The bool IR value of a data-dependent branch condition (a {@link SymCond} or {@link HostCond}). */
    static Value condition(CaptureContext ctx, Object cond, boolean whenJump) {
        Builder b = ctx.recorder.builder();
        if (cond instanceof SymCond sc) return b.op("item", ctx.recorder.valueOf(sc.tensor(whenJump)));
        return ((HostCond) cond).value(b, whenJump);
    }

    /** A 0-d tensor of {@code dtype} holding {@code v} (a host scalar, item() value or number of JVM type {@code jvm}). */
    static Tensor tensor(CaptureContext ctx, Object v, char jvm, dev.kiln.ir.DType dtype) {
        Value t = ctx.recorder.builder().op("tensor_from_scalar", value(ctx, v, jvm));
        Tensor ex = ctx.exampleFor(t);
        return ex.dtype() == dtype ? ex : ex.to(dtype);
    }
}
