package dev.kiln.ir;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.kiln.ir.AttrKind.INT;
import static dev.kiln.ir.AttrKind.INTS;
import static dev.kiln.ir.AttrKind.STRING;
import static dev.kiln.ir.Trait.PURE;

/**
 * Ops that fusion passes produce; nothing in the frontend emits them.
 *
 * <ul>
 *   <li>{@code linear_act(%x, %w, %b?) {activation}}: {@code act(linear(x, w, b))};</li>
 *   <li>{@code conv2d_act(%x, %w, %b?) {stride, padding, dilation, groups, activation}}: {@code act(conv2d(...))};</li>
 *   <li>{@code fused_elementwise(%in...) : T { ^(%a...): ...elementwise ops...; yield(%r) }}: a group of
 *       elementwise ops run as one; its single region takes one argument per operand (same types) and
 *       yields one value, whose type is the result type. The region sees only its arguments.</li>
 * </ul>
 * {@code activation} is one of {@link #ACTIVATIONS}; {@code none} means no activation.
 */
public final class FusionOps {

    /** The activations {@code linear_act} and {@code conv2d_act} accept. */
    public static final Set<String> ACTIVATIONS = Set.of("none", "relu", "gelu", "gelu_tanh", "sigmoid", "tanh");

    private static final Attribute NONE = Attribute.of("none");

    private FusionOps() {}

    static List<OpSchema> all() {
        return List.of(linearAct(), conv2dAct(), fusedElementwise());
    }

    private static OpSchema linearAct() {
        return OpSchema.define("linear_act").summary("act(x @ weight^T + bias): linear with a fused activation")
                .tensor("x").tensor("weight").optionalTensor("bias").attr("activation", STRING, NONE)
                .traits(PURE).infer(ctx -> {
                    checkActivation(ctx);
                    return delegate(ctx, "linear", Map.of());
                }).build();
    }

    private static OpSchema conv2dAct() {
        return OpSchema.define("conv2d_act").summary("act(conv2d(x, weight, bias)): conv2d with a fused activation")
                .tensor("x").tensor("weight").optionalTensor("bias")
                .attr("stride", INTS, Attribute.ints(1, 1)).attr("padding", INTS, Attribute.ints(0, 0))
                .attr("dilation", INTS, Attribute.ints(1, 1)).attr("groups", INT, Attribute.of(1L))
                .attr("activation", STRING, NONE).traits(PURE).infer(ctx -> {
                    checkActivation(ctx);
                    Map<String, Attribute> geometry = new LinkedHashMap<>();
                    for (String a : List.of("stride", "padding", "dilation", "groups")) geometry.put(a, ctx.attr(a));
                    return delegate(ctx, "conv2d", geometry);
                }).build();
    }

    private static OpSchema fusedElementwise() {
        return OpSchema.define("fused_elementwise")
                .summary("a group of elementwise ops run as one: the region maps its arguments (the operands) to one yielded value")
                // storage-only dtypes are accepted here because the region's own ops (a cast from f8, say) check them
                .variadic("inputs").regions(1).traits(PURE, Trait.ACCEPTS_STORAGE_DTYPES).infer(ctx -> {
                    if (ctx.regions().isEmpty()) throw ctx.error("the result type comes from the region, which is missing");
                    Block body = ctx.regions().get(0);
                    List<Type> args = body.arguments().stream().map(Value::type).toList();
                    if (!args.equals(ctx.operandTypes())) {
                        throw ctx.error("region arguments " + args + " must have the operand types " + ctx.operandTypes());
                    }
                    Op t = body.terminator();
                    if (t == null || !t.name().equals("yield")) throw ctx.error("region does not end in yield");
                    if (t.operandCount() != 1 || !(t.operand(0).type() instanceof TensorType)) {
                        throw ctx.error("region must yield exactly one tensor, got " + t.operands().stream().map(Value::type).toList());
                    }
                    return List.of(t.operand(0).type());
                }).build();
    }

    private static void checkActivation(InferenceContext ctx) {
        String act = ((Attribute.Str) ctx.attr("activation")).value();
        if (!ACTIVATIONS.contains(act)) {
            throw ctx.error("activation must be one of " + ACTIVATIONS.stream().sorted().toList() + ", got '" + act + "'");
        }
    }

    /** The base op's inference on the same operands, with errors renamed to the fused op. */
    private static List<Type> delegate(InferenceContext ctx, String base, Map<String, Attribute> attrs) {
        OpSchema schema = OpRegistry.get(base);
        try {
            return schema.inference().infer(new InferenceContext(schema, ctx.operandTypes(), attrs, List.of()));
        } catch (IrException e) {
            String m = e.getMessage();
            throw ctx.error(m.startsWith(base + ": ") ? m.substring(base.length() + 2) : m);
        }
    }
}
