package dev.kiln.ir;

import java.util.List;
import java.util.Set;

import static dev.kiln.ir.Trait.COMMUTATIVE;
import static dev.kiln.ir.Trait.PURE;

/**
 * Ops on host scalars ({@link ScalarType}: {@code int} = 64-bit two's complement, {@code float} =
 * IEEE double, {@code bool}), with Java's semantics:
 *
 * <ul>
 *   <li>{@code scalar_add/sub/mul(a, b)}: both int or both float; int arithmetic wraps (Java
 *       {@code long}), float is IEEE double.</li>
 *   <li>{@code scalar_div(a, b)}: float: IEEE; int: truncates toward zero, {@code MIN / -1 == MIN},
 *       and division by zero is an error at run time (Java's {@code ArithmeticException}).</li>
 *   <li>{@code scalar_neg(a)}: int (wrapping, {@code -MIN == MIN}) or float.</li>
 *   <li>{@code scalar_lt/le(a, b)}: int or float, same kind, to bool; any NaN gives false.
 *       {@code scalar_eq/ne}: also on bools; NaN is unequal to everything.</li>
 *   <li>{@code scalar_and/or(a, b)}, {@code scalar_not(a)}: bool.</li>
 *   <li>{@code scalar_select(cond, a, b)}: {@code cond ? a : b}; a and b of one scalar type.</li>
 *   <li>{@code scalar_cast(a) {to}}: {@code to} is {@code "int"}, {@code "int32"}, {@code "float"} or
 *       {@code "bool"}. float to int is Java's {@code d2l} (toward zero, saturating, NaN to 0);
 *       {@code "int32"} gives an int holding a Java {@code int}: from float Java's {@code d2i}
 *       (saturating to the 32-bit range, NaN to 0), from int Java's {@code l2i} (keeps the low 32
 *       bits, sign-extended); int to float is Java's {@code l2d} (round to nearest); bool to int or
 *       float is 1 or 0; int or float to bool is {@code != 0} (NaN is true).</li>
 *   <li>{@code tensor_from_scalar(a)}: a 0-d tensor (i64, f64 or bool) holding {@code a}.</li>
 * </ul>
 */
final class ScalarOps {

    private ScalarOps() {}

    /** The targets of {@code scalar_cast}. */
    static final Set<String> CAST_TARGETS = Set.of("int", "int32", "float", "bool");

    static List<OpSchema> all() {
        return List.of(
                arith("scalar_add", "a + b (int wraps)", true),
                arith("scalar_sub", "a - b (int wraps)", false),
                arith("scalar_mul", "a * b (int wraps)", true),
                arith("scalar_div", "a / b (int truncates toward zero; division by zero is an error)", false),
                OpSchema.define("scalar_neg").summary("-a (int wraps)").scalar("a").traits(PURE).infer(ctx -> {
                    numeric(ctx, 0);
                    return List.of(ctx.type(0));
                }).build(),
                compare("scalar_lt", "a < b", false),
                compare("scalar_le", "a <= b", false),
                compare("scalar_eq", "a == b", true),
                compare("scalar_ne", "a != b", true),
                logic("scalar_and", "a && b"),
                logic("scalar_or", "a || b"),
                OpSchema.define("scalar_not").summary("!a").scalar("a").traits(PURE).infer(ctx -> {
                    bool(ctx, 0);
                    return List.of(ScalarType.BOOL);
                }).build(),
                OpSchema.define("scalar_select").summary("cond ? a : b").scalar("cond").scalar("a").scalar("b").traits(PURE)
                        .infer(ctx -> {
                            bool(ctx, 0);
                            if (ctx.type(1) != ctx.type(2)) throw ctx.error("a and b must have one type, got " + ctx.type(1) + " and " + ctx.type(2));
                            return List.of(ctx.type(1));
                        }).build(),
                OpSchema.define("scalar_cast").summary("converts a host scalar with Java's conversion rules")
                        .scalar("a").attr("to", AttrKind.STRING).traits(PURE).infer(ctx -> {
                            String to = ((Attribute.Str) ctx.attr("to")).value();
                            return List.of(switch (to) {
                                case "int", "int32" -> ScalarType.INT;
                                case "float" -> ScalarType.FLOAT;
                                case "bool" -> ScalarType.BOOL;
                                default -> throw ctx.error("'to' must be one of int, int32, float, bool; got '" + to + "'");
                            });
                        }).build(),
                OpSchema.define("tensor_from_scalar").summary("a 0-d tensor (i64, f64 or bool) holding a host scalar")
                        .scalar("a").traits(PURE).infer(ctx -> List.of(
                                new TensorType(((ScalarType) ctx.type(0)).elementType(), Shape.SCALAR))).build());
    }

    private static OpSchema arith(String name, String summary, boolean commutative) {
        OpSchema.Builder b = OpSchema.define(name).summary(summary).scalar("a").scalar("b").traits(PURE);
        if (commutative) b.traits(COMMUTATIVE);
        return b.infer(ctx -> {
            numeric(ctx, 0);
            same(ctx);
            return List.of(ctx.type(0));
        }).build();
    }

    private static OpSchema compare(String name, String summary, boolean boolsToo) {
        return OpSchema.define(name).summary(summary).scalar("a").scalar("b").traits(PURE).infer(ctx -> {
            if (!boolsToo) numeric(ctx, 0);
            same(ctx);
            return List.of(ScalarType.BOOL);
        }).build();
    }

    private static OpSchema logic(String name, String summary) {
        return OpSchema.define(name).summary(summary).scalar("a").scalar("b").traits(PURE, COMMUTATIVE).infer(ctx -> {
            bool(ctx, 0);
            bool(ctx, 1);
            return List.of(ScalarType.BOOL);
        }).build();
    }

    private static void numeric(InferenceContext ctx, int i) {
        if (ctx.type(i) != ScalarType.INT && ctx.type(i) != ScalarType.FLOAT) {
            throw ctx.error("operand " + i + " must be an int or float scalar, got " + ctx.type(i));
        }
    }

    private static void bool(InferenceContext ctx, int i) {
        if (ctx.type(i) != ScalarType.BOOL) throw ctx.error("operand " + i + " must be a bool scalar, got " + ctx.type(i));
    }

    private static void same(InferenceContext ctx) {
        if (ctx.type(0) != ctx.type(1)) {
            throw ctx.error("operands must have one scalar type, got " + ctx.type(0) + " and " + ctx.type(1)
                    + "; convert with scalar_cast");
        }
    }
}
