package dev.kiln.tests;

import dev.kiln.ir.Attribute;
import dev.kiln.ir.Builder;
import dev.kiln.ir.DType;
import dev.kiln.ir.Dim;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpRegistry;
import dev.kiln.ir.OpSchema;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;
import dev.kiln.ir.Verifier;
import dev.kiln.onnx.ExportOptions;
import dev.kiln.onnx.OnnxExportException;
import dev.kiln.onnx.OnnxExporter;
import dev.kiln.runtime.NDArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BiFunction;
import java.util.stream.Stream;

import static dev.kiln.ir.Builder.attrs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every exported op, one small graph each, at opsets 13, 17, 18, 20 and 21: the export passes the
 * official checker and ONNX Runtime's outputs equal the Kiln interpreter's (rtol 1e-4, atol 1e-5,
 * see {@link OnnxParity}). Most inputs have a symbolic batch {@code N}, and each model runs at N = 2
 * N = 3 and N = 5, so nothing derived from a size may have been frozen into a constant.
 */
class OpExportParityTest {

    static final int[] OPSETS = {13, 17, 18, 20, 21};

    private static final Dim N = Dim.sym("N");

    /** One graph: its input types and a body that builds the outputs from the inputs. */
    record Case(String name, List<TensorType> inputs, BiFunction<Builder, List<Value>, List<Value>> body, int minOpset) {
        Graph graph() {
            Graph g = new Graph(name.replaceAll("[^A-Za-z0-9_]", "_"));
            List<Value> in = new ArrayList<>();
            for (int i = 0; i < inputs.size(); i++) in.add(g.addInput("in" + i, inputs.get(i)));
            Builder b = Builder.atEnd(g.body());
            b.ret(body.apply(b, in).toArray(Value[]::new));
            Verifier.verify(g);
            return g;
        }

        @Override
        public String toString() { return name; }
    }

    private static TensorType f32(Object... dims) { return type(DType.F32, dims); }

    private static TensorType type(DType dtype, Object... dims) {
        return TensorType.of(dtype, Stream.of(dims).map(d -> d instanceof Dim dim ? dim : Dim.of(((Number) d).longValue())).toArray(Dim[]::new));
    }

    private static Case c(String name, List<TensorType> in, BiFunction<Builder, List<Value>, List<Value>> body) {
        return new Case(name, in, body, 13);
    }

    private static Case from(int minOpset, String name, List<TensorType> in, BiFunction<Builder, List<Value>, List<Value>> body) {
        return new Case(name, in, body, minOpset);
    }

    /** A unary op on f32[N, 3, 4], its input first mapped by {@code pre} (for example abs, for a domain). */
    private static Case unary(String op, Map<String, Attribute> a) {
        return c(op + a, List.of(f32(N, 3, 4)), (b, x) -> List.of(b.op(op, a, x.get(0))));
    }

    private static Case positive(String op, Map<String, Attribute> a) {
        return c(op + a + " of |x|", List.of(f32(N, 3, 4)), (b, x) -> List.of(b.op(op, a, b.op("abs", x.get(0)))));
    }

    private static Value constant(Builder b, DType dtype, long[] shape, double... values) {
        return b.constant(Attribute.Tensor.fromDoubles(dtype, shape, values));
    }

    private static long[] shape(long... s) { return s; }

    static List<Case> cases() {
        List<Case> cases = new ArrayList<>();
        for (String op : List.of("neg", "relu", "sigmoid", "tanh", "abs", "sign", "exp", "sin", "cos", "erf", "reciprocal",
                "floor", "ceil", "silu", "clone")) {
            cases.add(unary(op, Map.of()));
        }
        for (String op : List.of("log", "sqrt", "rsqrt", "log1p")) cases.add(positive(op, Map.of()));
        cases.add(c("log1p near 0", List.of(f32(N, 3, 4)), (b, x) -> List.of(b.op("log1p",
                b.op("mul", x.get(0), constant(b, DType.F32, shape(), 1e-6))))));
        cases.add(c("round ties to even", List.of(f32(N, 3, 4)), (b, x) -> List.of(b.op("round", b.op("add",
                b.op("mul", x.get(0), constant(b, DType.F32, shape(), 0)), constant(b, DType.F32, shape(4), 0.5, 1.5, 2.5, -0.5))),
                b.op("round", b.op("mul", x.get(0), constant(b, DType.F32, shape(), 4))))));
        cases.add(unary("leaky_relu", attrs("negative_slope", 0.2)));
        cases.add(unary("elu", attrs("alpha", 0.7)));
        cases.add(unary("gelu", Map.of()));
        cases.add(unary("gelu", attrs("approximate", "tanh")));
        cases.add(unary("softplus", Map.of()));
        cases.add(unary("softplus", attrs("beta", 2.0, "threshold", 1.0)));
        cases.add(unary("clamp", attrs("min", -0.5, "max", 0.5)));
        cases.add(unary("clamp", attrs("min", 0.25)));
        cases.add(unary("clamp", attrs("max", -0.25)));
        cases.add(unary("clamp", attrs("min", 0.5, "max", -0.5)));
        for (double k : new double[] {2.5, 0.5, -0.5, -1, 2, 3, -2}) cases.add(positive("pow_scalar", attrs("exponent", k)));
        for (String op : List.of("add", "sub", "mul", "div", "maximum", "minimum", "remainder")) {
            cases.add(c(op, List.of(f32(N, 3, 4), f32(4)), (b, x) -> List.of(b.op(op, x.get(0), x.get(1)))));
        }
        cases.add(c("pow", List.of(f32(N, 3, 4), f32(3, 1)), (b, x) -> List.of(b.op("pow", b.op("abs", x.get(0)), x.get(1)))));
        for (String op : List.of("add", "sub", "mul", "maximum", "minimum", "remainder")) {
            cases.add(c(op + " on i64", List.of(type(DType.I64, N, 4), type(DType.I64, 4)), (b, x) -> List.of(
                    b.op(op, x.get(0), b.op("add", x.get(1), constant(b, DType.I64, shape(4), 1, -5, 2, -9))))));
        }
        cases.add(c("integer rounding, sign and clamp", List.of(type(DType.I32, N, 4)), (b, x) -> List.of(b.op("floor", x.get(0)),
                b.op("round", x.get(0)), b.op("sign", b.op("sub", x.get(0), constant(b, DType.I32, shape(), 2))),
                b.op("clamp", attrs("min", 1.0, "max", 3.0), x.get(0)))));
        for (String op : List.of("gt", "lt", "eq", "ne", "ge", "le")) {
            cases.add(c(op, List.of(f32(N, 4), f32(4)), (b, x) -> List.of(b.op(op, b.op("round", x.get(0)), b.op("round", x.get(1))))));
        }
        cases.add(c("logic and where", List.of(f32(N, 4), f32(4)), (b, x) -> {
            Value p = b.op("gt", x.get(0), x.get(1)), q = b.op("lt", x.get(0), constant(b, DType.F32, shape(), 0.5));
            return List.of(b.op("logical_and", p, q), b.op("logical_or", p, q), b.op("logical_not", p),
                    b.op("where", p, x.get(0), x.get(1)));
        }));
        cases.add(c("cast", List.of(f32(N, 4)), (b, x) -> List.of(b.op("cast", attrs("dtype", DType.I32),
                b.op("mul", x.get(0), constant(b, DType.F32, shape(), 10))))));

        for (String op : List.of("sum", "mean", "prod", "amax", "amin", "logsumexp")) {
            cases.add(c(op, List.of(f32(N, 3, 4)), (b, x) -> List.of(b.op(op, attrs("axes", new long[] {1}), x.get(0)),
                    b.op(op, attrs("axes", new long[] {-1, 0}, "keepdim", true), x.get(0)), b.op(op, x.get(0)))));
        }
        for (String op : List.of("sum", "prod", "amax", "amin")) {
            cases.add(c(op + " on i32", List.of(type(DType.I32, N, 3)), (b, x) -> List.of(b.op(op, attrs("axes", new long[] {1}), x.get(0)))));
        }
        for (String op : List.of("argmax", "argmin")) {
            cases.add(c(op, List.of(f32(N, 3, 4)), (b, x) -> List.of(b.op(op, attrs("axis", -1L), x.get(0)),
                    b.op(op, attrs("axis", 1L, "keepdim", true), x.get(0)),
                    b.op(op, attrs("axis", 0L), b.op("sum", x.get(0))))));
        }

        cases.add(c("reshape, expand, permute, flatten", List.of(f32(N, 3, 4), f32(N, 1, 4)), (b, x) -> List.of(
                b.op("reshape", attrs("shape", new Attribute.Dims(new long[] {0, -1}, new String[] {"N", null})), x.get(0)),
                b.op("expand", attrs("shape", new Attribute.Dims(new long[] {0, 3, -1}, new String[] {"N", null, null})), x.get(1)),
                b.op("permute", attrs("perm", new long[] {2, 0, 1}), x.get(0)),
                b.op("flatten", attrs("start_dim", 1L), x.get(0)), b.op("flatten", x.get(0)))));
        cases.add(c("slice", List.of(f32(N, 5, 4)), (b, x) -> List.of(
                b.op("slice", attrs("axis", 1L, "start", 1L, "end", 5L, "step", 2L), x.get(0)),
                b.op("slice", attrs("axis", -1L, "start", -3L, "end", Long.MAX_VALUE), x.get(0)),
                b.op("slice", attrs("axis", 0L, "start", 1L, "end", Long.MAX_VALUE), x.get(0)))));
        cases.add(c("flip", List.of(f32(N, 3, 4)), (b, x) -> List.of(b.op("flip", attrs("axes", new long[] {0, -1}), x.get(0)))));
        cases.add(c("cat", List.of(f32(N, 3, 4), f32(N, 2, 4)), (b, x) -> List.of(b.op("cat", attrs("axis", 1L), x.get(0), x.get(1)),
                b.op("cat", attrs("axis", 0L), x.get(0), x.get(0)))));
        cases.add(c("pad", List.of(f32(N, 3, 4)), (b, x) -> List.of(b.op("pad", attrs("pads", new long[] {1, 2}, "value", 0.5), x.get(0)),
                b.op("pad", attrs("pads", new long[] {-1, 1, 2, 0}), x.get(0)))));
        cases.add(c("pad i64", List.of(type(DType.I64, N, 3)), (b, x) -> List.of(b.op("pad", attrs("pads", new long[] {1, 1}, "value", 7.0), x.get(0)))));
        cases.add(c("repeat", List.of(f32(N, 3)), (b, x) -> List.of(b.op("repeat", attrs("repeats", new long[] {2, 3}), x.get(0)),
                b.op("repeat", attrs("repeats", new long[] {2, 1, 2}), x.get(0)))));
        for (String op : List.of("tril", "triu")) {
            for (long k : new long[] {0, 1, -1}) {
                cases.add(c(op + " " + k, List.of(f32(N, 3, 4)), (b, x) -> List.of(b.op(op, attrs("diagonal", k), x.get(0)))));
            }
        }

        cases.add(c("gather", List.of(f32(N, 3, 4)), (b, x) -> List.of(b.op("gather", attrs("axis", 2L), x.get(0),
                constant(b, DType.I64, shape(2, 3, 2), 0, 3, 1, 1, 2, 0, 3, 3, 0, 1, 2, 2)))));
        cases.add(c("index_select", List.of(f32(N, 3, 4)), (b, x) -> List.of(
                b.op("index_select", attrs("axis", 2L), x.get(0), constant(b, DType.I64, shape(3), 3, 0, 3)),
                b.op("index_select", attrs("axis", 1L), x.get(0), constant(b, DType.I32, shape(2), 2, 1)),
                b.op("index_select", attrs("axis", -1L), x.get(0), constant(b, DType.I64, shape(), 1)))));
        cases.add(c("embedding", List.of(f32(5, 4)), (b, x) -> List.of(b.op("embedding", x.get(0),
                constant(b, DType.I64, shape(2, 3), 4, 0, 1, 1, 3, 2)))));
        cases.add(c("scatter", List.of(f32(N, 3, 4), f32(N, 3, 4)), (b, x) -> List.of(b.op("scatter", attrs("axis", 1L), x.get(0),
                constant(b, DType.I64, shape(2, 2, 4), 0, 1, 2, 0, 2, 0, 1, 1, 1, 2, 0, 2, 0, 1, 2, 0), x.get(1)))));
        cases.add(from(16, "scatter_add", List.of(f32(N, 3, 4), f32(N, 3, 4)), (b, x) -> List.of(b.op("scatter_add", attrs("axis", 1L),
                x.get(0), constant(b, DType.I64, shape(2, 2, 4), 0, 0, 2, 0, 0, 0, 1, 0, 1, 2, 1, 2, 0, 1, 2, 0), x.get(1)))));
        cases.add(from(16, "index_add", List.of(f32(N, 3, 4), f32(N, 3, 4)), (b, x) -> List.of(b.op("index_add", attrs("axis", 1L),
                x.get(0), constant(b, DType.I64, shape(3), 2, 0, 2), x.get(1)))));
        cases.add(c("slice_scatter", List.of(f32(N, 6, 4), f32(N, 3, 4)), (b, x) -> List.of(b.op("slice_scatter",
                attrs("axis", 1L, "start", 1L, "end", 6L, "step", 2L), x.get(0), x.get(1)))));

        cases.add(c("matmul and linear", List.of(f32(N, 3, 4), f32(4, 5), f32(6, 4), f32(6)), (b, x) -> List.of(
                b.op("matmul", x.get(0), x.get(1)), b.op("linear", x.get(0), x.get(2), x.get(3)),
                b.op("linear", b.op("flatten", attrs("end_dim", 1L), x.get(0)), x.get(2)))));
        cases.add(c("attention with a float mask", List.of(f32(N, 2, 3, 4), f32(N, 2, 5, 4), f32(N, 2, 5, 3), f32(3, 5)),
                (b, x) -> List.of(b.op("attention", attrs("scale", 0.5), x.get(0), x.get(1), x.get(2), x.get(3)))));
        cases.add(c("causal attention with a bool mask", List.of(f32(N, 4, 4), f32(N, 4, 4), f32(N, 4, 2), f32(N, 1, 4)),
                (b, x) -> List.of(b.op("attention", attrs("scale", 0.7, "causal", true), x.get(0), x.get(1), x.get(2),
                        b.op("gt", x.get(3), constant(b, DType.F32, shape(), -0.5))))));
        cases.add(c("softmax", List.of(f32(N, 3, 4)), (b, x) -> List.of(b.op("softmax", attrs("axis", 1L), x.get(0)),
                b.op("log_softmax", x.get(0)))));
        cases.add(c("conv2d and pools", List.of(f32(N, 2, 7, 7), f32(4, 2, 3, 3), f32(4)), (b, x) -> {
            Value y = b.op("conv2d", attrs("padding", new long[] {1, 1}), x.get(0), x.get(1), x.get(2));
            return List.of(y, b.op("max_pool2d", attrs("kernel_size", new long[] {2, 2}, "stride", new long[] {2, 2}, "ceil_mode", true), y),
                    b.op("avg_pool2d", attrs("kernel_size", new long[] {3, 3}, "stride", new long[] {2, 2}, "padding", new long[] {1, 1}), y));
        }));
        cases.add(c("conv_transpose2d", List.of(f32(N, 2, 5, 5), f32(2, 3, 3, 3), f32(3)), (b, x) -> List.of(
                b.op("conv_transpose2d", attrs("stride", new long[] {2, 2}, "padding", new long[] {1, 1},
                        "output_padding", new long[] {1, 1}), x.get(0), x.get(1), x.get(2)))));
        cases.add(c("grouped conv_transpose2d", List.of(f32(N, 4, 4, 3), f32(4, 1, 2, 3)), (b, x) -> List.of(
                b.op("conv_transpose2d", attrs("groups", 2L, "dilation", new long[] {2, 1}), x.get(0), x.get(1)))));
        cases.add(c("adaptive_avg_pool2d", List.of(f32(N, 2, 6, 6), f32(N, 2, 5, 7)), (b, x) -> List.of(
                b.op("adaptive_avg_pool2d", attrs("output_size", new long[] {1, 1}), x.get(0)),
                b.op("adaptive_avg_pool2d", attrs("output_size", new long[] {2, 3}), x.get(0)),
                b.op("adaptive_avg_pool2d", attrs("output_size", new long[] {3, 2}), x.get(1)))));
        cases.add(c("batch_norm", List.of(f32(N, 3, 4, 2), f32(3), f32(3), f32(3), f32(3)), (b, x) -> {
            Value var = b.op("abs", x.get(2));
            return List.of(b.op("batch_norm", attrs("eps", 1e-3), x.get(0), x.get(1), var, x.get(3), x.get(4)),
                    b.op("batch_norm", x.get(0), x.get(1), var));
        }));
        cases.add(c("batch_norm with batch statistics", List.of(f32(N, 3)), (b, x) -> {
            Value mean = b.op("mean", attrs("axes", new long[] {0}), x.get(0));
            Value centered = b.op("sub", x.get(0), mean);
            Value var = b.op("mean", attrs("axes", new long[] {0}), b.op("mul", centered, centered));
            return List.of(b.op("batch_norm", x.get(0), mean, var));
        }));
        cases.add(c("layer_norm", List.of(f32(N, 3, 4), f32(4), f32(4), f32(3, 4)), (b, x) -> List.of(
                b.op("layer_norm", attrs("normalized_dims", 1L), x.get(0), x.get(1), x.get(2)),
                b.op("layer_norm", attrs("normalized_dims", 2L, "eps", 1e-3), x.get(0), x.get(3)),
                b.op("layer_norm", attrs("normalized_dims", 1L), x.get(0)))));
        cases.add(c("group_norm", List.of(f32(N, 4, 3, 3), f32(4), f32(4), f32(N, 6)), (b, x) -> List.of(
                b.op("group_norm", attrs("groups", 2L), x.get(0), x.get(1), x.get(2)),
                b.op("group_norm", attrs("groups", 4L, "eps", 1e-3), x.get(0), x.get(1)),
                b.op("group_norm", attrs("groups", 3L), x.get(3)))));
        return cases;
    }

    static Stream<Object[]> casesAtOpsets() {
        return cases().stream().flatMap(c -> java.util.Arrays.stream(OPSETS).filter(o -> o >= c.minOpset())
                .mapToObj(o -> new Object[] {c, o}));
    }

    @ParameterizedTest(name = "{0} at opset {1}")
    @MethodSource("casesAtOpsets")
    void exportMatchesTheInterpreter(Case c, int opset) {
        Graph g = c.graph();
        Random random = new Random(c.name().hashCode() * 31L + opset);
        List<List<NDArray>> inputs = List.of(OnnxParity.randomInputs(g, 2, random), OnnxParity.randomInputs(g, 3, random),
                OnnxParity.randomInputs(g, 5, random));
        OnnxParity.check(c.name(), g, Map.of(), ExportOptions.defaults().withOpset(opset), inputs);
    }

    /** Ops needing a newer opset are refused below it with an error naming the op and the opset. */
    @Test
    void opsBeyondTheOpsetAreRefusedClearly() {
        for (Case c : cases()) {
            if (c.minOpset() == 13) continue;
            OnnxExportException e = assertThrows(OnnxExportException.class,
                    () -> OnnxExporter.export(c.graph(), Map.of(), ExportOptions.defaults().withOpset(c.minOpset() - 1)));
            assertTrue(e.getMessage().contains("opset " + c.minOpset()), e.getMessage());
        }
    }

    /** Ops exercised here or in the dedicated control-flow and host-scalar export tests. */
    private static final Set<String> TESTED_ELSEWHERE = Set.of("constant", "item", "if", "loop", "yield", "return",
            "max_pool2d", "avg_pool2d",
            // the fused ops O2 forms: onnx FusionExportTest (per opset) and FusedModelsOnnxTest (O2 models vs ORT)
            "linear_act", "conv2d_act", "fused_elementwise", "bias_gelu", "skip_layer_norm");

    /** Every op that exports appears in at least one case above (or in a dedicated test), so no lowering goes unrun. */
    @Test
    void everyExportableOpHasACase() {
        Set<String> used = new TreeSet<>();
        for (Case c : cases()) collect(c.graph().body(), used);
        Set<String> missing = new TreeSet<>();
        for (OpSchema s : OpRegistry.all()) {
            String op = s.name();
            if (!OnnxExporter.canExport(op) || used.contains(op) || TESTED_ELSEWHERE.contains(op) || op.startsWith("scalar_")
                    || op.equals("tensor_from_scalar")) {
                continue;
            }
            missing.add(op);
        }
        assertEquals(Set.of(), missing, "exportable ops without a parity case");
    }

    private static void collect(dev.kiln.ir.Block block, Set<String> used) {
        for (Op op : block.ops()) {
            used.add(op.name());
            for (dev.kiln.ir.Block r : op.regions()) collect(r, used);
        }
    }
}
