package dev.kiln.codegen;

import dev.kiln.ir.Graph;
import dev.kiln.ir.IrParser;
import dev.kiln.passes.GraphTesting;
import dev.kiln.runtime.Interpreter;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.kernels.VectorApi;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CompiledModelTest {

    static final String MLP = """
            graph @mlp(%x: f32[N, 1, 4, 4]) weights(@w1: f32[32, 16], @b1: f32[32], @w2: f32[10, 32], @b2: f32[10]) {
              %0 = flatten(%x) {start_dim = 1} : f32[N, 16]
              %1 = linear(%0, @w1, @b1) : f32[N, 32]
              %2 = relu(%1) : f32[N, 32]
              %3 = linear(%2, @w2, @b2) : f32[N, 10]
              %4 = mul(%3, %3) : f32[N, 10]
              %5 = sigmoid(%4) : f32[N, 10]
              %6 = add(%5, %3) : f32[N, 10]
              return(%6)
            }
            """;

    static List<Object> check(String ir, long n, long seed) {
        Graph g = IrParser.parse(ir);
        Random random = new Random(seed);
        List<Object> inputs = GraphTesting.randomInputs(g, n, random);
        Map<String, NDArray> weights = GraphTesting.randomWeights(g, n, random);
        CompiledModel model = CompiledModel.compile(g, weights);
        List<NDArray> arrays = inputs.stream().map(o -> (NDArray) o).toList();
        long runsBefore = CodegenStats.generatedRuns();
        List<Object> compiled = new ArrayList<>(model.run(arrays));
        assertEquals(runsBefore + 1, CodegenStats.generatedRuns());
        GraphTesting.assertClose(Interpreter.run(g, inputs, weights), compiled);
        return compiled;
    }

    @Test
    void mlpMatchesTheInterpreterAtSeveralBatchSizes() {
        for (long n : new long[] {1, 3, 32}) check(MLP, n, n);
    }

    /** Residual add + layer norm (O2's skip_layer_norm, with its sum reused: the pre-norm form) and attention-style softmax. */
    @Test
    void skipLayerNormAndSoftmaxMatchTheInterpreter() {
        String ir = """
                graph @block(%x: f32[N, 3, 40], %y: f32[N, 3, 40]) weights(@g: f32[40], @b: f32[40], @bias: f32[40]) {
                  %0 = add(%x, @bias) : f32[N, 3, 40]
                  %1 = add(%0, %y) : f32[N, 3, 40]
                  %2 = layer_norm(%1, @g, @b) {normalized_dims = 1} : f32[N, 3, 40]
                  %3 = softmax(%2) {axis = -1} : f32[N, 3, 40]
                  %4 = add(%1, %3) : f32[N, 3, 40]
                  return(%4)
                }
                """;
        for (long n : new long[] {1, 5}) check(ir, n, 40 + n);
        Graph g = IrParser.parse(ir);
        CompiledModel model = CompiledModel.compile(g, GraphTesting.randomWeights(g, 1, new Random(2)));
        model.run(List.of(NDArray.zeros(dev.kiln.ir.DType.F32, 2, 3, 40), NDArray.zeros(dev.kiln.ir.DType.F32, 2, 3, 40)));
        String explain = model.explain();
        if (VectorSupport.available()) {
            assertTrue(explain.contains("vector skip_layer_norm 6 rows of 40 (with sum)"), explain);
            assertTrue(explain.contains("vector softmax 6 rows of 40"), explain);
        }
    }

    /**
     * The vector softmax rows agree with the reference kernel on rows holding +inf, -inf or NaN, in a vector lane and in
     * the scalar tail (37 columns leave one for any vector width): as in PyTorch and ONNX, a +inf or a NaN makes the whole
     * row NaN, a row of only -inf is NaN, and a -inf among finite values is exactly 0.
     */
    @Test
    void vectorSoftmaxOfRowsWithInfinitiesOrNaNMatchesTheInterpreter() {
        Graph g = IrParser.parse("""
                graph @rows(%x: f32[8, 37]) {
                  %0 = softmax(%x) {axis = -1} : f32[8, 37]
                  return(%0)
                }
                """);
        int cols = 37;
        NDArray x = NDArray.zeros(dev.kiln.ir.DType.F32, 8, cols);
        Random random = new Random(3);
        for (long i = 0; i < x.numel(); i++) x.setFlat(i, random.nextGaussian());
        double inf = Double.POSITIVE_INFINITY;
        x.setFlat(3, inf);                                        // row 0: +inf in a vector lane
        x.setFlat(cols + 36, inf);                                // row 1: +inf in the tail
        x.setFlat(2 * cols + 3, -inf);                            // row 2: -inf in a lane and the tail
        x.setFlat(2 * cols + 36, -inf);
        for (int j = 0; j < cols; j++) x.setFlat(3 * cols + j, -inf);   // row 3: only -inf
        x.setFlat(4 * cols + 5, Double.NaN);                      // row 4: NaN in a lane
        x.setFlat(5 * cols + 36, Double.NaN);                     // row 5: NaN in the tail
        x.setFlat(6 * cols, inf);                                 // row 6: +inf twice
        x.setFlat(6 * cols + 1, inf);                             // row 7: finite
        CompiledModel model = CompiledModel.compile(g, Map.of());
        List<Object> compiled = new ArrayList<>(model.run(List.of(x)));
        GraphTesting.assertClose(Interpreter.run(g, List.of(x), Map.of()), compiled);
        if (VectorSupport.available()) assertTrue(model.explain().contains("vector softmax 8 rows of 37"), model.explain());
        double[] out = ((NDArray) compiled.get(0)).toDoubleArray();
        for (int row : new int[] {0, 1, 3, 4, 5, 6}) {
            for (int j = 0; j < cols; j++) assertTrue(Double.isNaN(out[row * cols + j]), "row " + row + " column " + j + ": " + out[row * cols + j]);
        }
        assertEquals(0.0, out[2 * cols + 3]);
        assertEquals(0.0, out[2 * cols + 36]);
        assertEquals(1.0, java.util.Arrays.stream(out, 7 * cols, 8 * cols).sum(), 1e-5);
    }

    /**
     * A straight line of calls longer than one JVM method may hold (64 KiB of bytecode; here 40 grouped convolutions,
     * each unrolled over 32 images and 3 groups) continues in further methods of at most about
     * {@link Lowering#PART_BYTES} and matches the interpreter. Where a host scalar stays live across the whole graph
     * the line cannot be split, and compiling it is an {@link UncompilableGraphException} saying so.
     */
    @Test
    void longStraightLinesContinueInFurtherMethods() {
        String layers = groupedConvolutions(40, "%x");
        String ir = "graph @deep(%x: f32[N, 6, 4, 4]) weights(" + weightList(40) + ") {\n" + layers + "  return(%c39)\n}\n";
        check(ir, 32, 9);
        Graph g = IrParser.parse(ir);
        CompiledModel model = CompiledModel.compile(g, GraphTesting.randomWeights(g, 1, new Random(2)));
        List<String> listing = ((Program) model.lowered(List.of(NDArray.zeros(dev.kiln.ir.DType.F32, 32, 6, 4, 4)))).listing();
        assertTrue(listing.stream().filter(line -> line.startsWith("(continued in method part")).count() >= 10, String.join("\n", listing));

        String pinned = "graph @pinned(%x: f32[N, 6, 4, 4]) weights(" + weightList(40) + ") {\n"
                + "  %trip = constant() {value = 1} : int\n  %go = constant() {value = true} : bool\n" + layers
                + "  %r = loop(%trip, %go, %c39) : f32[N, 6, 4, 4] {\n  ^(%i: int, %acc: f32[N, 6, 4, 4]):\n"
                + "    %t = constant() {value = true} : bool\n    yield(%t, %acc)\n  }\n  return(%r)\n}\n";
        Graph p = IrParser.parse(pinned);
        CompiledModel pinnedModel = CompiledModel.compile(p, GraphTesting.randomWeights(p, 1, new Random(2)));
        pinnedModel.run(List.of(NDArray.zeros(dev.kiln.ir.DType.F32, 1, 6, 4, 4)));   // small enough for one method
        UncompilableGraphException e = org.junit.jupiter.api.Assertions.assertThrows(UncompilableGraphException.class,
                () -> pinnedModel.run(List.of(NDArray.zeros(dev.kiln.ir.DType.F32, 32, 6, 4, 4))));
        assertTrue(e.getMessage().contains("over the JVM's 64 KiB limit") && e.getMessage().contains("pinned"), e.getMessage());
    }

    /** {@code count} 1×1 convolutions with 3 groups over 6 channels, {@code %c0} to {@code %c<count-1>}, from {@code input}. */
    private static String groupedConvolutions(int count, String input) {
        StringBuilder ops = new StringBuilder();
        for (int i = 0; i < count; i++) {
            ops.append("  %c").append(i).append(" = conv2d(").append(i == 0 ? input : "%c" + (i - 1)).append(", @w").append(i)
                    .append(") {groups = 3} : f32[N, 6, 4, 4]\n");
        }
        return ops.toString();
    }

    private static String weightList(int count) {
        StringBuilder list = new StringBuilder();
        for (int i = 0; i < count; i++) list.append(i == 0 ? "" : ", ").append("@w").append(i).append(": f32[6, 2, 1, 1]");
        return list.toString();
    }

    /** O2's folded weights, constants and the generated code outlive the MemoryScope of the call that compiled them. */
    @Test
    void codeMadeInsideAScopeOutlivesIt() {
        Graph g = IrParser.parse("""
                graph @block(%x: f32[N, 3, 8, 8]) weights(@w: f32[4, 3, 3, 3], @mean: f32[4], @var: f32[4], @gamma: f32[4], @beta: f32[4]) {
                  %0 = conv2d(%x, @w) {padding = [1, 1]} : f32[N, 4, 8, 8]
                  %1 = batch_norm(%0, @mean, @var, @gamma, @beta) : f32[N, 4, 8, 8]
                  %2 = relu(%1) : f32[N, 4, 8, 8]
                  return(%2)
                }
                """);
        Random random = new Random(5);
        Map<String, NDArray> weights = GraphTesting.randomWeights(g, 1, random);
        weights.put("var", NDArray.full(dev.kiln.ir.DType.F32, 0.5, 4));
        List<Object> inputs = GraphTesting.randomInputs(g, 2, random);
        List<NDArray> x = inputs.stream().map(o -> (NDArray) o).toList();
        CompiledModel model = CompiledModel.compile(g, weights);
        try (dev.kiln.runtime.MemoryScope _ = dev.kiln.runtime.MemoryScope.open()) {
            model.run(x);
        }
        GraphTesting.assertClose(Interpreter.run(g, inputs, weights), new ArrayList<>(model.run(x)));
        CompiledModel inScope;
        try (dev.kiln.runtime.MemoryScope _ = dev.kiln.runtime.MemoryScope.open()) {
            inScope = CompiledModel.compile(g, weights);
            inScope.run(x);
        }
        GraphTesting.assertClose(Interpreter.run(g, inputs, weights), new ArrayList<>(inScope.run(x)));
    }

    @Test
    void explainListsGeneratedKernelsPerBinding() {
        Graph g = IrParser.parse(MLP);
        Random random = new Random(1);
        CompiledModel model = CompiledModel.compile(g, GraphTesting.randomWeights(g, 1, random));
        model.run(List.of(NDArray.zeros(dev.kiln.ir.DType.F32, 2, 1, 4, 4)));
        model.run(List.of(NDArray.zeros(dev.kiln.ir.DType.F32, 5, 1, 4, 4)));
        String explain = model.explain();
        assertTrue(explain.contains("generated code for {N=2}"), explain);
        assertTrue(explain.contains("generated code for {N=5}"), explain);
        assertTrue(explain.contains("gemm"), explain);
        assertTrue(explain.contains("generated loop"), explain);
        assertTrue(explain.contains("memory: planned per size binding") && explain.contains("KiB):"), explain);
        if (dev.kiln.runtime.kernels.DirectGemm.prefersPackedB(40, 32)) {
            model.run(List.of(NDArray.zeros(dev.kiln.ir.DType.F32, 40, 1, 4, 4)));
            assertTrue(model.explain().contains("packed gemm 40x32x16 (B^T packed at compile time) + epilogue"), model.explain());
        }
    }

    /**
     * A result computed by a generated loop is written straight into the caller's output buffer, unless that buffer
     * is strided or shares bytes with an input, where the slot is used and copied over: the same answers every way.
     */
    @Test
    void outputsAreWrittenInPlaceUnlessTheBufferIsStridedOrShared() {
        Graph g = IrParser.parse("""
                graph @g(%x: f32[4, 8], %y: f32[4, 8]) {
                  %0 = mul(%x, %y) : f32[4, 8]
                  %1 = add(%0, %x) : f32[4, 8]
                  %2 = tanh(%1) : f32[4, 8]
                  return(%2, %1, %2)
                }
                """);
        Random random = new Random(9);
        List<Object> inputs = GraphTesting.randomInputs(g, 1, random);
        List<NDArray> x = inputs.stream().map(o -> (NDArray) o).toList();
        List<Object> expected = Interpreter.run(g, inputs, Map.of());
        CompiledModel model = CompiledModel.compile(g, Map.of());
        var f32 = dev.kiln.ir.DType.F32;

        List<NDArray> fresh = List.of(NDArray.zeros(f32, 4, 8), NDArray.zeros(f32, 4, 8), NDArray.zeros(f32, 4, 8));
        model.runInto(x, fresh);
        GraphTesting.assertClose(expected, new ArrayList<>(fresh));
        String listing = String.join("\n", ((Program) model.lowered(x)).listing());
        assertEquals(List.of("output 0", "output 1"), listing.lines().filter(l -> l.endsWith("(written in place)"))
                .map(l -> l.substring(0, l.indexOf(" <-"))).toList(), listing);

        NDArray strided = NDArray.zeros(f32, 8, 4).permute(1, 0);
        List<NDArray> sharedAndStrided = List.of(x.get(0).copy(), strided, NDArray.zeros(f32, 4, 8));
        List<NDArray> aliased = List.of(sharedAndStrided.get(0), x.get(1));
        model.runInto(aliased, sharedAndStrided);
        GraphTesting.assertClose(expected, new ArrayList<>(sharedAndStrided));
    }

    /** MobileNet-style depthwise (stride 1 and 2, channel multiplier 2) and pointwise convolutions with fused epilogues. */
    @Test
    void depthwiseConvolutionsMatchTheInterpreter() {
        String ir = """
                graph @dw(%x: f32[N, 4, 17, 19]) weights(@w1: f32[4, 1, 3, 3], @b1: f32[4], @w2: f32[8, 1, 3, 3], @w3: f32[6, 8, 1, 1]) {
                  %0 = conv2d(%x, @w1, @b1) {padding = [1, 1], groups = 4} : f32[N, 4, 17, 19]
                  %1 = relu(%0) : f32[N, 4, 17, 19]
                  %2 = conv2d(%1, @w2) {stride = [2, 2], padding = [1, 1], groups = 4} : f32[N, 8, 9, 10]
                  %3 = conv2d(%2, @w3) : f32[N, 6, 9, 10]
                  return(%3)
                }
                """;
        for (long n : new long[] {1, 2}) check(ir, n, 70 + n);
        Graph g = IrParser.parse(ir);
        CompiledModel model = CompiledModel.compile(g, GraphTesting.randomWeights(g, 1, new Random(7)));
        model.run(List.of(NDArray.zeros(dev.kiln.ir.DType.F32, 1, 4, 17, 19)));
        String explain = model.explain();
        assertTrue(explain.contains("depthwise 4 channels x 1, 3x3 taps, stride 1x1, padding 1x1, dilation 1x1, 17x19 -> 17x19")
                && explain.contains("depthwise 4 channels x 2, 3x3 taps, stride 2x2, padding 1x1, dilation 1x1, 17x19 -> 9x10"), explain);
        if (dev.kiln.runtime.kernels.Pointwise.available()) {
            assertTrue(explain.contains("x 1 + bias + epilogue") && explain.contains("pointwise 6x90x8 x 1 images x 1 group(s)"), explain);
        }
    }

    /**
     * ShuffleNet units: v1's grouped 1x1 convolution, channel shuffle (read in place by the depthwise convolution
     * after it, never copied), depthwise 3x3 and grouped 1x1 with residual and relu; v2's channel split, branch,
     * concatenation and shuffle (one interleaving concatenation after O2), at a batch where the split halves
     * images lie apart.
     */
    @Test
    void shuffleNetUnitsMatchTheInterpreter() {
        String ir = """
                graph @unit(%x: f32[N, 12, 9, 7]) weights(@w1: f32[6, 4, 1, 1], @b1: f32[6], @w2: f32[6, 1, 3, 3], @w3: f32[12, 2, 1, 1], @w4: f32[6, 6, 1, 1]) {
                  %0 = conv2d(%x, @w1, @b1) {groups = 3} : f32[N, 6, 9, 7]
                  %1 = relu(%0) : f32[N, 6, 9, 7]
                  %2 = reshape(%1) {shape = [-1, 3, 2, 9, 7]} : f32[N, 3, 2, 9, 7]
                  %3 = permute(%2) {perm = [0, 2, 1, 3, 4]} : f32[N, 2, 3, 9, 7]
                  %4 = reshape(%3) {shape = [-1, 6, 9, 7]} : f32[N, 6, 9, 7]
                  %5 = conv2d(%4, @w2) {padding = [1, 1], groups = 6} : f32[N, 6, 9, 7]
                  %6 = conv2d(%5, @w3) {groups = 3} : f32[N, 12, 9, 7]
                  %7 = add(%6, %x) : f32[N, 12, 9, 7]
                  %8 = relu(%7) : f32[N, 12, 9, 7]
                  %9 = slice(%8) {axis = 1, start = 0, end = 6} : f32[N, 6, 9, 7]
                  %10 = slice(%8) {axis = 1, start = 6, end = 12} : f32[N, 6, 9, 7]
                  %11 = conv2d(%10, @w4) : f32[N, 6, 9, 7]
                  %12 = relu(%11) : f32[N, 6, 9, 7]
                  %13 = cat(%9, %12) {axis = 1} : f32[N, 12, 9, 7]
                  %14 = reshape(%13) {shape = [-1, 2, 6, 9, 7]} : f32[N, 2, 6, 9, 7]
                  %15 = permute(%14) {perm = [0, 2, 1, 3, 4]} : f32[N, 6, 2, 9, 7]
                  %16 = reshape(%15) {shape = [-1, 12, 9, 7]} : f32[N, 12, 9, 7]
                  %17 = mean(%16) {axes = [2, 3]} : f32[N, 12]
                  return(%17, %16)
                }
                """;
        for (long n : new long[] {1, 2}) check(ir, n, 130 + n);
        Graph g = IrParser.parse(ir);
        CompiledModel model = CompiledModel.compile(g, GraphTesting.randomWeights(g, 1, new Random(3)));
        model.run(List.of(NDArray.zeros(dev.kiln.ir.DType.F32, 2, 12, 9, 7)));
        String explain = model.explain();
        assertTrue(explain.contains("interleave-cat-shuffle") && explain.contains("2 block copies of 12 block(s) each (strided inputs image by image)")
                && explain.contains("input read through a channel shuffle of 3 groups")
                && explain.contains("pointwise 6x63x6 x 2 images"), explain);
    }

    /**
     * ResNet-style convolutions with constant filters take the packed path (filters packed at compile time, patches
     * unfolded into panels): "same" 3x3 (the vector path), strided 3x3 and 1x1, grouped, with bias, residual and relu
     * epilogues run per block of channels, at two batch sizes.
     */
    @Test
    void packedConvolutionsMatchTheInterpreter() {
        String ir = """
                graph @res(%x: f32[N, 6, 13, 11]) weights(@w1: f32[24, 6, 3, 3], @b1: f32[24], @w2: f32[24, 12, 3, 3], @w3: f32[32, 24, 1, 1], @w4: f32[32, 24, 3, 3], @b4: f32[32]) {
                  %0 = conv2d(%x, @w1, @b1) {padding = [1, 1]} : f32[N, 24, 13, 11]
                  %1 = relu(%0) : f32[N, 24, 13, 11]
                  %2 = conv2d(%1, @w2) {padding = [1, 1], groups = 2} : f32[N, 24, 13, 11]
                  %3 = add(%2, %1) : f32[N, 24, 13, 11]
                  %4 = relu(%3) : f32[N, 24, 13, 11]
                  %5 = conv2d(%4, @w3) {stride = [2, 2]} : f32[N, 32, 7, 6]
                  %6 = conv2d(%4, @w4, @b4) {stride = [2, 2], padding = [1, 1]} : f32[N, 32, 7, 6]
                  %7 = add(%5, %6) : f32[N, 32, 7, 6]
                  return(%7)
                }
                """;
        Graph g = IrParser.parse(ir);
        for (long n : new long[] {1, 3}) {
            CompiledModel model = assertConvolutionsMatchTheInterpreter(g, n, 90 + n);
            if (dev.kiln.runtime.kernels.DirectGemm.usesVectorApi()) {
                String explain = model.explain();
                assertTrue(explain.contains("packed conv gemm 24x143x54 x " + n + " images x 1 group(s)")
                        && explain.contains("packed conv gemm 32x42x24 x " + n + " images") && explain.contains("packed conv gemm 32x42x216 x " + n), explain);
            }
        }
    }

    /**
     * 3x3 stride-1 convolutions with enough channels take Winograd's F(2x2, 3x3) (filters transformed at compile
     * time), with bias, residual and relu epilogues, odd and even output sizes, at two batch sizes.
     */
    @Test
    void winogradConvolutionsMatchTheInterpreter() {
        String ir = """
                graph @wino(%x: f32[N, 48, 17, 14]) weights(@w1: f32[48, 48, 3, 3], @b1: f32[48], @w2: f32[64, 48, 3, 3]) {
                  %0 = conv2d(%x, @w1, @b1) {padding = [1, 1]} : f32[N, 48, 17, 14]
                  %1 = relu(%0) : f32[N, 48, 17, 14]
                  %2 = conv2d(%1, @w2) : f32[N, 64, 15, 12]
                  %3 = relu(%2) : f32[N, 64, 15, 12]
                  return(%3)
                }
                """;
        Graph g = IrParser.parse(ir);
        for (long n : new long[] {1, 2}) {
            CompiledModel model = assertConvolutionsMatchTheInterpreter(g, n, 70 + n);
            if (dev.kiln.runtime.kernels.DirectGemm.usesVectorApi()) {
                String explain = model.explain();
                assertTrue(explain.contains("Winograd F(2x2,3x3) conv, 16 gemms 48x48 x tiles, " + n + " images")
                        && explain.contains("Winograd F(2x2,3x3) conv, 16 gemms 64x48 x tiles"), explain);
            }
        }
    }

    /**
     * LeNet's convolutions (6 and 16 filters: too few for the packed GEMM) over a batch take one call that splits the
     * images over the pool, each convolved directly (on the Vector API; else as im2col + GEMM) with its epilogue; 1 and
     * 2 threads.
     */
    @Test
    void smallConvolutionsOverABatchMatchTheInterpreter() {
        String ir = """
                graph @lenet(%x: f32[N, 1, 28, 28]) weights(@w1: f32[6, 1, 5, 5], @b1: f32[6], @w2: f32[16, 6, 5, 5], @b2: f32[16]) {
                  %0 = conv2d(%x, @w1, @b1) {padding = [2, 2]} : f32[N, 6, 28, 28]
                  %1 = relu(%0) : f32[N, 6, 28, 28]
                  %2 = conv2d(%1, @w2, @b2) : f32[N, 16, 24, 24]
                  %3 = relu(%2) : f32[N, 16, 24, 24]
                  return(%3)
                }
                """;
        Graph g = IrParser.parse(ir);
        int before = dev.kiln.runtime.kernels.Parallel.threads();
        try {
            for (int threads : new int[] {1, 2}) {
                dev.kiln.runtime.kernels.Parallel.setThreads(threads);
                CompiledModel model = assertConvolutionsMatchTheInterpreter(g, 5, 40 + threads);
                String explain = model.explain(), how = VectorApi.enabled() ? "direct conv " : "im2col + gemm ";
                assertTrue(explain.contains(how + "6x784x25 x 5 images in one call")
                        && explain.contains(how + "16x576x150 x 5 images in one call"), explain);
            }
        } finally {
            dev.kiln.runtime.kernels.Parallel.setThreads(before);
        }
    }

    /**
     * LeNet's features: each convolution + relu whose only user is a 2x2 max pool right after it computes the pooled
     * output in one call (on the Vector API), over a batch, with 1 and 2 threads; a pool whose convolution output is
     * also returned, and a 3x3 pool, stay separate ops.
     */
    @Test
    void convolutionsFollowedByPoolsComputeThePooledOutput() {
        String ir = """
                graph @lenet(%x: f32[N, 1, 28, 28]) weights(@w1: f32[6, 1, 5, 5], @b1: f32[6], @w2: f32[16, 6, 5, 5], @b2: f32[16]) {
                  %0 = conv2d(%x, @w1, @b1) {padding = [2, 2]} : f32[N, 6, 28, 28]
                  %1 = relu(%0) : f32[N, 6, 28, 28]
                  %2 = max_pool2d(%1) {kernel_size = [2, 2], stride = [2, 2]} : f32[N, 6, 14, 14]
                  %3 = conv2d(%2, @w2, @b2) : f32[N, 16, 10, 10]
                  %4 = relu(%3) : f32[N, 16, 10, 10]
                  %5 = max_pool2d(%4) {kernel_size = [2, 2], stride = [2, 2]} : f32[N, 16, 5, 5]
                  return(%5)
                }
                """;
        String shared = """
                graph @shared(%x: f32[N, 1, 28, 28]) weights(@w1: f32[6, 1, 5, 5], @b1: f32[6]) {
                  %0 = conv2d(%x, @w1, @b1) {padding = [2, 2]} : f32[N, 6, 28, 28]
                  %1 = relu(%0) : f32[N, 6, 28, 28]
                  %2 = max_pool2d(%1) {kernel_size = [2, 2], stride = [2, 2]} : f32[N, 6, 14, 14]
                  %3 = max_pool2d(%1) {kernel_size = [3, 3], stride = [2, 2]} : f32[N, 6, 13, 13]
                  return(%2, %3)
                }
                """;
        int before = dev.kiln.runtime.kernels.Parallel.threads();
        try {
            for (int threads : new int[] {1, 2}) {
                dev.kiln.runtime.kernels.Parallel.setThreads(threads);
                String explain = assertConvolutionsMatchTheInterpreter(IrParser.parse(ir), 5, 50 + threads).explain();
                if (VectorApi.enabled()) {
                    assertTrue(explain.contains("direct conv 6x784x25 x 5 images + bias + relu + 2x2 max pool into")
                            && explain.contains("direct conv 16x100x150 x 5 images + bias + relu + 2x2 max pool into")
                            && !explain.contains("direct max_pool2d"), explain);
                }
                explain = assertConvolutionsMatchTheInterpreter(IrParser.parse(shared), 3, 60 + threads).explain();
                assertTrue(!explain.contains("2x2 max pool into") && explain.contains("direct max_pool2d 18 planes 28x28 -> 14x14")
                        && explain.contains("direct max_pool2d 18 planes 28x28 -> 13x13"), explain);
            }
        } finally {
            dev.kiln.runtime.kernels.Parallel.setThreads(before);
        }
    }

    /**
     * Compiles {@code g} for batch {@code n} and compares its run with the interpreter's on random inputs and weights:
     * outputs are sums of hundreds of terms of either sign, so the f32 error bound scales with the largest output.
     */
    private static CompiledModel assertConvolutionsMatchTheInterpreter(Graph g, long n, long seed) {
        Random random = new Random(seed);
        List<Object> inputs = GraphTesting.randomInputs(g, n, random);
        Map<String, NDArray> weights = GraphTesting.randomWeights(g, n, random);
        CompiledModel model = CompiledModel.compile(g, weights);
        List<Object> expectedOutputs = Interpreter.run(g, inputs, weights);
        List<NDArray> gotOutputs = model.run(inputs.stream().map(o -> (NDArray) o).toList());
        for (int out = 0; out < expectedOutputs.size(); out++) {
            NDArray expected = (NDArray) expectedOutputs.get(out), got = gotOutputs.get(out);
            double scale = 0;
            for (long i = 0; i < expected.numel(); i++) scale = Math.max(scale, Math.abs(expected.getFlat(i)));
            for (long i = 0; i < expected.numel(); i++) {
                assertEquals(expected.getFlat(i), got.getFlat(i), 1e-5 * scale, "output " + out + " element " + i + " at batch " + n);
            }
        }
        return model;
    }

    /** DenseNet-style concatenations along the channel axis, the last axis and the first, as block copies. */
    @Test
    void concatenationsAreBlockCopies() {
        String ir = """
                graph @cat(%x: f32[N, 3, 4, 5], %y: f32[N, 2, 4, 5], %z: f32[N, 3, 4, 2]) {
                  %0 = relu(%x) : f32[N, 3, 4, 5]
                  %1 = cat(%0, %y, %x) {axis = 1} : f32[N, 8, 4, 5]
                  %2 = cat(%x, %z) {axis = -1} : f32[N, 3, 4, 7]
                  %3 = cat(%x, %0) {axis = 0} : f32[?, 3, 4, 5]
                  return(%1, %2, %3)
                }
                """;
        for (long n : new long[] {1, 3}) check(ir, n, 110 + n);
        Graph g = IrParser.parse(ir);
        CompiledModel model = CompiledModel.compile(g, Map.of());
        Random random = new Random(5);
        model.run(GraphTesting.randomInputs(g, 2, random).stream().map(o -> (NDArray) o).toList());
        assertTrue(model.explain().contains("3 block copies of 2 block(s) each") && model.explain().contains("2 block copies of 24 block(s) each")
                && model.explain().contains("2 block copies of 1 block(s) each"), model.explain());
    }
}
