package dev.kiln.tracer.capture;

import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.Module;
import dev.kiln.ir.DType;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Op;
import dev.kiln.ir.TensorType;
import dev.kiln.runtime.InputMismatchException;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Captured graphs compute what the eager Java computes, on inputs that take every branch. */
class CaptureTest {

    static final TensorType X = TensorType.of(DType.F32, 2, 4);

    static Tensor input(long seed, double shift) {
        return Tensor.randn(new Generator(seed), 2, 4).add(shift);
    }

    /** Op names in the graph, regions included, in order. */
    static List<String> opNames(Graph g) {
        List<String> out = new ArrayList<>();
        collect(g.body().ops(), out);
        return out;
    }

    private static void collect(List<Op> ops, List<String> out) {
        for (Op op : ops) {
            out.add(op.name());
            for (var region : op.regions()) collect(region.ops(), out);
        }
    }

    static long count(Graph g, String op) { return opNames(g).stream().filter(op::equals).count(); }

    static void assertSame(Tensor eager, Tensor captured) {
        assertArrayEquals(eager.shape(), captured.shape());
        assertArrayEquals(eager.toFloatArray(), captured.toFloatArray(), 1e-6f);
    }

    static void assertMatches(Module m, CompiledFunction f, Tensor... xs) {
        for (Tensor x : xs) assertSame(m.forward(x), f.call(x));
    }

    static void assertMatches(UnaryOperator<Tensor> eager, CompiledFunction f, Tensor... xs) {
        for (Tensor x : xs) assertSame(eager.apply(x), f.call(x));
    }

    @Test
    void straightLineCodeWithASubmoduleBecomesOpsAndNamedWeights() {
        Generator.manualSeed(1);
        var m = new CaptureModels.Straight();
        CompiledFunction f = Capture.compile(m, X);
        assertEquals(List.of("linear", "relu", "constant", "mul", "return"), opNames(f.graph()));
        assertEquals(List.of("fc.weight", "fc.bias"), List.copyOf(f.weights().keySet()));
        assertMatches(m, f, input(1, 0), input(2, 1));
    }

    @Test
    void ownMethodsSubmoduleMethodsAndStaticHelpersAreInlined() {
        Generator.manualSeed(2);
        var m = new CaptureModels.WithHelpers();
        CompiledFunction f = Capture.compile(m, "forward", X);
        assertEquals(List.of("linear", "tanh", "linear", "add", "constant", "mul", "return"), opNames(f.graph()));
        assertTrue(f.weights().containsKey("block.fc.weight"));
        assertMatches(m, f, input(3, 0));
    }

    @Test
    void branchOnAConcreteConfigFieldIsFoldedAndRecorded() {
        CompiledFunction relu = Capture.compile(new CaptureModels.ConfigBranch(true), X);
        CompiledFunction neg = Capture.compile(new CaptureModels.ConfigBranch(false), X);
        assertEquals(List.of("relu", "return"), opNames(relu.graph()));
        assertEquals(List.of("neg", "return"), opNames(neg.graph()));
        assertTrue(relu.guards().stream().anyMatch(g -> g.field().getName().equals("useRelu") && g.value().equals(true)));
    }

    @Test
    void dataDependentBranchBecomesAnIfOpThatTakesEitherArm() {
        var m = new CaptureModels.DataBranch();
        CompiledFunction f = Capture.compile(m, X);
        assertEquals(1, count(f.graph(), "if"));
        assertEquals(1, count(f.graph(), "relu"));
        assertEquals(1, count(f.graph(), "neg"));
        Tensor positive = input(4, 3), negative = input(5, -3);
        assertTrue(positive.sum().item() > 0 && negative.sum().item() < 0);
        assertMatches(m, f, positive, negative);
    }

    @Test
    void loopOverAConcreteListOfLayersIsUnrolled() {
        Generator.manualSeed(3);
        var m = new CaptureModels.Layers();
        CompiledFunction f = Capture.compile(m, X);
        assertEquals(3, count(f.graph(), "linear"));
        assertEquals(0, count(f.graph(), "loop"));
        assertTrue(f.weights().keySet().containsAll(List.of("layers.0.weight", "layers.1.weight", "layers.2.bias")));
        assertMatches(m, f, input(6, 0));
    }

    @Test
    void nestedDataDependentIfsNest() {
        Generator.manualSeed(4);
        var m = new CaptureModels.NestedIfs();
        CompiledFunction f = Capture.compile(m, X);
        assertEquals(2, count(f.graph(), "if"));
        Op outer = f.graph().body().ops().stream().filter(o -> o.name().equals("if")).findFirst().orElseThrow();
        assertTrue(outer.region(0).ops().stream().anyMatch(o -> o.name().equals("if")), "inner if sits in the then region");
        Tensor big = input(7, 3), smallPositive = Tensor.full(0.5, 2, 4), negative = input(8, -3);
        assertTrue(big.max().item() > 2 && smallPositive.max().item() <= 2);
        assertMatches(m, f, big, smallPositive, negative);
    }

    @Test
    void conditionalOperatorOnTensorDataMergesTheOperandStack() {
        CompiledFunction f = Capture.compileStatic(CaptureModels.class, "ternary", X);
        assertEquals(1, count(f.graph(), "if"));
        assertMatches(CaptureModels::ternary, f, input(9, 2), input(10, -2), Tensor.full(0.5, 2, 4));
    }

    @Test
    void earlyReturnInsideADataDependentBranchMergesAtTheExit() {
        CompiledFunction f = Capture.compileStatic(CaptureModels.class, "earlyReturn", X);
        assertEquals(1, count(f.graph(), "if"));
        assertEquals("if", f.graph().outputs().get(0).definingOp().name());
        assertMatches(CaptureModels::earlyReturn, f, input(11, 2), input(12, -2));
    }

    @Test
    void dataDependentWhileLoopBecomesALoopOp() {
        CompiledFunction f = Capture.compileStatic(CaptureModels.class, "halve", X);
        assertEquals(1, count(f.graph(), "loop"));
        assertMatches(CaptureModels::halve, f, input(13, 0), input(14, 5), Tensor.full(0.01, 2, 4));
    }

    @Test
    void concreteCountedLoopIsUnrolled() {
        CompiledFunction f = Capture.compileStatic(CaptureModels.class, "concreteLoop", X);
        assertEquals(3, count(f.graph(), "add"));
        assertEquals(0, count(f.graph(), "loop"));
        assertMatches(CaptureModels::concreteLoop, f, input(15, 0));
    }

    @Test
    void arithmeticOnItemValuesBecomesF64TensorOps() {
        CompiledFunction f = Capture.compileStatic(CaptureModels.class, "scalarArithmetic", X);
        assertEquals(1, count(f.graph(), "if"));
        assertTrue(count(f.graph(), "cast") >= 1);
        // sum 0.5 exactly: 0.5 * 2 - 1 == 0, not > 0; a hair above takes the other arm.
        assertMatches(CaptureModels::scalarArithmetic, f, Tensor.full(0.0625, 2, 4), Tensor.full(0.07, 2, 4), input(16, -1));
    }

    @Test
    void comparisonOfTwoInputsDataSelectsBetweenThem() {
        CompiledFunction f = Capture.compileStatic(CaptureModels.class, "pick", X, X);
        assertEquals(List.of("a", "b"), f.graph().inputs().stream().map(v -> v.name()).toList());
        Tensor a = input(17, 1), b = input(18, -1);
        assertSame(CaptureModels.pick(a, b), f.call(a, b));
        assertSame(CaptureModels.pick(b, a), f.call(b, a));
    }

    @Test
    void dataDependentBranchInsideAnUnrolledLoopIsCapturedPerIteration() {
        CompiledFunction f = Capture.compileStatic(CaptureModels.class, "branchInLoop", X);
        assertEquals(2, count(f.graph(), "if"));
        assertMatches(CaptureModels::branchInLoop, f, input(19, 0.3), input(20, -0.6), input(21, 3));
    }

    @Test
    void arraysListsAndFunctionalCallsRunConcretely() {
        CompiledFunction f = Capture.compileStatic(CaptureModels.class, "arraysAndLists", X);
        assertEquals(List.of("relu", "neg", "concat", "return"), opNames(f.graph()).stream()
                .map(n -> n.equals("cat") ? "concat" : n).toList());
        assertMatches(CaptureModels::arraysAndLists, f, input(22, 0));
        CompiledFunction g = Capture.compileStatic(CaptureModels.class, "functional", X, TensorType.of(DType.F32, 4, 4));
        Tensor x = input(23, 0), w = Tensor.randn(new Generator(24), 4, 4);
        assertSame(CaptureModels.functional(x, w), g.call(x, w));
    }

    @Test
    void callRefusesInputsOfOtherTypes() {
        CompiledFunction f = Capture.compile(new CaptureModels.DataBranch(), X);
        var e = assertThrows(InputMismatchException.class, () -> f.call(Tensor.zeros(3, 4)));
        assertTrue(e.getMessage().contains("was made for [f32[2, 4]]; capture it again"), e.getMessage());
    }

    @Test
    void symbolicInputDimsWork() {
        CompiledFunction f = Capture.compile(new CaptureModels.DataBranch(),
                TensorType.of(DType.F32, dev.kiln.ir.Dim.sym("N"), dev.kiln.ir.Dim.of(4)));
        for (long n : new long[] {1, 7, 64}) {
            Tensor x = Tensor.randn(new Generator(n), n, 4);
            assertSame(new CaptureModels.DataBranch().forward(x), f.call(x));
        }
    }
}
