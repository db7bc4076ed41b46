package dev.kiln.tests;

import dev.kiln.ir.DType;
import dev.kiln.ir.Graph;
import dev.kiln.ir.IrParser;
import dev.kiln.onnx.ExportOptions;
import dev.kiln.onnx.ImportedModel;
import dev.kiln.onnx.OnnxImporter;
import dev.kiln.onnx.proto.OnnxProtos.ModelProto;
import dev.kiln.runtime.NDArray;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Regression case of a RandomGraphOnnxPropertyTest sample: input {@code [N, 1, 3, 5]} times a constant {@code f32[5, 2]}
 * holding +inf (or -inf, NaN), through a loop, into softmax over the last axis. Rows whose maximum is +inf (or NaN)
 * must be NaN throughout in every engine, as PyTorch and ONNX define softmax ({@code exp(x - max) / sum}); Kiln's kernels
 * used to leave an infinite maximum unsubtracted and gave [NaN, 0.0] where ONNX Runtime gives [NaN, NaN]. The imported
 * model's generated code, its interpreter and ONNX Runtime (graph rewrites off and on) must agree element by element.
 */
class NonFiniteSoftmaxOnnxTest {

    private static final String GRAPH = """
            graph @matmul_loop_softmax(%x: f32[N, 1, 3, 5]) {
              %w = constant() {value = dense<f32[5, 2]: [WEIGHTS]>} : f32[5, 2]
              %m = matmul(%x, %w) : f32[N, 1, 3, 2]
              %trip = constant() {value = 2} : int
              %go = constant() {value = true} : bool
              %r = loop(%trip, %go, %m) : f32[N, 1, 3, 2] {
              ^(%i: int, %acc: f32[N, 1, 3, 2]):
                %half = constant() {value = dense<f32[]: [0.5]>} : f32[]
                %next = mul(%acc, %half) : f32[N, 1, 3, 2]
                %c = constant() {value = true} : bool
                yield(%c, %next)
              }
              %s = softmax(%r) {axis = -1} : f32[N, 1, 3, 2]
              return(%s)
            }
            """;

    @ParameterizedTest
    @ValueSource(strings = {
            "inf, 0.5, -1.0, 2.0, 0.25, -0.75, 1.5, 0.125, -2.0, 1.0",
            "0.5, -1.0, 2.0, 0.25, -0.75, 1.5, 0.125, -2.0, 1.0, inf",
            "-inf, 0.5, -1.0, 2.0, 0.25, -0.75, 1.5, 0.125, -2.0, 1.0",
            "nan, 0.5, -1.0, 2.0, 0.25, -0.75, 1.5, 0.125, -2.0, 1.0",
            "inf, 0.5, -inf, 2.0, 0.25, -0.75, 1.5, 0.125, -2.0, 1.0"})
    void compiledInterpretedAndOnnxRuntimeAgreeOnNonFiniteRows(String weights) {
        Graph g = IrParser.parse(GRAPH.replace("WEIGHTS", weights));
        ModelProto m = OnnxParity.exportChecked(g, Map.of(), ExportOptions.defaults());
        ImportedModel imported = OnnxImporter.fromProto(m, null);
        Random random = new Random(5);
        List<List<NDArray>> inputSets = List.of(List.of(input(2, random)), List.of(input(3, random)));
        boolean sawNaNRow = false;
        for (List<NDArray> x : inputSets) {
            double[] interpreted = imported.interpret(x).get(0).toDoubleArray();
            double[] compiled = imported.run(x).get(0).toDoubleArray();
            OnnxParity.assertClose("compiled vs interpreted, weights [" + weights + "]", interpreted, compiled);
            for (int row = 0; row < interpreted.length; row += 2) {
                boolean nan0 = Double.isNaN(interpreted[row]), nan1 = Double.isNaN(interpreted[row + 1]);
                assertTrue(nan0 == nan1, "a softmax row is NaN throughout or nowhere: " + interpreted[row] + ", " + interpreted[row + 1]);
                sawNaNRow |= nan0;
            }
        }
        assertTrue(sawNaNRow, "the case reaches a row whose maximum is +inf or NaN");
        OnnxParity.assertMatches("weights [" + weights + "], ORT rewrites off", g, m, Map.of(), inputSets, false);
        OnnxParity.assertMatches("weights [" + weights + "], ORT rewrites on", g, m, Map.of(), inputSets, true);
    }

    private static NDArray input(long n, Random random) {
        NDArray x = NDArray.zeros(DType.F32, n, 1, 3, 5);
        for (long i = 0; i < x.numel(); i++) x.setFlat(i, random.nextGaussian());
        return x;
    }
}
