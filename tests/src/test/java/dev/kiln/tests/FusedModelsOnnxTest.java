package dev.kiln.tests;

import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.BatchNorm2d;
import dev.kiln.frontend.nn.Conv2d;
import dev.kiln.frontend.nn.Linear;
import dev.kiln.frontend.nn.Module;
import dev.kiln.frontend.nn.TransformerEncoderLayer;
import dev.kiln.ir.Graph;
import dev.kiln.ir.IrParser;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.Op;
import dev.kiln.onnx.ExportOptions;
import dev.kiln.onnx.OnnxChecker;
import dev.kiln.onnx.OnnxExporter;
import dev.kiln.passes.Freeze;
import dev.kiln.passes.Optimize;
import dev.kiln.runtime.Interpreter;
import dev.kiln.samples.OrtReference;
import dev.kiln.samples.models.LeNet;
import dev.kiln.tracer.Kiln;
import dev.kiln.tracer.TraceOptions;
import dev.kiln.tracer.TracedFunction;
import dev.kiln.tracer.Weights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static dev.kiln.tests.ParityTest.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * O2-optimised models keep exporting: the fused ops (linear_act, conv2d_act, fused_elementwise with a trailing
 * reduction, bias_gelu, skip_layer_norm) lower to standard ONNX, pass the ONNX checker, and ONNX Runtime matches
 * Kiln's interpreter on the optimised graph (and eager) within rtol 1e-4. Also: on a Transformer encoder layer, O2
 * forms BiasGelu (gelu variant) and SkipLayerNorm (both norm placements, with the sum as a second result for
 * norm_first).
 */
class FusedModelsOnnxTest {

    @TempDir
    Path dir;

    /** A ResNet-style stem and basic block with global average pooling as a mean over H and W, and a linear head. */
    static final class ConvBlockNet extends Module {
        final Conv2d stem = new Conv2d(3, 8, new int[] {3, 3}, new int[] {1, 1}, new int[] {1, 1}, new int[] {1, 1}, 1, false);
        final BatchNorm2d bn0 = new BatchNorm2d(8);
        final Conv2d conv1 = new Conv2d(8, 8, new int[] {3, 3}, new int[] {1, 1}, new int[] {1, 1}, new int[] {1, 1}, 1, false);
        final BatchNorm2d bn1 = new BatchNorm2d(8);
        final Conv2d conv2 = new Conv2d(8, 8, new int[] {3, 3}, new int[] {1, 1}, new int[] {1, 1}, new int[] {1, 1}, 1, false);
        final BatchNorm2d bn2 = new BatchNorm2d(8);
        final Linear head = new Linear(8, 5);

        @Override
        public Tensor forward(Tensor x) {
            Tensor h = bn0.forward(stem.forward(x)).relu();
            Tensor out = bn1.forward(conv1.forward(h)).relu();
            out = bn2.forward(conv2.forward(out)).add(h).relu();
            return head.forward(out.mean(new int[] {2, 3}, false));
        }
    }

    private static Module prepared(Module model) {
        model.eval();
        // Non-trivial running statistics, so that folding BatchNorm changes the weights.
        model.namedBuffers().forEach((k, b) -> {
            if (k.endsWith("running_var")) b.data().assign(Tensor.uniform(new Generator(k.hashCode()), 0.5, 1.5, b.shape()).data());
            if (k.endsWith("running_mean")) b.data().assign(Tensor.uniform(new Generator(k.hashCode()), -0.2, 0.2, b.shape()).data());
        });
        return model;
    }

    private static List<String> ops(Graph g) { return g.body().ops().stream().map(Op::name).toList(); }

    /** Exports the optimised graph, checks it, and compares ONNX Runtime with Kiln (interpreter on the O2 graph, and eager). */
    private void exportAndCompare(Module model, Optimize.Result r, String name, Tensor... samples) throws Exception {
        Path file = dir.resolve(name + ".onnx");
        OnnxExporter.save(OnnxExporter.export(r.graph(), Weights.asBuffers(r.weights()), ExportOptions.defaults()), file);
        OnnxChecker.check(file);
        try (OrtReference ort = new OrtReference(file)) {
            for (Tensor x : samples) {
                float[] kiln = Interpreter.runTensors(r.graph(), List.of(x.data()), r.weights()).get(0).toFloatArray();
                assertAllClose(kiln, ort.run(x).get(0), 1e-4, 1e-5, name + " ONNX Runtime vs Kiln O2, shape " + List.of(x.shape()));
                assertAllClose(model.forward(x).toFloatArray(), kiln, 1e-4, 1e-5, name + " Kiln O2 vs eager");
            }
        }
    }

    @Test
    void leNet() throws Exception {
        Generator.manualSeed(11);
        Module model = prepared(new LeNet());
        Tensor x = Tensor.randn(new Generator(1), 2, 1, 28, 28);
        Optimize.Result r = Kiln.trace(model, TraceOptions.defaults().dynamic(0, 0, "N"), x).optimize(Map.of("N", 2L));
        assertTrue(ops(r.graph()).containsAll(List.of("conv2d_act", "linear_act")), IrPrinter.print(r.graph()));
        exportAndCompare(model, r, "lenet", x, Tensor.randn(new Generator(2), 5, 1, 28, 28));
    }

    @Test
    void convBlockWithAResidualAndATrailingMean() throws Exception {
        Generator.manualSeed(12);
        Module model = prepared(new ConvBlockNet());
        Tensor x = Tensor.randn(new Generator(3), 2, 3, 12, 12);
        Optimize.Result r = Kiln.trace(model, TraceOptions.defaults().dynamic(0, 0, "N"), x).optimize(Map.of("N", 2L));
        // The block's second conv takes the shortcut add and relu as a residual conv2d_act (exported as Conv, Add, Relu).
        assertEquals(List.of("conv2d_act", "conv2d_act", "conv2d_act", "mean", "linear", "return"), ops(r.graph()), r.explain());
        assertTrue(r.explain().contains("conv2d + add + relu -> conv2d_act (residual)"), r.explain());
        exportAndCompare(model, r, "convblock", x, Tensor.randn(new Generator(4), 3, 3, 12, 12));
    }

    /**
     * The post-norm layer with gelu or relu exports. Weights are frozen first so that self-attention's slices of
     * in_proj_weight fold into constants: {@code slice} itself has no ONNX mapping in this module yet.
     */
    @ParameterizedTest
    @CsvSource({"true", "false"})
    void transformerEncoderLayer(boolean gelu) throws Exception {
        Generator.manualSeed(13);
        Module model = prepared(new TransformerEncoderLayer(32, 4, 64, 0.1, gelu, 1e-5, true, false));
        Tensor x = Tensor.randn(new Generator(5), 2, 12, 32);
        TracedFunction traced = Kiln.trace(model, TraceOptions.defaults().dynamic(0, 0, "N"), x);
        Graph g = IrParser.parse(IrPrinter.print(traced.graph()));
        new Freeze(traced.weights()).run(g);
        Optimize.Result r = Optimize.o2(g, Map.of(), Map.of("N", 2L), true);
        List<String> ops = ops(r.graph());
        assertEquals(2, ops.stream().filter("skip_layer_norm"::equals).count(), r.explain());
        assertEquals(gelu ? 1 : 0, ops.stream().filter("bias_gelu"::equals).count(), r.explain());
        assertEquals(gelu ? 0 : 1, ops.stream().filter("linear_act"::equals).count(), r.explain());
        exportAndCompare(model, r, "transformer", x, Tensor.randn(new Generator(6), 3, 12, 32));
    }

    /** Which fusions form on the layer for each activation and norm placement; O2 keeps eager's output in each case. */
    @ParameterizedTest
    @CsvSource({"true, false, 2, 0, 1", "false, false, 2, 0, 0", "true, true, 1, 1, 1", "false, true, 1, 1, 0"})
    void transformerFusionsByOption(boolean gelu, boolean normFirst, int skipNorms, int withSum, int biasGelus) {
        Generator.manualSeed(14);
        Module model = prepared(new TransformerEncoderLayer(16, 2, 32, 0.1, gelu, 1e-5, true, normFirst));
        Tensor x = Tensor.randn(new Generator(7), 2, 5, 16);
        Optimize.Result r = Kiln.trace(model, TraceOptions.defaults().dynamic(0, 0, "N"), x).optimize(Map.of("N", 2L));
        List<Op> ops = r.graph().body().ops();
        assertEquals(skipNorms, ops.stream().filter(op -> op.name().equals("skip_layer_norm")).count(), r.explain());
        assertEquals(withSum, ops.stream().filter(op -> op.name().equals("skip_layer_norm") && op.boolAttr("with_sum")).count(), r.explain());
        assertEquals(biasGelus, ops.stream().filter(op -> op.name().equals("bias_gelu")).count(), r.explain());
        assertEquals(normFirst ? 1 : 0, ops.stream().filter(op -> op.name().equals("layer_norm")).count(), r.explain());
        float[] out = Interpreter.runTensors(r.graph(), List.of(x.data()), r.weights()).get(0).toFloatArray();
        assertAllClose(model.forward(x).toFloatArray(), out, 1e-4, 1e-5, "transformer O2 vs eager");
    }
}
