package dev.kiln.passes;

import dev.kiln.ir.Builder;
import dev.kiln.ir.DType;
import dev.kiln.ir.Dim;
import dev.kiln.ir.Graph;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.Op;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;
import dev.kiln.runtime.Interpreter;
import dev.kiln.runtime.NDArray;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static dev.kiln.ir.Builder.attrs;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * O2 equals O0 on random transformer-like graphs, built from the patterns the fusion passes look for: add + gelu,
 * linear + gelu, residual add (with or without an inner bias add, with or without another use of the sum) +
 * layer_norm, elementwise chains ending in a reduction (sum, mean, amax, amin over the last dim, broadcast back), and
 * in a third of the graphs ResNet-style residual blocks on an image input (conv + add + activation), each with random
 * shapes and random extra uses that must block a fusion. Outputs agree within f32 rtol 1e-4 /
 * atol 1e-5, and the memory plan checks.
 */
class FusionPatternsPropertyTest {

    private static final List<String> UNARY = List.of("tanh", "sigmoid", "neg", "abs", "relu");
    private static final List<String> REDUCTIONS = List.of("sum", "mean", "amax", "amin");

    @Property(tries = 150)
    void o2EqualsO0(@ForAll long seed) {
        Graph original = build(seed), optimised = build(seed);
        Random random = new Random(seed ^ 0x5eed);
        long n = 1 + random.nextInt(3);
        List<Object> inputs = GraphTesting.randomInputs(original, n, random);
        Map<String, NDArray> weights = GraphTesting.randomWeights(original, n, random);
        Optimize.Result r = Optimize.o2(optimised, weights, Map.of("N", n), true);
        GraphTesting.assertClose(Interpreter.run(original, inputs, weights), Interpreter.run(r.graph(), inputs, r.weights()));
        if (r.plan() != null) MemoryPlanChecker.check(r.graph(), Map.of("N", n), r.plan());
    }

    /** The generator is useful: over a few seeds, O2 forms every kind of fused op the property is about. */
    @Example
    void theGeneratedGraphsFormEveryFusion() {
        Set<String> formed = new HashSet<>();
        for (long seed = 0; seed < 60; seed++) {
            Graph g = build(seed);
            Optimize.Result r = Optimize.o2(g, GraphTesting.randomWeights(g, 2, new Random(seed)), Map.of("N", 2L), true);
            for (Op op : r.graph().body().ops()) {
                switch (op.name()) {
                    case "bias_gelu", "linear_act" -> formed.add(op.name());
                    case "conv2d_act" -> {
                        if (op.boolAttr("residual")) {
                            formed.add("conv2d_act residual" + (op.attr("activation").equals(dev.kiln.ir.Attribute.of("none")) ? " without activation" : ""));
                        }
                    }
                    case "skip_layer_norm" -> formed.add(op.name() + (op.boolAttr("with_sum") ? " with sum" : "")
                            + (op.operandCount() == 5 ? " with bias" : ""));
                    case "fused_elementwise" -> {
                        List<Op> body = op.region(0).ops();
                        formed.add(body.get(body.size() - 2).has(dev.kiln.ir.Trait.REDUCTION) ? "trailing reduction" : "elementwise group");
                    }
                    default -> { }
                }
            }
        }
        assertEquals(Set.of("bias_gelu", "linear_act", "conv2d_act residual", "conv2d_act residual without activation", "skip_layer_norm", "skip_layer_norm with sum", "skip_layer_norm with bias",
                "skip_layer_norm with sum with bias", "trailing reduction", "elementwise group"), formed);
    }

    /** A random graph of 1-5 motifs over x and y of type f32[N, d] or f32[N, s, d]; the same seed gives the same graph. */
    static Graph build(long seed) {
        Random r = new Random(seed);
        int d = 1 + r.nextInt(8);
        TensorType t = r.nextBoolean() ? TensorType.of(DType.F32, Dim.sym("N"), Dim.of(d))
                : TensorType.of(DType.F32, Dim.sym("N"), Dim.of(1 + r.nextInt(3)), Dim.of(d));
        TensorType vector = TensorType.of(DType.F32, d);
        Graph g = new Graph("patterns");
        Value x = g.addInput("x", t), y = g.addInput("y", t);
        Builder b = Builder.atEnd(g.body());
        List<Value> extra = new ArrayList<>();
        Value cur = x;
        int motifs = 1 + r.nextInt(5);
        for (int i = 0; i < motifs; i++) {
            switch (r.nextInt(5)) {
                case 0 -> { // add + gelu
                    Value bias = g.addWeight("bias" + i, vector);
                    Value s = r.nextBoolean() ? b.op("add", cur, bias) : b.op("add", bias, cur);
                    if (r.nextInt(4) == 0) extra.add(s);
                    cur = b.op("gelu", attrs("approximate", r.nextBoolean() ? "tanh" : "none"), s);
                }
                case 1 -> { // linear (+ bias) + gelu
                    Value w = g.addWeight("w" + i, TensorType.of(DType.F32, d, d));
                    Value lin = r.nextBoolean() ? b.op("linear", cur, w, g.addWeight("b" + i, vector)) : b.op("linear", cur, w);
                    cur = b.op("gelu", attrs("approximate", r.nextBoolean() ? "tanh" : "none"), lin);
                }
                case 2 -> { // residual add (+ inner bias add) + layer_norm, the sum maybe reused
                    Value other = r.nextBoolean() ? y : b.op(UNARY.get(r.nextInt(UNARY.size())), cur);
                    Value lhs = r.nextBoolean() ? b.op("add", cur, g.addWeight("skip_bias" + i, vector)) : cur;
                    Value s = r.nextBoolean() ? b.op("add", lhs, other) : b.op("add", other, lhs);
                    Value norm = b.op("layer_norm", attrs("normalized_dims", 1, "eps", r.nextBoolean() ? 1e-5 : 1e-3), s,
                            g.addWeight("gamma" + i, vector), g.addWeight("beta" + i, vector));
                    cur = r.nextBoolean() ? b.op("add", s, b.op("relu", norm)) : norm;
                }
                case 3 -> { // elementwise chain + trailing reduction over the last dim, broadcast back
                    Value e = b.op(UNARY.get(r.nextInt(UNARY.size())), cur);
                    if (r.nextBoolean()) e = b.op("mul", e, y);
                    if (r.nextInt(4) == 0) extra.add(e);
                    String reduction = REDUCTIONS.get(r.nextInt(REDUCTIONS.size()));
                    Value red = b.op(reduction, attrs("axes", new long[] {-1}, "keepdim", true), e);
                    cur = b.op("sub", cur, red);
                }
                default -> cur = b.op(UNARY.get(r.nextInt(UNARY.size())), b.op("mul", cur, r.nextBoolean() ? y : cur));
            }
        }
        List<Value> outs = new ArrayList<>(List.of(cur));
        Random images = new Random(seed * 31 + 7); // its own stream, so the graphs above stay as they were
        if (images.nextInt(3) == 0) outs.add(residualBlocks(g, b, images, extra));
        outs.addAll(extra);
        b.ret(outs.toArray(Value[]::new));
        dev.kiln.ir.Verifier.verify(g);
        return g;
    }

    /**
     * 1-3 ResNet-style blocks over an image input: conv (+ bias) + relu, a second conv, a shortcut (the block input,
     * or a 1x1 conv of it computed after the main path), the add in either order, then relu, sigmoid or nothing; a
     * random extra use of the second conv or of the sum must block (part of) the residual fusion.
     */
    private static Value residualBlocks(Graph g, Builder b, Random r, List<Value> extra) {
        int c = 1 + r.nextInt(3), h = 3 + r.nextInt(3), w = 3 + r.nextInt(3);
        Value cur = g.addInput("img", TensorType.of(DType.F32, Dim.sym("N"), Dim.of(c), Dim.of(h), Dim.of(w)));
        TensorType kernel = TensorType.of(DType.F32, c, c, 3, 3);
        int blocks = 1 + r.nextInt(3);
        for (int i = 0; i < blocks; i++) {
            Value k1 = g.addWeight("k1_" + i, kernel), k2 = g.addWeight("k2_" + i, kernel);
            Value first = r.nextBoolean() ? b.op("conv2d", attrs("padding", new long[] {1, 1}), cur, k1, g.addWeight("kb_" + i, TensorType.of(DType.F32, c)))
                    : b.op("conv2d", attrs("padding", new long[] {1, 1}), cur, k1);
            Value main = b.op("conv2d", attrs("padding", new long[] {1, 1}), b.op("relu", first), k2);
            Value shortcut = r.nextBoolean() ? cur : b.op("conv2d", cur, g.addWeight("ds_" + i, TensorType.of(DType.F32, c, c, 1, 1)));
            Value sum = r.nextBoolean() ? b.op("add", main, shortcut) : b.op("add", shortcut, main);
            switch (r.nextInt(6)) {
                case 0 -> extra.add(main);
                case 1 -> extra.add(sum);
                default -> { }
            }
            cur = switch (r.nextInt(3)) {
                case 0 -> b.op("relu", sum);
                case 1 -> b.op("sigmoid", sum);
                default -> sum;
            };
        }
        return cur;
    }

    @Example
    void buildIsDeterministic() {
        assertEquals(IrPrinter.print(build(42)), IrPrinter.print(build(42)));
    }
}
