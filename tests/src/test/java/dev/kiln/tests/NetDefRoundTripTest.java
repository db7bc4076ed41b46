package dev.kiln.tests;

import com.google.protobuf.TextFormat;
import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.AdaptiveAvgPool2d;
import dev.kiln.frontend.nn.AvgPool2d;
import dev.kiln.frontend.nn.BatchNorm2d;
import dev.kiln.frontend.nn.Conv2d;
import dev.kiln.frontend.nn.Flatten;
import dev.kiln.frontend.nn.LeakyReLU;
import dev.kiln.frontend.nn.Linear;
import dev.kiln.frontend.nn.MaxPool2d;
import dev.kiln.frontend.nn.Module;
import dev.kiln.frontend.nn.ReLU;
import dev.kiln.frontend.nn.Sequential;
import dev.kiln.frontend.nn.Softmax;
import dev.kiln.ir.DType;
import dev.kiln.ir.Graph;
import dev.kiln.ir.IrParser;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;
import dev.kiln.onnx.caffe2.proto.Caffe2Protos.NetDef;
import dev.kiln.onnx.caffe2.proto.Caffe2Protos.OperatorDef;
import dev.kiln.onnx.netdef.ImportedNet;
import dev.kiln.onnx.netdef.NetDefExporter;
import dev.kiln.onnx.netdef.NetDefImporter;
import dev.kiln.onnx.netdef.NetDefModel;
import dev.kiln.runtime.Interpreter;
import dev.kiln.runtime.NDArray;
import dev.kiln.samples.models.LeNet;
import dev.kiln.samples.models.Mlp;
import dev.kiln.tracer.Kiln;
import dev.kiln.tracer.TraceOptions;
import dev.kiln.tracer.TracedFunction;
import dev.kiln.tracer.Weights;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Kiln graph → Caffe2 NetDef (.pb files) → Kiln graph gives the original's outputs (rtol 1e-5) in
 * the reference interpreter: the MLP, LeNet with softmax, a conv/BatchNorm/pooling net, and a graph
 * of Concat, Reshape and broadcast arithmetic; batch dims stay symbolic through the round trip.
 */
class NetDefRoundTripTest {

    @TempDir
    Path dir;

    @Test
    void mlpWithDynamicBatch() {
        Generator.manualSeed(11);
        TracedFunction traced = Kiln.trace(new Mlp(), TraceOptions.defaults().dynamic(0, 0, "N"), Tensor.zeros(2, 784));
        NetDefModel model = saveAndLoad(traced.graph(), traced.weights());
        assertEquals(List.of("FC", "Relu", "FC", "Relu", "FC"), opTypes(model.predictNet()));
        for (int batch : new int[] {1, 5}) {
            check(traced.graph(), traced.weights(), model, List.of(randn(batch, batch, 784)), "mlp at batch " + batch);
        }
    }

    @Test
    void leNetWithSoftmax() {
        Generator.manualSeed(12);
        Module model = new Sequential(new LeNet(), new Softmax(1));
        TracedFunction traced = Kiln.trace(model, TraceOptions.defaults().dynamic(0, 0, "N"), Tensor.zeros(2, 1, 28, 28));
        NetDefModel netdef = saveAndLoad(traced.graph(), traced.weights());
        List<String> ops = opTypes(netdef.predictNet());
        for (String t : List.of("Conv", "Relu", "MaxPool", "Flatten", "FC", "Softmax")) assertTrue(ops.contains(t), ops.toString());
        for (int batch : new int[] {1, 3}) {
            check(traced.graph(), traced.weights(), netdef, List.of(randn(batch + 20, batch, 1, 28, 28)), "lenet at batch " + batch);
        }
    }

    @Test
    void convBatchNormAndPooling() {
        Generator.manualSeed(13);
        Module model = new Sequential(
                new Conv2d(3, 8, 3, 1, 1), new BatchNorm2d(8), new ReLU(),
                new MaxPool2d(new int[] {3, 3}, new int[] {2, 2}, new int[] {1, 1}, new int[] {1, 1}, true),
                new Conv2d(8, 8, new int[] {3, 3}, new int[] {1, 1}, new int[] {1, 1}, new int[] {1, 1}, 2, false),
                new BatchNorm2d(8, 1e-3, 0.1, false, true),
                new AvgPool2d(new int[] {2, 2}, new int[] {2, 2}, new int[] {0, 0}, true, true),
                new AdaptiveAvgPool2d(1), new Flatten(), new Linear(8, 5), new LeakyReLU(0.1));
        model.train(true);
        for (int i = 0; i < 3; i++) model.forward(Tensor.randn(new Generator(100 + i), 4, 3, 12, 12)); // running statistics
        model.eval();
        TracedFunction traced = Kiln.trace(model, TraceOptions.defaults().dynamic(0, 0, "N"), Tensor.zeros(2, 3, 12, 12));
        NetDefModel netdef = saveAndLoad(traced.graph(), traced.weights());
        List<String> ops = opTypes(netdef.predictNet());
        for (String t : List.of("SpatialBN", "ConstantFill", "MaxPool", "AveragePool", "LeakyRelu")) assertTrue(ops.contains(t), ops.toString());
        OperatorDef maxPool = netdef.predictNet().getOpList().stream().filter(o -> o.getType().equals("MaxPool")).findFirst().orElseThrow();
        assertEquals(List.of(1L, 1L, 2L, 2L), arg(maxPool, "pads").getIntsList(), "ceil_mode is extra bottom/right padding");
        for (int batch : new int[] {1, 4}) {
            check(traced.graph(), traced.weights(), netdef, List.of(randn(batch + 30, batch, 3, 12, 12)), "conv+bn at batch " + batch);
        }
    }

    @Test
    void concatReshapeAndBroadcastArithmetic() {
        Graph g = IrParser.parse("""
                graph @mix(%x: f32[N, 3, 4, 4], %y: f32[N, 2, 4, 4], %z: f32[N, 1, 4, 1]) weights(@scale: f32[5, 1, 1], @shift: f32[4], @w: f32[6, 80], @b: f32[6], @c: f32[2, 1]) {
                  %0 = cat(%x, %y) {axis = 1} : f32[N, 5, 4, 4]
                  %1 = mul(%0, @scale) : f32[N, 5, 4, 4]
                  %2 = add(@shift, %1) : f32[N, 5, 4, 4]
                  %3 = div(%2, %z) : f32[N, 5, 4, 4]
                  %4 = reshape(%3) {shape = [N, -1]} : f32[N, 80]
                  %5 = linear(%4, @w, @b) : f32[N, 6]
                  %6 = reshape(%5) {shape = [N, 2, 3]} : f32[N, 2, 3]
                  %7 = softmax(%6) {axis = 1} : f32[N, 2, 3]
                  %8 = sub(@c, %6) : f32[N, 2, 3]
                  return(%7, %2, %8)
                }
                """);
        Random random = new Random(14);
        Map<String, NDArray> weights = new LinkedHashMap<>();
        g.weights().forEach((name, v) -> weights.put(name, random(random, v.tensorType().shape().toArray())));
        NetDefModel netdef = saveAndLoad(g, weights);
        List<OperatorDef> ops = netdef.predictNet().getOpList();
        assertEquals(List.of("Concat", "Mul", "Add", "Div", "Reshape", "FC", "Reshape", "Transpose", "Softmax", "Transpose", "Sub"),
                ops.stream().map(OperatorDef::getType).toList());
        assertEquals(1, arg(ops.get(1), "axis").getI(), "scale [5, 1, 1] broadcasts from axis 1");
        assertEquals("shift", ops.get(2).getInput(1), "add swaps its operands for legacy broadcasting");
        assertTrue(ops.get(3).getArgList().isEmpty(), "z [N, 1, 4, 1] needs NumPy broadcasting");
        assertTrue(ops.get(10).getArgList().isEmpty(), "sub [2, 1] - [N, 2, 3] needs NumPy broadcasting");
        assertEquals(List.of(0L, -1L), arg(ops.get(4), "shape").getIntsList(), "N copies input dim 0");
        for (int batch : new int[] {1, 3}) {
            List<NDArray> inputs = List.of(random(random, batch, 3, 4, 4), random(random, batch, 2, 4, 4), positive(random, batch, 1, 4, 1));
            check(g, weights, netdef, inputs, "mix at batch " + batch);
        }
    }

    @Test
    void residualConvFromO2IsConvSumAndRelu() {
        Graph g = IrParser.parse("""
                graph @block(%x: f32[N, 4, 6, 6]) weights(@w: f32[4, 4, 3, 3], @b: f32[4]) {
                  %0 = conv2d_act(%x, @w, @b, %x) {stride = [1, 1], padding = [1, 1], dilation = [1, 1], groups = 1, activation = "relu", residual = true} : f32[N, 4, 6, 6]
                  return(%0)
                }
                """);
        Random random = new Random(15);
        Map<String, NDArray> weights = new LinkedHashMap<>();
        g.weights().forEach((name, v) -> weights.put(name, random(random, v.tensorType().shape().toArray())));
        NetDefModel netdef = saveAndLoad(g, weights);
        assertEquals(List.of("Conv", "Sum", "Relu"), opTypes(netdef.predictNet()));
        assertEquals(3, netdef.predictNet().getOp(0).getInputCount(), "the residual is not a Conv input");
        for (int batch : new int[] {1, 2}) check(g, weights, netdef, List.of(random(random, batch, 4, 6, 6)), "residual conv at batch " + batch);
    }

    /** Caffe2's legacy broadcasting with an explicit axis: C[n, c, h, w] = A[n, c, h, w] - B[c, h] for axis 1. */
    @Test
    void legacyBroadcastAxisFollowsCaffe2() throws Exception {
        NetDef predict = TextFormat.parse("""
                op { input: "a" input: "b" output: "c" type: "Sub" arg { name: "broadcast" i: 1 } arg { name: "axis" i: 1 } }
                external_input: "a"
                external_input: "b"
                external_output: "c"
                """, NetDef.class);
        ImportedNet net = NetDefImporter.importNet(NetDef.getDefaultInstance(), predict,
                Map.of("a", TensorType.of(DType.F32, 2, 3, 4, 5), "b", TensorType.of(DType.F32, 3, 4)));
        Random random = new Random(15);
        NDArray a = random(random, 2, 3, 4, 5), b = random(random, 3, 4);
        NDArray c = Interpreter.runTensors(net.graph(), List.of(a, b), Map.of()).get(0);
        assertArrayEquals(new long[] {2, 3, 4, 5}, c.shape());
        for (int n = 0; n < 2; n++) {
            for (int ch = 0; ch < 3; ch++) {
                for (int h = 0; h < 4; h++) {
                    for (int w = 0; w < 5; w++) {
                        assertEquals(a.getDouble(n, ch, h, w) - b.getDouble(ch, h), c.getDouble(n, ch, h, w), 1e-6);
                    }
                }
            }
        }
    }

    /** Any binary op on NumPy-broadcastable operands survives the round trip, legacy broadcasting or not. */
    @Property(tries = 60)
    void broadcastArithmeticRoundTrips(@ForAll("binaryCases") BinaryCase c) {
        Graph g = IrParser.parse("graph @bin(%a: f32" + Arrays.toString(c.a()) + ", %b: f32" + Arrays.toString(c.b()) + ") {\n"
                + "  %0 = " + c.op() + "(" + (c.swap() ? "%b, %a" : "%a, %b") + ") : f32" + Arrays.toString(c.out()) + "\n"
                + "  return(%0)\n}\n");
        Random random = new Random(c.hashCode());
        NDArray a = random(random, c.a()), b = positive(random, c.b());
        NetDefModel netdef = NetDefExporter.export(g, Map.of());
        ImportedNet back = NetDefImporter.importNet(netdef, inputTypes(g, netdef));
        List<NDArray> expected = Interpreter.runTensors(g, List.of(a, b), Map.of());
        List<NDArray> actual = Interpreter.runTensors(back.graph(), List.of(a, b), Map.of());
        assertArrayEquals(expected.get(0).shape(), actual.get(0).shape());
        ParityTest.assertAllClose(expected.get(0).toFloatArray(), actual.get(0).toFloatArray(), 1e-6, 0, c.toString());
    }

    record BinaryCase(String op, long[] a, long[] b, boolean swap, long[] out) {
        @Override public String toString() {
            return op + (swap ? "(b, a)" : "(a, b)") + " a" + Arrays.toString(a) + " b" + Arrays.toString(b);
        }
    }

    /** A shape, and a second one made by dropping leading dims and setting some dims to 1. */
    @Provide
    Arbitrary<BinaryCase> binaryCases() {
        Arbitrary<long[]> shapes = Arbitraries.longs().between(1, 4).array(long[].class).ofMinSize(0).ofMaxSize(4);
        return Combinators.combine(Arbitraries.of("add", "sub", "mul", "div"), shapes, Arbitraries.integers().between(0, 4),
                Arbitraries.integers().between(0, 15), Arbitraries.of(false, true)).as((op, a, drop, ones, swap) -> {
                    long[] b = Arrays.copyOfRange(a, Math.min(drop, a.length), a.length);
                    for (int i = 0; i < b.length; i++) if ((ones >> i & 1) != 0) b[i] = 1;
                    return new BinaryCase(op, a, b, swap, a);
                });
    }

    /** Exports, saves both .pb files, loads them back (unchanged) and returns the loaded model. */
    private NetDefModel saveAndLoad(Graph graph, Map<String, NDArray> weights) {
        NetDefModel model = NetDefExporter.export(graph, Weights.asBuffers(weights));
        Path init = dir.resolve("init_net.pb"), predict = dir.resolve("predict_net.pb");
        model.save(init, predict);
        assertTrue(Files.exists(init) && Files.exists(predict));
        NetDefModel loaded = NetDefModel.load(init, predict);
        assertEquals(model, loaded);
        return loaded;
    }

    /** Imports {@code model} and checks it computes what {@code graph} does on {@code inputs}. */
    private static void check(Graph graph, Map<String, NDArray> weights, NetDefModel model, List<NDArray> inputs, String what) {
        ImportedNet back = NetDefImporter.importNet(model, inputTypes(graph, model));
        assertEquals(graph.weights().keySet(), back.graph().weights().keySet(), what + ": weight names");
        Map<String, NDArray> imported = new LinkedHashMap<>();
        back.weights().forEach((name, data) -> {
            byte[] bytes = new byte[data.remaining()];
            data.duplicate().get(bytes);
            imported.put(name, Interpreter.fromBytes(back.graph().weights().get(name).tensorType(), bytes));
        });
        List<NDArray> expected = Interpreter.runTensors(graph, inputs, weights);
        List<NDArray> actual = Interpreter.runTensors(back.graph(), inputs, imported);
        assertEquals(expected.size(), actual.size(), what + ": outputs");
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i).shape(), actual.get(i).shape(), what + ": shape of output " + i);
            ParityTest.assertAllClose(expected.get(i).toFloatArray(), actual.get(i).toFloatArray(), 1e-5, 1e-6, what + ": output " + i);
        }
    }

    /** The graph's input types under the blob names the export gave them (the predict net's first external inputs). */
    private static Map<String, TensorType> inputTypes(Graph graph, NetDefModel model) {
        Map<String, TensorType> types = new LinkedHashMap<>();
        List<Value> inputs = graph.inputs();
        for (int i = 0; i < inputs.size(); i++) types.put(model.predictNet().getExternalInput(i), inputs.get(i).tensorType());
        return types;
    }

    private static List<String> opTypes(NetDef net) { return net.getOpList().stream().map(OperatorDef::getType).toList(); }

    private static dev.kiln.onnx.caffe2.proto.Caffe2Protos.Argument arg(OperatorDef op, String name) {
        return op.getArgList().stream().filter(a -> a.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError(op.getType() + " has no argument '" + name + "': " + op));
    }

    private static NDArray randn(long seed, long... shape) { return Tensor.randn(new Generator(seed), shape).data(); }

    /** Values in [-1, 1). */
    private static NDArray random(Random random, long... shape) {
        NDArray a = NDArray.zeros(DType.F32, shape);
        for (long i = 0; i < a.numel(); i++) a.setFlat(i, random.nextDouble() * 2 - 1);
        return a;
    }

    /** Values in [0.5, 1.5), safe to divide by. */
    private static NDArray positive(Random random, long... shape) {
        NDArray a = NDArray.zeros(DType.F32, shape);
        for (long i = 0; i < a.numel(); i++) a.setFlat(i, 0.5 + random.nextDouble());
        return a;
    }
}
