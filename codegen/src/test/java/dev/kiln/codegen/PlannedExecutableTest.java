package dev.kiln.codegen;

import dev.kiln.passes.GraphTesting;
import dev.kiln.passes.MemoryPlan;
import dev.kiln.passes.MemoryPlanChecker;
import dev.kiln.passes.MemoryPlanner;
import dev.kiln.passes.Optimize;

import dev.kiln.ir.Attribute;
import dev.kiln.ir.Graph;
import dev.kiln.ir.IrParser;
import dev.kiln.ir.Op;
import dev.kiln.runtime.Allocations;
import dev.kiln.runtime.InputMismatchException;
import dev.kiln.runtime.Interpreter;
import dev.kiln.runtime.MemoryScope;
import dev.kiln.runtime.NDArray;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Running LeNet- and MLP-shaped graphs inside their memory plans: no fresh tensor memory per op
 * (counted by {@link Allocations}), results identical to the interpreter's, outputs that outlive the
 * next run, and clear errors for sizes or scopes the executable cannot serve.
 */
class PlannedExecutableTest {

    static final String LENET = """
            graph @lenet(%x: f32[N, 1, 28, 28]) weights(@c1.weight: f32[6, 1, 5, 5], @c1.bias: f32[6], @c2.weight: f32[16, 6, 5, 5], @c2.bias: f32[16], @f1.weight: f32[120, 400], @f1.bias: f32[120], @f2.weight: f32[84, 120], @f2.bias: f32[84], @f3.weight: f32[10, 84], @f3.bias: f32[10]) {
              %0 = conv2d(%x, @c1.weight, @c1.bias) {padding = [2, 2]} : f32[N, 6, 28, 28]
              %1 = relu(%0) : f32[N, 6, 28, 28]
              %2 = max_pool2d(%1) {kernel_size = [2, 2], stride = [2, 2]} : f32[N, 6, 14, 14]
              %3 = conv2d(%2, @c2.weight, @c2.bias) : f32[N, 16, 10, 10]
              %4 = relu(%3) : f32[N, 16, 10, 10]
              %5 = max_pool2d(%4) {kernel_size = [2, 2], stride = [2, 2]} : f32[N, 16, 5, 5]
              %6 = flatten(%5) {start_dim = 1} : f32[N, 400]
              %7 = linear(%6, @f1.weight, @f1.bias) : f32[N, 120]
              %8 = relu(%7) : f32[N, 120]
              %9 = linear(%8, @f2.weight, @f2.bias) : f32[N, 84]
              %10 = relu(%9) : f32[N, 84]
              %11 = linear(%10, @f3.weight, @f3.bias) : f32[N, 10]
              %12 = log_softmax(%11) {axis = 1} : f32[N, 10]
              return(%12)
            }
            """;

    static final String MLP = """
            graph @mlp(%x: f32[N, 784]) weights(@fc1.weight: f32[512, 784], @fc1.bias: f32[512], @fc2.weight: f32[512, 512], @fc2.bias: f32[512], @fc3.weight: f32[10, 512], @fc3.bias: f32[10]) {
              %0 = linear(%x, @fc1.weight, @fc1.bias) : f32[N, 512]
              %1 = relu(%0) : f32[N, 512]
              %2 = linear(%1, @fc2.weight, @fc2.bias) : f32[N, 512]
              %3 = relu(%2) : f32[N, 512]
              %4 = linear(%3, @fc3.weight, @fc3.bias) : f32[N, 10]
              return(%4)
            }
            """;

    private static final long BATCH = 4;

    /** Runs the graph planned for N = BATCH twice; the second run allocates only its output copy. */
    private static PlannedExecutable runsWithoutAllocating(String text, int expectedViews) {
        Graph g = IrParser.parse(text);
        Random random = new Random(42);
        List<Object> inputs = GraphTesting.randomInputs(g, BATCH, random);
        Map<String, NDArray> weights = GraphTesting.randomWeights(g, BATCH, random);
        PlannedExecutable exe = PlannedExecutable.plan(g, Map.of("N", BATCH));
        List<Object> warmUp = exe.run(inputs, weights);
        long count = Allocations.count(), bytes = Allocations.bytes();
        List<Object> out = exe.run(inputs, weights);
        long fresh = Allocations.count() - count, freshBytes = Allocations.bytes() - bytes;
        assertEquals(1, fresh, "the output copy is the only fresh tensor memory of a warm run, got " + fresh + " (" + freshBytes + " bytes)");
        assertEquals(BATCH * 10 * 4, freshBytes);
        Interpreter.ArenaRun run = exe.lastRun();
        assertEquals(exe.plan().buffers().size(), run.placed(), "every planned result is written by its kernel into its slot");
        assertEquals(expectedViews, run.views());
        assertEquals(0, run.copied() + run.relocated() + run.unplanned());
        List<Object> expected = Interpreter.run(g, inputs, weights);
        GraphTesting.assertSameOutputs(expected, warmUp, true);
        GraphTesting.assertSameOutputs(expected, out, true);
        System.out.println(g.name() + " planned for N=" + BATCH + ": " + exe.plan().summary() + "; arena with scratch "
                + exe.arenaBytes() + " bytes (scratch " + run.scratchBytes() + ")");
        return exe;
    }

    @Test
    void lenetRunsInItsArenaWithNoPerOpAllocation() {
        PlannedExecutable exe = runsWithoutAllocating(LENET, 1);
        assertTrue(exe.arenaBytes() > exe.plan().peakBytes(), "the arena grew to hold the convolutions' im2col scratch");
        assertEquals(4, exe.plan().inPlaceCount(), "every relu overwrites its producer's output in place");
    }

    @Test
    void mlpRunsInItsArenaWithNoPerOpAllocation() {
        PlannedExecutable exe = runsWithoutAllocating(MLP, 0);
        assertEquals(2, exe.plan().inPlaceCount());
        assertEquals(exe.plan().peakBytes(), exe.arenaBytes(), "GEMM needs no Kiln scratch (OpenBLAS packs in its own buffers)");
    }

    /**
     * The O2 result runs in its plan too, with no fresh memory but the output copy: fused
     * {@code linear_act}/{@code conv2d_act} apply their activation in place on the GEMM's result.
     */
    @Test
    void o2ResultRunsInItsPlan() {
        Graph g = IrParser.parse(LENET);
        Random random = new Random(7);
        List<Object> inputs = GraphTesting.randomInputs(g, BATCH, random);
        Map<String, NDArray> weights = GraphTesting.randomWeights(g, BATCH, random);
        List<Object> expected = Interpreter.run(g, inputs, weights);
        Optimize.Result o2 = Optimize.o2(IrParser.parse(LENET), weights, Map.of("N", BATCH), true);
        PlannedExecutable exe = PlannedExecutable.of(o2);
        exe.run(inputs, o2.weights());
        long count = Allocations.count();
        List<Object> out = exe.run(inputs, o2.weights());
        long fresh = Allocations.count() - count;
        GraphTesting.assertSameOutputs(expected, out, true);
        long activations = o2.graph().body().ops().stream().filter(PlannedExecutableTest::fusedWithActivation).count();
        System.out.println("O2 lenet planned: " + o2.plan().summary() + "; fresh tensors per warm run " + fresh
                + " (1 output copy, " + activations + " fused ops with an activation)");
        assertTrue(activations > 0, "O2 LeNet has fused activations");
        assertEquals(1, fresh, "the output copy is the only fresh tensor memory of a warm O2 run");
        assertEquals(0, exe.lastRun().relocated());
    }

    /** Two ResNet basic blocks, the second with a 1x1 stride-2 downsample shortcut computed after its main path (as torchvision does). */
    private static final String RESNET_BLOCKS = """
            graph @resblocks(%x: f32[N, 4, 8, 8]) weights(@a1: f32[4, 4, 3, 3], @a2: f32[4, 4, 3, 3], @b1: f32[8, 4, 3, 3], @b2: f32[8, 8, 3, 3], @ds: f32[8, 4, 1, 1], @m4: f32[4], @v4: f32[4], @g4: f32[4], @s4: f32[4], @m8: f32[8], @v8: f32[8], @g8: f32[8], @s8: f32[8]) {
              %0 = conv2d(%x, @a1) {padding = [1, 1]} : f32[N, 4, 8, 8]
              %1 = batch_norm(%0, @m4, @v4, @g4, @s4) : f32[N, 4, 8, 8]
              %2 = relu(%1) : f32[N, 4, 8, 8]
              %3 = conv2d(%2, @a2) {padding = [1, 1]} : f32[N, 4, 8, 8]
              %4 = batch_norm(%3, @m4, @v4, @g4, @s4) : f32[N, 4, 8, 8]
              %5 = add(%4, %x) : f32[N, 4, 8, 8]
              %6 = relu(%5) : f32[N, 4, 8, 8]
              %7 = conv2d(%6, @b1) {stride = [2, 2], padding = [1, 1]} : f32[N, 8, 4, 4]
              %8 = batch_norm(%7, @m8, @v8, @g8, @s8) : f32[N, 8, 4, 4]
              %9 = relu(%8) : f32[N, 8, 4, 4]
              %10 = conv2d(%9, @b2) {padding = [1, 1]} : f32[N, 8, 4, 4]
              %11 = batch_norm(%10, @m8, @v8, @g8, @s8) : f32[N, 8, 4, 4]
              %12 = conv2d(%6, @ds) {stride = [2, 2]} : f32[N, 8, 4, 4]
              %13 = batch_norm(%12, @m8, @v8, @g8, @s8) : f32[N, 8, 4, 4]
              %14 = add(%11, %13) : f32[N, 8, 4, 4]
              %15 = relu(%14) : f32[N, 8, 4, 4]
              return(%15)
            }
            """;

    /**
     * O2 folds each BatchNorm into its convolution, fuses the first conv of a block with its relu and the second
     * with the shortcut add and relu (a residual {@code conv2d_act}); the planned run is bit-identical to the
     * interpreter on the same optimised graph, and no residual shares bytes with the fused op's result.
     */
    @Test
    void o2ResNetBlocksFuseTheResidualAndRunInTheirPlan() {
        Graph g = IrParser.parse(RESNET_BLOCKS);
        Random random = new Random(11);
        List<Object> inputs = GraphTesting.randomInputs(g, BATCH, random);
        Map<String, NDArray> weights = GraphTesting.randomWeights(g, BATCH, random);
        for (String v : List.of("v4", "v8")) {
            NDArray var = weights.get(v);
            for (long i = 0; i < var.numel(); i++) var.setFlat(i, 0.5 + Math.abs(var.getFlat(i)));
        }
        List<Object> unfused = Interpreter.run(g, inputs, weights);
        Optimize.Result o2 = Optimize.o2(IrParser.parse(RESNET_BLOCKS), weights, Map.of("N", BATCH), true);
        List<Op> ops = o2.graph().body().ops();
        assertEquals(List.of("conv2d_act", "conv2d_act", "conv2d_act", "conv2d", "conv2d_act", "return"), ops.stream().map(Op::name).toList(),
                o2.explain());
        assertEquals(2, ops.stream().filter(op -> op.name().equals("conv2d_act") && op.boolAttr("residual")).count());
        GraphTesting.assertClose(unfused, Interpreter.run(o2.graph(), inputs, o2.weights()));
        Map<dev.kiln.ir.Value, MemoryPlan.Buffer> buffers = new java.util.IdentityHashMap<>();
        for (MemoryPlan.Buffer b : o2.plan().buffers()) buffers.put(b.value(), b);
        int planned = 0;
        for (Op op : ops) {
            if (!op.name().equals("conv2d_act") || !op.boolAttr("residual")) continue;
            MemoryPlan.Buffer out = buffers.get(op.result()), residual = buffers.get(op.operand(op.operandCount() - 1));
            if (residual == null) continue; // the graph input %x is not in the arena
            planned++;
            assertEquals(null, out.inPlaceOf());
            assertTrue(out.offset() + out.size() <= residual.offset() || residual.offset() + residual.size() <= out.offset(),
                    "the residual " + residual + " and the fused result " + out + " must not share bytes");
        }
        assertEquals(1, planned);
        PlannedExecutable exe = PlannedExecutable.of(o2);
        List<Object> expected = Interpreter.run(o2.graph(), inputs, o2.weights());
        GraphTesting.assertSameOutputs(expected, exe.run(inputs, o2.weights()), true);
        GraphTesting.assertSameOutputs(expected, exe.run(inputs, o2.weights()), true);
        assertEquals(0, exe.lastRun().relocated());
    }

    private static boolean fusedWithActivation(Op op) {
        return (op.name().equals("linear_act") || op.name().equals("conv2d_act"))
                && !((Attribute.Str) op.attr("activation")).value().equals("none");
    }

    @Test
    void runsReuseTheArenaAndEarlierOutputsStayValid() {
        Graph g = IrParser.parse(MLP);
        Random random = new Random(3);
        Map<String, NDArray> weights = GraphTesting.randomWeights(g, 2, random);
        List<Object> a = GraphTesting.randomInputs(g, 2, random), b = GraphTesting.randomInputs(g, 2, random);
        PlannedExecutable exe = PlannedExecutable.plan(g, Map.of("N", 2L));
        NDArray first = (NDArray) exe.run(a, weights).get(0);
        float[] firstValues = first.toFloatArray();
        NDArray second = (NDArray) exe.run(b, weights).get(0);
        NDArray third = (NDArray) exe.run(a, weights).get(0);
        assertArrayEquals(firstValues, first.toFloatArray(), "a later run must not change an earlier run's output");
        assertArrayEquals(firstValues, third.toFloatArray());
        GraphTesting.assertSameOutputs(Interpreter.run(g, b, weights), List.of(second), true);
    }

    @Test
    void inputsOfOtherSizesAreRefusedWithTheSizesPlanned() {
        Graph g = IrParser.parse(MLP);
        Random random = new Random(4);
        PlannedExecutable exe = PlannedExecutable.plan(g, Map.of("N", 2L));
        InputMismatchException e = assertThrows(InputMismatchException.class,
                () -> exe.run(GraphTesting.randomInputs(g, 3, random), GraphTesting.randomWeights(g, 3, random)));
        assertTrue(e.getMessage().contains("input 0 expected f32[N, 784], got f32[3, 784]")
                && e.getMessage().contains("planned for sizes {N=2}: plan again"), e.getMessage());
    }

    @Test
    void anExecutableWhoseScopeClosedRefusesToRun() {
        Graph g = IrParser.parse(MLP);
        PlannedExecutable exe;
        try (MemoryScope _ = MemoryScope.open()) {
            exe = PlannedExecutable.plan(g, Map.of("N", 1L));
        }
        Random random = new Random(5);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> exe.run(GraphTesting.randomInputs(g, 1, random), GraphTesting.randomWeights(g, 1, random)));
        assertTrue(e.getMessage().contains("MemoryScope that has closed"), e.getMessage());
    }

    @Test
    void anO2ResultWithoutAPlanSaysWhy() {
        Optimize.Result o2 = Optimize.o2(IrParser.parse(MLP), Map.of(), Map.of(), false);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> PlannedExecutable.of(o2));
        assertTrue(e.getMessage().contains("has no memory plan") && e.getMessage().contains("symbolic dim N"), e.getMessage());
    }

    @Test
    void anUnsoundPlanIsRefused() {
        Graph g = IrParser.parse(MLP);
        MemoryPlan good = MemoryPlanner.plan(g, Map.of("N", 1L));
        List<MemoryPlan.Buffer> bs = new java.util.ArrayList<>(good.buffers());
        MemoryPlan.Buffer first = bs.get(0), second = bs.get(2);
        bs.set(2, new MemoryPlan.Buffer(second.value(), first.offset(), second.size(), second.defStep(), second.lastUse(), null));
        MemoryPlan bad = new MemoryPlan(bs, good.views(), good.bindings(), good.peakBytes(), good.lowerBound(), good.naiveBytes(), good.steps());
        assertThrows(IllegalStateException.class, () -> PlannedExecutable.of(g, bad));
    }
}
