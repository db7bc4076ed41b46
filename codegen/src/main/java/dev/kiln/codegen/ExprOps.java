package dev.kiln.codegen;

import dev.kiln.ir.KilnException;
import dev.kiln.ir.Attribute;
import dev.kiln.ir.Op;

import java.util.Map;

/**
 * The f32 elementwise ops generated loops compute, one row each: the IR op it comes from, its arity, the float
 * parameters it reads from the op's attributes, the helper method name in {@link ScalarF32} (and in
 * {@link VecOps} when {@code vector}), so adding an op to generated loops is one line here and one method in each.
 */
record ExprOps(String method, int arity, boolean vector) {

    private static final Map<String, ExprOps> TABLE = Map.ofEntries(
            Map.entry("add", new ExprOps("add", 2, true)),
            Map.entry("sub", new ExprOps("sub", 2, true)),
            Map.entry("mul", new ExprOps("mul", 2, true)),
            Map.entry("div", new ExprOps("div", 2, true)),
            Map.entry("maximum", new ExprOps("maximum", 2, true)),
            Map.entry("minimum", new ExprOps("minimum", 2, true)),
            Map.entry("neg", new ExprOps("neg", 1, true)),
            Map.entry("relu", new ExprOps("relu", 1, true)),
            Map.entry("abs", new ExprOps("abs", 1, true)),
            Map.entry("sigmoid", new ExprOps("sigmoid", 1, true)),
            Map.entry("tanh", new ExprOps("tanh", 1, true)),
            Map.entry("exp", new ExprOps("exp", 1, true)),
            Map.entry("log", new ExprOps("log", 1, true)),
            Map.entry("sqrt", new ExprOps("sqrt", 1, true)),
            Map.entry("rsqrt", new ExprOps("rsqrt", 1, true)),
            Map.entry("reciprocal", new ExprOps("reciprocal", 1, true)),
            Map.entry("silu", new ExprOps("silu", 1, true)),
            Map.entry("gelu", new ExprOps("gelu", 1, false)),
            Map.entry("gelu_tanh", new ExprOps("geluTanh", 1, true)),
            Map.entry("leaky_relu", new ExprOps("leakyRelu", 1, true)),
            Map.entry("elu", new ExprOps("elu", 1, true)),
            Map.entry("clamp", new ExprOps("clamp", 1, true)));

    /** The row for a generated-loop op name (an IR op name, or {@code gelu_tanh}); an error if there is none. */
    static ExprOps get(String op) {
        ExprOps o = TABLE.get(op);
        if (o == null) throw new KilnException("codegen: no generated-loop form for op '" + op + "'");
        return o;
    }

    /**
     * The loop-op name of IR op {@code op} (gelu splits by its {@code approximate} attribute), or null when
     * generated loops do not compute it.
     */
    static String loopName(Op op) {
        String name = op.name();
        if (name.equals("gelu")) {
            String mode = ((Attribute.Str) op.attr("approximate")).value();
            return mode.equals("tanh") ? "gelu_tanh" : mode.equals("none") ? "gelu" : null;
        }
        return TABLE.containsKey(name) ? name : null;
    }

    /** The float parameters of {@code op} in the order its helper methods take them. */
    static float[] params(Op op) {
        return switch (op.name()) {
            case "leaky_relu" -> new float[] {real(op, "negative_slope")};
            case "elu" -> new float[] {real(op, "alpha")};
            case "clamp" -> new float[] {(float) ((Attribute.Float) op.attr("min")).value(), (float) ((Attribute.Float) op.attr("max")).value()};
            default -> new float[0];
        };
    }

    private static float real(Op op, String name) { return (float) ((Attribute.Float) op.attr(name)).value(); }
}
