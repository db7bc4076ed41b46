package dev.kiln.ir;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.kiln.ir.AttrKind.BOOL;
import static dev.kiln.ir.AttrKind.FLOAT;
import static dev.kiln.ir.AttrKind.INT;
import static dev.kiln.ir.AttrKind.INTS;
import static dev.kiln.ir.AttrKind.STRING;
import static dev.kiln.ir.Trait.ELEMENTWISE;
import static dev.kiln.ir.Trait.PURE;
import static dev.kiln.ir.Trait.REDUCTION;

/**
 * Ops that fusion passes produce; nothing in the frontend emits them. Each computes exactly what the unfused ops
 * it replaces compute (the runtime kernels agree with the unfused composition within f32 rounding).
 *
 * <ul>
 *   <li>{@code linear_act(%x, %w, %b?) {activation}}: {@code act(linear(x, w, b))};</li>
 *   <li>{@code conv2d_act(%x, %w, %b?, %residual?) {stride, padding, dilation, groups, activation, residual}}:
 *       {@code act(conv2d(x, w, b))}, or with {@code residual = true} {@code act(conv2d(x, w, b) + residual)}, whose
 *       last operand is then the residual (ONNX Runtime's Conv with a sum input: a ResNet block's shortcut). The
 *       residual must have exactly the convolution result's type; it is not broadcast. The attribute says which
 *       operand is which, since the bias is optional too.</li>
 *   <li>{@code fused_elementwise(%in...) : T { ^(%a...): ...; yield(%r) }}: a group of ops run as one. Its single
 *       region takes one argument per operand (same types), is isolated (its ops use only its arguments and each
 *       other's results), and yields one tensor, whose type is the result type. The region's ops are
 *       {@link Trait#ELEMENTWISE} ops, except that the last one before the {@code yield} may be a
 *       {@link Trait#REDUCTION} whose result is the yielded value: a <em>trailing reduction</em>
 *       ({@code sum(mul(x, y))} is one op that never materialises {@code x * y}). A reduction anywhere else would
 *       make the group's iteration space change in the middle, so it is rejected; a group with a trailing reduction
 *       iterates over its elementwise part's shape and accumulates into the smaller result.</li>
 *   <li>{@code bias_gelu(%x, %bias) {approximate}}: {@code gelu(x + bias)} with {@code bias} 1-D over x's last dim
 *       (ONNX Runtime's BiasGelu; {@code approximate} is {@code none} for the erf form or {@code tanh});</li>
 *   <li>{@code skip_layer_norm(%x, %skip, %gamma, %beta, %bias?) {eps, with_sum}}: {@code layer_norm} over the last
 *       dim of {@code s = x + bias + skip} (bias added to x first when present), times {@code gamma} plus
 *       {@code beta} (ONNX Runtime's SkipLayerNormalization). {@code skip} has x's type; gamma, beta and bias are
 *       1-D over the last dim. With {@code with_sum = true} it has a second result, {@code s} itself: in a
 *       transformer's residual stream the sum feeds the next residual add as well as the norm.</li>
 *   <li>{@code attention(%q, %k, %v, %mask?) {scale, causal}}: scaled dot-product attention
 *       {@code softmax(q k^T * scale [masked]) v} over the last two dims, q {@code [..., L, D]}, k {@code [..., S, D]},
 *       v {@code [..., S, Dv]} with equal leading dims, result {@code [..., L, Dv]}. {@code causal} hides key {@code j > i}
 *       from query {@code i} ({@code where(tril(ones(L, S)), scores, -inf)}); a bool {@code mask} (true = may attend) is
 *       {@code where(mask, scores, -inf)}, a float mask of q's dtype is added to the scores; either broadcasts to
 *       {@code [..., L, S]}. A row with no key allowed is NaN, as the unfused softmax of all {@code -inf}.
 *       (ONNX Runtime's com.microsoft Attention family; {@code F.scaledDotProductAttention} emits it where no gradient
 *       is needed.)</li>
 * </ul>
 * {@code activation} is one of {@link #ACTIVATIONS}; {@code none} means no activation.
 */
public final class FusionOps {

    /** The activations {@code linear_act} and {@code conv2d_act} accept. */
    public static final Set<String> ACTIVATIONS = Set.of("none", "relu", "gelu", "gelu_tanh", "sigmoid", "tanh");

    /** The {@code approximate} values {@code bias_gelu} accepts, as {@code gelu}'s. */
    public static final Set<String> GELU_APPROXIMATIONS = Set.of("none", "tanh");

    private static final Attribute NONE = Attribute.of("none");

    private FusionOps() {}

    static List<OpSchema> all() {
        return List.of(linearAct(), conv2dAct(), fusedElementwise(), biasGelu(), skipLayerNorm(), attention());
    }

    private static OpSchema linearAct() {
        return OpSchema.define("linear_act").summary("act(x @ weight^T + bias): linear with a fused activation")
                .tensor("x").tensor("weight").optionalTensor("bias").attr("activation", STRING, NONE)
                .traits(PURE).infer(ctx -> {
                    checkActivation(ctx);
                    return delegate(ctx, "linear", ctx.operandTypes(), Map.of());
                }).build();
    }

    private static OpSchema conv2dAct() {
        return OpSchema.define("conv2d_act")
                .summary("act(conv2d(x, weight, bias) [+ residual]): conv2d with a fused residual add and activation")
                .tensor("x").tensor("weight").optionalTensor("bias").optionalTensor("residual")
                .attr("stride", INTS, Attribute.ints(1, 1)).attr("padding", INTS, Attribute.ints(0, 0))
                .attr("dilation", INTS, Attribute.ints(1, 1)).attr("groups", INT, Attribute.of(1L))
                .attr("activation", STRING, NONE).attr("residual", BOOL, Attribute.of(false)).traits(PURE).infer(ctx -> {
                    checkActivation(ctx);
                    boolean residual = ctx.boolAttr("residual");
                    int n = ctx.operandCount();
                    if (residual && n < 3) throw ctx.error("residual = true needs a residual operand after x and weight, got " + n + " operands");
                    if (!residual && n > 3) throw ctx.error("a fourth operand is only allowed as the residual (residual = true)");
                    Map<String, Attribute> geometry = new LinkedHashMap<>();
                    for (String a : List.of("stride", "padding", "dilation", "groups")) geometry.put(a, ctx.attr(a));
                    List<Type> convOperands = residual ? ctx.operandTypes().subList(0, n - 1) : ctx.operandTypes();
                    List<Type> result = delegate(ctx, "conv2d", convOperands, geometry);
                    if (residual && !ctx.tensor(n - 1).equals(result.get(0))) {
                        throw ctx.error("residual must have exactly the convolution result's type " + result.get(0)
                                + " (it is not broadcast), got " + ctx.tensor(n - 1));
                    }
                    return result;
                }).build();
    }

    private static OpSchema fusedElementwise() {
        return OpSchema.define("fused_elementwise")
                .summary("a group of elementwise ops, possibly ending in one reduction, run as one: the region maps its arguments (the operands) to one yielded value")
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
                    checkGroupBody(ctx, body, t);
                    return List.of(t.operand(0).type());
                }).build();
    }

    /** The region's ops are elementwise, except a trailing reduction whose result is yielded, and use only region values. */
    private static void checkGroupBody(InferenceContext ctx, Block body, Op yield) {
        List<Op> ops = body.ops();
        for (int i = 0; i < ops.size() - 1; i++) {
            Op op = ops.get(i);
            boolean simple = op.has(PURE) && op.regions().isEmpty() && op.results().size() == 1;
            boolean trailing = i == ops.size() - 2 && op.has(REDUCTION) && yield.operand(0) == op.result();
            if (!simple || !(op.has(ELEMENTWISE) || trailing)) {
                throw ctx.error("region op " + op.name() + " is not allowed: a fused group holds elementwise ops and at most"
                        + " one reduction, as its last op, whose result it yields");
            }
            for (Value v : op.operands()) {
                boolean inside = v.kind() == Value.Kind.BLOCK_ARGUMENT ? v.ownerBlock() == body
                        : v.definingOp() != null && v.definingOp().parent() == body;
                if (!inside) {
                    throw ctx.error("region op " + op.name() + " uses " + v + " from outside the region; pass it as an operand");
                }
            }
        }
    }

    private static OpSchema biasGelu() {
        return OpSchema.define("bias_gelu").summary("gelu(x + bias), bias [D] broadcast over x's last dim D")
                .tensor("x").tensor("bias").attr("approximate", STRING, NONE).traits(PURE, ELEMENTWISE).infer(ctx -> {
                    TensorType x = lastDimInput(ctx);
                    lastDimVector(ctx, 1, "bias", x);
                    String approximate = ((Attribute.Str) ctx.attr("approximate")).value();
                    if (!GELU_APPROXIMATIONS.contains(approximate)) {
                        throw ctx.error("approximate must be one of " + GELU_APPROXIMATIONS.stream().sorted().toList() + ", got '" + approximate + "'");
                    }
                    return List.of(x);
                }).build();
    }

    private static OpSchema skipLayerNorm() {
        return OpSchema.define("skip_layer_norm")
                .summary("layer_norm(x + bias + skip) over the last dim * gamma + beta; with_sum also returns x + bias + skip")
                .tensor("x").tensor("skip").tensor("gamma").tensor("beta").optionalTensor("bias")
                .attr("eps", FLOAT, Attribute.of(1e-5)).attr("with_sum", BOOL, Attribute.of(false)).traits(PURE).infer(ctx -> {
                    TensorType x = lastDimInput(ctx);
                    if (!ctx.tensor(1).equals(x)) throw ctx.error("skip must have the type of x " + x + ", got " + ctx.tensor(1));
                    List<String> names = List.of("x", "skip", "gamma", "beta", "bias");
                    for (int i = 2; i < ctx.operandCount(); i++) lastDimVector(ctx, i, names.get(i), x);
                    return ctx.boolAttr("with_sum") ? List.of(x, x) : List.of(x);
                }).build();
    }

    private static OpSchema attention() {
        return OpSchema.define("attention")
                .summary("softmax(q @ k^T * scale, masked) @ v over the last two dims: scaled dot-product attention as one op")
                .tensor("q").tensor("k").tensor("v").optionalTensor("mask")
                .attr("scale", FLOAT, Attribute.of(1.0)).attr("causal", BOOL, Attribute.of(false)).traits(PURE).infer(ctx -> {
                    TensorType q = ctx.tensor(0), k = ctx.tensor(1), v = ctx.tensor(2);
                    NnOps.requireFloat(ctx, q);
                    ShapeRules.sameDType(ctx.opName(), q, k);
                    ShapeRules.sameDType(ctx.opName(), q, v);
                    int rank = q.rank();
                    if (rank < 2 || k.rank() != rank || v.rank() != rank) {
                        throw ctx.error("q, k and v must have the same rank, at least 2, got " + q + ", " + k + ", " + v);
                    }
                    for (int d = 0; d < rank - 2; d++) {
                        NnOps.requireDim(ctx, "k dim " + d, k.shape().dim(d), q.shape().dim(d));
                        NnOps.requireDim(ctx, "v dim " + d, v.shape().dim(d), q.shape().dim(d));
                    }
                    NnOps.requireDim(ctx, "k's last dim (the head size)", k.shape().dim(rank - 1), q.shape().dim(rank - 1));
                    NnOps.requireDim(ctx, "v's key count (dim -2)", v.shape().dim(rank - 2), k.shape().dim(rank - 2));
                    if (ctx.operandCount() > 3) {
                        TensorType mask = ctx.tensor(3);
                        if (mask.dtype() != DType.BOOL && mask.dtype() != q.dtype()) {
                            throw ctx.error("mask must be bool (true = may attend) or " + q.dtype() + " (added to the scores), got " + mask);
                        }
                        Shape scores = q.shape().withDim(rank - 1, k.shape().dim(rank - 2));
                        if (mask.rank() > rank || !ShapeRules.broadcast(ctx.opName(), scores, mask.shape()).equals(scores)) {
                            throw ctx.error("mask " + mask + " must broadcast to the scores' shape " + scores);
                        }
                    }
                    return List.of(new TensorType(q.dtype(), q.shape().withDim(rank - 1, v.shape().dim(rank - 1))));
                }).build();
    }

    /** Operand 0: a floating-point tensor of rank at least 1. */
    private static TensorType lastDimInput(InferenceContext ctx) {
        TensorType x = ctx.tensor(0);
        NnOps.requireFloat(ctx, x);
        if (x.rank() < 1) throw ctx.error("x must have at least one dim, got " + x);
        return x;
    }

    /** Operand {@code i} must be 1-D with x's dtype and x's last dim. */
    private static void lastDimVector(InferenceContext ctx, int i, String name, TensorType x) {
        TensorType t = ctx.tensor(i);
        ShapeRules.sameDType(ctx.opName(), x, t);
        Dim last = x.shape().dim(x.rank() - 1);
        if (t.rank() != 1) throw ctx.error(name + " must be 1-D [" + last + "], got " + t);
        NnOps.requireDim(ctx, name + " size", t.shape().dim(0), last);
    }

    private static void checkActivation(InferenceContext ctx) {
        String act = ((Attribute.Str) ctx.attr("activation")).value();
        if (!ACTIVATIONS.contains(act)) {
            throw ctx.error("activation must be one of " + ACTIVATIONS.stream().sorted().toList() + ", got '" + act + "'");
        }
    }

    /** The base op's inference on {@code operands} (the fused op's, or a prefix of them), with errors renamed to the fused op. */
    private static List<Type> delegate(InferenceContext ctx, String base, List<Type> operands, Map<String, Attribute> attrs) {
        OpSchema schema = OpRegistry.get(base);
        try {
            return schema.inference().infer(new InferenceContext(schema, operands, attrs, List.of()));
        } catch (IrException e) {
            String m = e.getMessage();
            throw ctx.error(m.startsWith(base + ": ") ? m.substring(base.length() + 2) : m);
        }
    }
}
