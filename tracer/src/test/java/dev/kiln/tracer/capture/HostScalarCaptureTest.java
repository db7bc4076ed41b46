package dev.kiln.tracer.capture;

import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import dev.kiln.ir.DType;
import dev.kiln.ir.IrParser;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.TensorType;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Java values computed from tensor data become host-scalar IR ops; captured == eager. */
class HostScalarCaptureTest {

    static final TensorType X = TensorType.of(DType.F32, 2, 4);
    static final CompiledFunction COUNTED = compile("countedLoop");

    static CompiledFunction compile(String name) { return Capture.compileStatic(HostScalarModels.class, name, X); }

    /** Values near {@code shift} (small noise), so the sum is about 8 * shift. */
    static Tensor input(long seed, double shift) { return Tensor.randn(new Generator(seed), 2, 4).mul(0.05).add(shift); }

    static void assertMatches(UnaryOperator<Tensor> eager, CompiledFunction f, Tensor x) {
        Tensor e = eager.apply(x), c = f.call(x);
        assertArrayEquals(e.shape(), c.shape());
        assertArrayEquals(e.toFloatArray(), c.toFloatArray(), 1e-6f, () -> "input sum " + x.sum().item());
    }

    /** Capture fails with a message starting at the line of HostScalarModels.java marked {@code // MARK:marker}. */
    static void assertRejected(Runnable capture, String method, String marker, String construct) {
        CaptureException e = assertThrows(CaptureException.class, capture::run);
        int line = 0;
        try {
            var lines = java.nio.file.Files.readAllLines(java.nio.file.Path.of("src/test/java/dev/kiln/tracer/capture/HostScalarModels.java"));
            for (int i = 0; i < lines.size(); i++) if (lines.get(i).contains("// MARK:" + marker)) line = i + 1;
        } catch (java.io.IOException ex) {
            throw new java.io.UncheckedIOException(ex);
        }
        String where = method + " (HostScalarModels.java:" + line + ")";
        assertTrue(e.getMessage().startsWith(where), "expected '" + where + "' first in:\n" + e.getMessage());
        assertTrue(e.getMessage().contains(construct), "expected '" + construct + "' in:\n" + e.getMessage());
    }

    @Test
    void dataDependentCountedLoopBecomesALoopWithAHostIntCounter() {
        String ir = IrPrinter.print(COUNTED.graph());
        assertEquals(1, CaptureTest.count(COUNTED.graph(), "loop"), ir);
        assertTrue(ir.contains("scalar_cast") && ir.contains("scalar_lt") && ir.contains("scalar_add"), ir);
        assertEquals(ir, IrPrinter.print(IrParser.parse(ir)));
        Set<Integer> trips = new HashSet<>();
        for (double shift : new double[] {-1, 0.01, 0.13, 0.26, 0.4, 0.6}) {
            Tensor x = input(3, shift);
            trips.add(Math.max(0, (int) x.sum().item()));
            assertMatches(HostScalarModels::countedLoop, COUNTED, x);
        }
        assertTrue(trips.size() >= 4, "trip counts exercised: " + trips);
    }

    @Test
    void loopCounterUsedAsATensorOperand() {
        CompiledFunction f = compile("counterInBody");
        assertTrue(IrPrinter.print(f.graph()).contains("tensor_from_scalar"), IrPrinter.print(f.graph()));
        for (double shift : new double[] {0.01, 0.2, 0.5, -0.7}) assertMatches(HostScalarModels::counterInBody, f, input(5, shift));
    }

    @Test
    void javaIntChosenByADataDependentBranchIsMerged() {
        CompiledFunction f = compile("mergedInt");
        assertEquals(2, CaptureTest.count(f.graph(), "if"), IrPrinter.print(f.graph()));
        assertMatches(HostScalarModels::mergedInt, f, input(1, 1));
        assertMatches(HostScalarModels::mergedInt, f, input(1, -1));
    }

    @Test
    void javaDoubleAccumulatedPerArmIsMerged() {
        CompiledFunction f = compile("mergedDouble");
        for (double shift : new double[] {1, 0.2, -2}) assertMatches(HostScalarModels::mergedDouble, f, input(2, shift));
    }

    @Test
    void loopInsideABranchWithACounterMergedOut() {
        CompiledFunction f = compile("nested");
        for (double shift : new double[] {-1, 0.1, 0.5, 1.2}) assertMatches(HostScalarModels::nested, f, input(4, shift));
    }

    @Test
    void whileLoopCountingItsIterations() {
        CompiledFunction f = compile("whileCount");
        for (double shift : new double[] {-1, 0.1, 0.3, 0.7}) assertMatches(HostScalarModels::whileCount, f, input(6, shift));
    }

    @Test
    void intArithmeticWrapsAndDoubleToIntSaturatesAsInJava() {
        CompiledFunction f = compile("wrapping");
        for (double shift : new double[] {-3, -0.02, 0.01, 0.03, 0.1, 1, 50}) assertMatches(HostScalarModels::wrapping, f, input(7, shift));
    }

    @Test
    void formerlyRejectedLoopCounterAndItemArgumentNowCapture() {
        CompiledFunction counter = Capture.compileStatic(CaptureModels.class, "loopCounter", X);
        for (double shift : new double[] {-1, 0.1, 0.4}) assertMatches(CaptureModels::loopCounter, counter, input(8, shift));
        CompiledFunction itemArg = Capture.compileStatic(CaptureModels.class, "itemAsArgument", X);
        for (double shift : new double[] {-1, 0.5}) assertMatches(CaptureModels::itemAsArgument, itemArg, input(9, shift));
    }

    @Test
    void floatLocalsDifferingBetweenArmsAreStillRejected() {
        assertRejected(() -> compile("floatLocal"), "HostScalarModels.floatLocal", "floatlocal", "holds 2.0 and 1.0");
    }

    @Test
    void integerDivisionOnDataIsRejected() {
        assertRejected(() -> compile("intDivision"), "HostScalarModels.intDivision", "intdiv", "the arithmetic instruction");
    }

    @Test
    void breakInADataDependentLoopIsStillRejected() {
        assertRejected(() -> compile("breakInCountedLoop"), "HostScalarModels.breakInCountedLoop", "break",
                "break statements in data-dependent loops");
    }

    @Property(tries = 40)
    void countedLoopMatchesEager(@ForAll long seed, @ForAll @DoubleRange(min = -1, max = 0.8) double shift) {
        assertMatches(HostScalarModels::countedLoop, COUNTED, input(seed, shift));
    }
}
