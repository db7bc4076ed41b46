package dev.kiln.runtime;

import dev.kiln.ir.KilnException;
import dev.kiln.ir.Attribute;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;

import java.util.Set;

/**
 * Evaluates the host-scalar ops ({@code scalar_*}, {@code tensor_from_scalar}) on {@code Long},
 * {@code Double} and {@code Boolean} values with Java's semantics (see {@code dev.kiln.ir.ScalarOps}).
 */
public final class ScalarOpsEval {

    private ScalarOpsEval() {}

    private static final Set<String> OPS = Set.of("scalar_add", "scalar_sub", "scalar_mul", "scalar_div", "scalar_neg",
            "scalar_lt", "scalar_le", "scalar_eq", "scalar_ne", "scalar_and", "scalar_or", "scalar_not", "scalar_select",
            "scalar_cast", "tensor_from_scalar");

    /** Whether {@code opName} is evaluated here. */
    public static boolean handles(String opName) { return OPS.contains(opName); }

    /** The result of {@code op} on its operand values {@code args}. */
    public static Object eval(Op op, Object... args) {
        return switch (op.name()) {
            case "scalar_add" -> args[0] instanceof Long a ? (Object) (a + (Long) args[1]) : (Double) args[0] + (Double) args[1];
            case "scalar_sub" -> args[0] instanceof Long a ? (Object) (a - (Long) args[1]) : (Double) args[0] - (Double) args[1];
            case "scalar_mul" -> args[0] instanceof Long a ? (Object) (a * (Long) args[1]) : (Double) args[0] * (Double) args[1];
            case "scalar_div" -> {
                if (args[0] instanceof Long a) {
                    long b = (Long) args[1];
                    if (b == 0) throw new ArithmeticException("scalar_div: integer division by zero");
                    yield a / b;
                }
                yield (Double) args[0] / (Double) args[1];
            }
            case "scalar_neg" -> args[0] instanceof Long a ? (Object) (-a) : -(Double) args[0];
            case "scalar_lt" -> args[0] instanceof Long a ? a < (Long) args[1] : (Double) args[0] < (Double) args[1];
            case "scalar_le" -> args[0] instanceof Long a ? a <= (Long) args[1] : (Double) args[0] <= (Double) args[1];
            case "scalar_eq" -> equal(args[0], args[1]);
            case "scalar_ne" -> !equal(args[0], args[1]);
            case "scalar_and" -> (Boolean) args[0] && (Boolean) args[1];
            case "scalar_or" -> (Boolean) args[0] || (Boolean) args[1];
            case "scalar_not" -> !(Boolean) args[0];
            case "scalar_select" -> (Boolean) args[0] ? args[1] : args[2];
            case "scalar_cast" -> cast(args[0], ((Attribute.Str) op.attr("to")).value());
            case "tensor_from_scalar" -> tensor(args[0]);
            default -> throw new KilnException("not a scalar op: " + op.name());
        };
    }

    /** Java's {@code ==} on two scalars of one type (doubles by value: NaN is unequal, 0.0 == -0.0). */
    private static boolean equal(Object a, Object b) {
        if (a instanceof Double x) return x.doubleValue() == (Double) b;
        return a.equals(b);
    }

    /** {@code scalar_cast} with Java's conversions. */
    public static Object cast(Object v, String to) {
        return switch (to) {
            case "int" -> switch (v) {
                case Long l -> l;
                case Double d -> (long) (double) d;
                case Boolean b -> b ? 1L : 0L;
                default -> throw new KilnException("scalar_cast: " + v);
            };
            case "int32" -> switch (v) {
                case Long l -> (long) (int) (long) l;
                case Double d -> (long) (int) (double) d;
                case Boolean b -> b ? 1L : 0L;
                default -> throw new KilnException("scalar_cast: " + v);
            };
            case "float" -> switch (v) {
                case Long l -> (double) l;
                case Double d -> d;
                case Boolean b -> b ? 1.0 : 0.0;
                default -> throw new KilnException("scalar_cast: " + v);
            };
            case "bool" -> switch (v) {
                case Long l -> l != 0;
                case Double d -> d != 0.0;
                case Boolean b -> b;
                default -> throw new KilnException("scalar_cast: " + v);
            };
            default -> throw new KilnException("scalar_cast: unknown target '" + to + "'");
        };
    }

    private static NDArray tensor(Object v) {
        return switch (v) {
            case Long l -> {
                NDArray a = NDArray.zeros(DType.I64);
                a.setLong(l);
                yield a;
            }
            case Double d -> {
                NDArray a = NDArray.zeros(DType.F64);
                a.setFlat(0, d);
                yield a;
            }
            case Boolean b -> {
                NDArray a = NDArray.zeros(DType.BOOL);
                a.setFlat(0, b ? 1 : 0);
                yield a;
            }
            default -> throw new KilnException("tensor_from_scalar: " + v);
        };
    }
}
