package dev.kiln.tracer.capture;

import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import dev.kiln.ir.DType;
import dev.kiln.ir.TensorType;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** Captured == eager on random inputs, for methods whose control flow depends on the data. */
class CapturePropertyTest {

    static final TensorType X = TensorType.of(DType.F32, 2, 4);
    static final CaptureModels.NestedIfs NESTED;
    static final CompiledFunction NESTED_CAPTURED;
    static final CompiledFunction HALVE = Capture.compileStatic(CaptureModels.class, "halve", X);
    static final CompiledFunction BRANCH_IN_LOOP = Capture.compileStatic(CaptureModels.class, "branchInLoop", X);

    static {
        Generator.manualSeed(11);
        NESTED = new CaptureModels.NestedIfs();
        NESTED_CAPTURED = Capture.compile(NESTED, X);
    }

    /**
     * Eager runs the compiled path's GEMM and the captured function the reference kernels, which sum in another
     * order: a few ulps apart on these small values.
     */
    static final float TOLERANCE = 1e-4f;

    static Tensor input(long seed, double shift, double scale) {
        return Tensor.randn(new Generator(seed), 2, 4).mul(scale).add(shift);
    }

    @Property(tries = 60)
    void nestedDataDependentIfsMatchEager(@ForAll long seed, @ForAll @DoubleRange(min = -3, max = 3) double shift,
                                          @ForAll @DoubleRange(min = 0.01, max = 4) double scale) {
        Tensor x = input(seed, shift, scale);
        assertArrayEquals(NESTED.forward(x).toFloatArray(), NESTED_CAPTURED.call(x).toFloatArray(), TOLERANCE);
    }

    @Property(tries = 40)
    void dataDependentLoopMatchesEager(@ForAll long seed, @ForAll @DoubleRange(min = -3, max = 3) double shift,
                                       @ForAll @DoubleRange(min = 0.01, max = 100) double scale) {
        Tensor x = input(seed, shift, scale);
        assertArrayEquals(CaptureModels.halve(x).toFloatArray(), HALVE.call(x).toFloatArray(), TOLERANCE);
    }

    @Property(tries = 40)
    void branchInsideUnrolledLoopMatchesEager(@ForAll long seed, @ForAll @DoubleRange(min = -2, max = 2) double shift) {
        Tensor x = input(seed, shift, 1);
        assertArrayEquals(CaptureModels.branchInLoop(x).toFloatArray(), BRANCH_IN_LOOP.call(x).toFloatArray(), TOLERANCE);
    }
}
