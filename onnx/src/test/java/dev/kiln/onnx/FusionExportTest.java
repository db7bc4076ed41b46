package dev.kiln.onnx;

import dev.kiln.ir.DType;
import dev.kiln.ir.Graph;
import dev.kiln.ir.IrParser;
import dev.kiln.onnx.proto.OnnxProtos.ModelProto;
import dev.kiln.onnx.proto.OnnxProtos.NodeProto;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;

import static dev.kiln.onnx.Nd.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fusion ops written back as standard ONNX: the nodes chosen per opset, the ONNX checker, and ONNX Runtime's
 * results against plain-loop references (gelu through a test-local erf good to 1e-7).
 */
class FusionExportTest {

    private static List<String> opTypes(ModelProto m) {
        return m.getGraph().getNodeList().stream().map(NodeProto::getOpType).toList();
    }

    private static ModelProto export(String text, Map<String, ByteBuffer> weights, int opset) {
        Graph g = IrParser.parse(text);
        return Exports.checked(g, weights, ExportOptions.defaults().withOpset(opset));
    }

    /** erf to within 1.2e-7 (Numerical Recipes' erfc Chebyshev fit), independent of the runtime's erf. */
    private static double erf(double x) {
        double z = Math.abs(x), t = 1 / (1 + 0.5 * z);
        double erfc = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
                + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? 1 - erfc : erfc - 1;
    }

    private static double gelu(double v, boolean tanh) {
        return tanh ? 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))) : 0.5 * v * (1 + erf(v / Math.sqrt(2)));
    }

    @Test
    void linearActAndConv2dActAreTheBaseOpThenTheActivation() {
        Nd w = Nd.random(1, 3, 4), bias = Nd.random(2, 3), k = Nd.random(3, 2, 2, 3, 3), kb = Nd.random(4, 2);
        String text = """
                graph @g(%x: f32[N, 4], %x3: f32[N, 2, 4], %img: f32[N, 2, 5, 5]) weights(@w: f32[3, 4], @b: f32[3], @k: f32[2, 2, 3, 3], @kb: f32[2]) {
                  %0 = linear_act(%x, @w, @b) {activation = "relu"} : f32[N, 3]
                  %1 = linear_act(%x3, @w) {activation = "gelu_tanh"} : f32[N, 2, 3]
                  %2 = linear_act(%x3, @w, @b) {activation = "sigmoid"} : f32[N, 2, 3]
                  %3 = conv2d_act(%img, @k, @kb) {padding = [1, 1], activation = "tanh"} : f32[N, 2, 5, 5]
                  %4 = linear_act(%x, @w) : f32[N, 3]
                  return(%0, %1, %2, %3, %4)
                }
                """;
        Map<String, ByteBuffer> weights = Map.of("w", w.bytes(), "b", bias.bytes(), "k", k.bytes(), "kb", kb.bytes());
        ModelProto m = export(text, weights, 17);
        List<String> ops = opTypes(m);
        assertEquals(2, ops.stream().filter("Gemm"::equals).count(), ops.toString());
        assertTrue(ops.containsAll(List.of("Relu", "Sigmoid", "Tanh", "Conv", "MatMul", "Transpose")), ops.toString());
        for (long n : new long[] {1, 3}) {
            Nd x = Nd.random(10 + n, n, 4), x3 = Ref.map(Nd.random(20 + n, n, 2, 4), v -> 3 * v), img = Nd.random(30 + n, n, 2, 5, 5);
            List<Nd> out = List.copyOf(OrtRunner.run(m, Map.of("x", x, "x3", x3, "img", img)).values());
            assertClose(Ref.map(Ref.linear(x, w, bias), v -> Math.max(v, 0)), out.get(0), "linear_act relu (Gemm)");
            assertClose(Ref.map(Ref.linear(x3, w, null), v -> gelu(v, true)), out.get(1), "linear_act gelu_tanh (MatMul)");
            assertClose(Ref.map(Ref.linear(x3, w, bias), v -> 1 / (1 + Math.exp(-v))), out.get(2), "linear_act sigmoid (MatMul + Add)");
            assertClose(Ref.map(Ref.conv2d(img, k, kb, new int[] {1, 1}, new int[] {1, 1}, new int[] {1, 1}, 1), Math::tanh),
                    out.get(3), "conv2d_act tanh");
            assertClose(Ref.linear(x, w, null), out.get(4), "linear_act none");
        }
    }

    /** A residual {@code conv2d_act} is Conv, then Add of the residual, then the activation (none: just the Add). */
    @Test
    void conv2dActWithAResidualIsConvThenAddThenTheActivation() {
        Nd k = Nd.random(5, 2, 2, 3, 3), kb = Nd.random(6, 2);
        String text = """
                graph @g(%img: f32[N, 2, 5, 5], %r: f32[N, 2, 5, 5]) weights(@k: f32[2, 2, 3, 3], @kb: f32[2]) {
                  %0 = conv2d_act(%img, @k, @kb, %r) {padding = [1, 1], activation = "relu", residual = true} : f32[N, 2, 5, 5]
                  %1 = conv2d_act(%img, @k, %r) {padding = [1, 1], residual = true} : f32[N, 2, 5, 5]
                  return(%0, %1)
                }
                """;
        ModelProto m = export(text, Map.of("k", k.bytes(), "kb", kb.bytes()), 17);
        assertEquals(List.of("Conv", "Add", "Relu", "Conv", "Add"), opTypes(m));
        assertEquals(List.of(3, 2), m.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("Conv")).map(NodeProto::getInputCount).toList(),
                "the residual is not a Conv input");
        for (long n : new long[] {1, 2}) {
            Nd img = Nd.random(40 + n, n, 2, 5, 5), r = Nd.random(50 + n, n, 2, 5, 5);
            List<Nd> out = List.copyOf(OrtRunner.run(m, Map.of("img", img, "r", r)).values());
            int[] one = {1, 1};
            Nd withBias = Ref.zip(Ref.conv2d(img, k, kb, one, one, one, 1), r, DType.F32, Double::sum);
            assertClose(Ref.map(withBias, v -> Math.max(v, 0)), out.get(0), "conv2d_act relu with residual");
            assertClose(Ref.zip(Ref.conv2d(img, k, null, one, one, one, 1), r, DType.F32, Double::sum), out.get(1), "conv2d_act none with residual");
        }
    }

    @Test
    void biasGeluIsAddThenTheGeluFormulaBeforeOpset20AndGeluFrom20() {
        Nd bias = Nd.random(5, 6);
        String text = """
                graph @g(%x: f32[N, 2, 6]) weights(@b: f32[6]) {
                  %0 = bias_gelu(%x, @b) : f32[N, 2, 6]
                  %1 = bias_gelu(%x, @b) {approximate = "tanh"} : f32[N, 2, 6]
                  return(%0, %1)
                }
                """;
        for (int opset : new int[] {13, 17, 20}) {
            ModelProto m = export(text, Map.of("b", bias.bytes()), opset);
            List<String> ops = opTypes(m);
            assertEquals(opset >= 20, ops.contains("Gelu"), ops.toString());
            assertEquals(opset < 20, ops.contains("Erf") && ops.contains("Tanh"), ops.toString());
            Nd x = Ref.map(Nd.random(opset, 3, 2, 6), v -> 4 * v);
            List<Nd> out = List.copyOf(OrtRunner.run(m, Map.of("x", x)).values());
            Nd sum = Ref.zip(x, bias, DType.F32, Double::sum);
            assertClose(Ref.map(sum, v -> gelu(v, false)), out.get(0), "bias_gelu, opset " + opset);
            assertClose(Ref.map(sum, v -> gelu(v, true)), out.get(1), "bias_gelu tanh, opset " + opset);
        }
    }

    /** layer norm over the last dim, then * gamma + beta. */
    private static Nd layerNorm(Nd s, Nd gamma, Nd beta, double eps) {
        int d = (int) s.shape()[s.rank() - 1];
        double[] v = new double[s.values().length];
        for (int row = 0; row < v.length / d; row++) {
            double mean = 0, var = 0;
            for (int j = 0; j < d; j++) mean += s.get(row * d + j) / d;
            for (int j = 0; j < d; j++) var += Math.pow(s.get(row * d + j) - mean, 2) / d;
            for (int j = 0; j < d; j++) v[row * d + j] = (s.get(row * d + j) - mean) / Math.sqrt(var + eps) * gamma.get(j) + beta.get(j);
        }
        return s.withValues(s.dtype(), v);
    }

    @Test
    void skipLayerNormIsAddsThenLayerNormalizationOrItsFormulaBeforeOpset17() {
        Nd gamma = Nd.random(6, 5), beta = Nd.random(7, 5), bias = Nd.random(8, 5);
        String text = """
                graph @g(%x: f32[N, 3, 5], %s: f32[N, 3, 5]) weights(@gamma: f32[5], @beta: f32[5], @bias: f32[5]) {
                  %0, %1 = skip_layer_norm(%x, %s, @gamma, @beta, @bias) {eps = 0.001, with_sum = true} : f32[N, 3, 5], f32[N, 3, 5]
                  %2 = skip_layer_norm(%x, %s, @gamma, @beta) : f32[N, 3, 5]
                  return(%0, %1, %2)
                }
                """;
        for (int opset : new int[] {13, 16, 17, 22}) {
            ModelProto m = export(text, Map.of("gamma", gamma.bytes(), "beta", beta.bytes(), "bias", bias.bytes()), opset);
            assertEquals(opset >= 17, opTypes(m).contains("LayerNormalization"), opTypes(m).toString());
            Nd x = Nd.random(opset, 2, 3, 5), s = Ref.map(Nd.random(opset + 100, 2, 3, 5), v -> 3 * v);
            List<Nd> out = List.copyOf(OrtRunner.run(m, Map.of("x", x, "s", s)).values());
            Nd sum = Ref.zip(Ref.zip(x, bias, DType.F32, Double::sum), s, DType.F32, Double::sum);
            assertClose(layerNorm(sum, gamma, beta, 1e-3), out.get(0), "skip_layer_norm with bias, opset " + opset);
            assertClose(sum, out.get(1), "skip_layer_norm sum, opset " + opset);
            assertClose(layerNorm(Ref.zip(x, s, DType.F32, Double::sum), gamma, beta, 1e-5), out.get(2), "skip_layer_norm, opset " + opset);
        }
    }

    @Test
    void fusedElementwiseInlinesItsRegionTrailingReductionIncluded() {
        String text = """
                graph @g(%x: f32[N, 4], %y: f32[4]) {
                  %0 = fused_elementwise(%x, %y) : f32[N] {
                  ^(%1: f32[N, 4], %2: f32[4]):
                    %3 = mul(%1, %2) : f32[N, 4]
                    %4 = relu(%3) : f32[N, 4]
                    %5 = sum(%4) {axes = [1]} : f32[N]
                    yield(%5)
                  }
                  %6 = fused_elementwise(%x, %y) : f32[N, 4] {
                  ^(%7: f32[N, 4], %8: f32[4]):
                    %9 = sub(%7, %8) : f32[N, 4]
                    %10 = exp(%9) : f32[N, 4]
                    yield(%10)
                  }
                  %11 = fused_elementwise(%6) : f32[1, 4] {
                  ^(%12: f32[N, 4]):
                    %13 = mean(%12) {axes = [0], keepdim = true} : f32[1, 4]
                    yield(%13)
                  }
                  %14 = fused_elementwise(%y) : f32[4] {
                  ^(%15: f32[4]):
                    yield(%15)
                  }
                  return(%0, %6, %11, %14)
                }
                """;
        ModelProto m = export(text, Map.of(), 17);
        assertEquals(List.of("Mul", "Relu", "Constant", "ReduceSum", "Sub", "Exp", "ReduceMean", "Identity"), opTypes(m));
        assertEquals(List.of("output", "output_1", "output_2", "output_3"), m.getGraph().getOutputList().stream().map(o -> o.getName()).toList());
        for (long n : new long[] {1, 3}) {
            Nd x = Nd.random(n, n, 4), y = Nd.random(n + 50, 4);
            List<Nd> out = List.copyOf(OrtRunner.run(m, Map.of("x", x, "y", y)).values());
            Nd e = Ref.map(Ref.zip(x, y, DType.F32, (a, b) -> a - b), Math::exp);
            assertClose(Ref.reduce(Ref.map(Ref.zip(x, y, DType.F32, (a, b) -> a * b), v -> Math.max(v, 0)), new int[] {1}, false, false),
                    out.get(0), "mul, relu, sum");
            assertClose(e, out.get(1), "sub, exp");
            assertClose(Ref.reduce(e, new int[] {0}, true, true), out.get(2), "mean alone");
            assertClose(y, out.get(3), "a region yielding its argument");
        }
    }

    @Test
    void aRegionOpThatCannotBeExportedIsNamedWithTheFusedOp() {
        Graph g = IrParser.parse("""
                graph @g(%x: i8[4], %y: i8[4]) {
                  %0 = fused_elementwise(%x, %y) : i8[4] {
                  ^(%1: i8[4], %2: i8[4]):
                    %3 = add(%1, %2) : i8[4]
                    %4 = neg(%3) : i8[4]
                    yield(%4)
                  }
                  return(%0)
                }
                """);
        OnnxExportException e = assertThrows(OnnxExportException.class,
                () -> OnnxExporter.export(g, Map.of(), ExportOptions.defaults().withOpset(13)));
        assertTrue(e.getMessage().startsWith("fused_elementwise: cannot export region op add: add: ONNX Add supports"), e.getMessage());
        assertFalse(e.getMessage().contains("null"), e.getMessage());
        Exports.checked(g, ExportOptions.defaults().withOpset(14));
    }
}
