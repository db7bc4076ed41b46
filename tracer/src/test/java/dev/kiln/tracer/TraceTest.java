package dev.kiln.tracer;

import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.Linear;
import dev.kiln.frontend.nn.Module;
import dev.kiln.frontend.nn.ReLU;
import dev.kiln.frontend.nn.Sequential;
import dev.kiln.ir.IrPrinter;
import dev.kiln.runtime.InputMismatchException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TraceTest {

    static final class TwoLayer extends Module {
        final Linear fc1 = new Linear(4, 3);
        final Linear fc2 = new Linear(3, 2);
        final Linear unused = new Linear(2, 2);

        @Override
        public Tensor forward(Tensor x) { return fc2.forward(fc1.forward(x).relu()).softmax(-1); }
    }

    @Test
    void traceRecordsOpsAndUsedParametersAsNamedWeights() {
        Generator.manualSeed(3);
        TracedFunction f = Kiln.trace(new TwoLayer(), TraceOptions.defaults().dynamic(0, 0, "N"), Tensor.zeros(5, 4));
        assertEquals("""
                graph @twoLayer(%x: f32[N, 4]) weights(@fc1.weight: f32[3, 4], @fc1.bias: f32[3], @fc2.weight: f32[2, 3], @fc2.bias: f32[2]) {
                  %0 = linear(%x, @fc1.weight, @fc1.bias) : f32[N, 3]
                  %1 = relu(%0) : f32[N, 3]
                  %2 = linear(%1, @fc2.weight, @fc2.bias) : f32[N, 2]
                  %3 = softmax(%2) {axis = -1} : f32[N, 2]
                  return(%3)
                }
                """, IrPrinter.print(f.graph()));
        assertEquals(List.of("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"), List.copyOf(f.weights().keySet()));
    }

    @Test
    void dynamicBatchRunsAtOtherSizesAndMatchesEager() {
        Generator.manualSeed(4);
        Module model = new Sequential(new Linear(6, 8), new ReLU(), new Linear(8, 3));
        TracedFunction f = Kiln.trace(model, TraceOptions.defaults().dynamic(0, 0, "N"), Tensor.zeros(2, 6));
        for (long n : new long[] {1, 7, 64}) {
            Tensor x = Tensor.randn(new Generator(n), n, 6);
            assertArrayEquals(model.forward(x).toFloatArray(), f.call(x).toFloatArray(), 1e-6f);
        }
    }

    @Test
    void callingWithAnotherShapeIsAClearError() {
        TracedFunction f = Kiln.trace(new Sequential(new Linear(4, 2)), Tensor.zeros(3, 4));
        InputMismatchException e = assertThrows(InputMismatchException.class, () -> f.call(Tensor.zeros(5, 4)));
        assertTrue(e.getMessage().contains("expected f32[3, 4], got f32[5, 4]"), e.getMessage());
        assertTrue(e.getMessage().contains("TraceOptions.dynamic"), e.getMessage());
    }

    @Test
    void callingWithAnotherDtypeIsAClearError() {
        TracedFunction f = Kiln.trace(new Sequential(new ReLU()), Tensor.zeros(3));
        InputMismatchException e = assertThrows(InputMismatchException.class, () -> f.call(Tensor.zeros(dev.kiln.ir.DType.F64, 3)));
        assertTrue(e.getMessage().contains("expected f32[3], got f64[3]"), e.getMessage());
    }

    static final class ReturnsNumber extends Module {
        @Override
        public Object call(Tensor... inputs) { return inputs[0].sum().relu().numel(); }
    }

    @Test
    void tracingAModuleWhoseOutputIsNotATensorFails() {
        TraceException e = assertThrows(TraceException.class, () -> Kiln.trace(new ReturnsNumber(), Tensor.zeros(3)));
        assertTrue(e.getMessage().contains("returned java.lang.Long"), e.getMessage());
        assertTrue(e.getMessage().contains("must return a Tensor"), e.getMessage());
    }

    static final class BranchesOnData extends Module {
        @Override
        public Tensor forward(Tensor x) {
            if (x.sum().item() > 0) return x.relu(); // data reaches a Java branch here
            return x.neg();
        }
    }

    @Test
    void readingTensorDataWhileTracingNamesTheSourceLine() {
        TraceException e = assertThrows(TraceException.class, () -> Kiln.trace(new BranchesOnData(), Tensor.ones(3)));
        assertTrue(e.getMessage().contains("BranchesOnData.forward (TraceTest.java:"), e.getMessage());
        assertTrue(e.getMessage().contains("item()"), e.getMessage());
    }

    @Test
    void capturedTensorsBecomeConstants() {
        Tensor offset = Tensor.of(new float[] {1, 2, 3}, 3);
        TracedFunction f = Kiln.trace("shift", xs -> xs[0].add(offset), TraceOptions.defaults(), Tensor.zeros(3));
        assertTrue(IrPrinter.print(f.graph()).contains("constant() {value = dense<f32[3]: [1.0, 2.0, 3.0]>}"), IrPrinter.print(f.graph()));
        assertArrayEquals(new float[] {2, 3, 4}, f.call(Tensor.ones(3)).toFloatArray());
    }

    @Test
    void severalOutputsAreReturnedInOrder() {
        TracedFunction f = Kiln.trace("pair", xs -> List.of(xs[0].relu(), xs[0].neg()), TraceOptions.defaults(), Tensor.zeros(2));
        List<Tensor> out = f.callAll(Tensor.of(new float[] {-1, 2}, 2));
        assertArrayEquals(new float[] {0, 2}, out.get(0).toFloatArray());
        assertArrayEquals(new float[] {1, -2}, out.get(1).toFloatArray());
    }

    /**
     * The second trace that finds symbolic sizes computes nothing (ops yield placeholder zeros); where placeholder
     * data would reach Java or a real tensor, the run is repeated for real, with the same graph and side effects as
     * before.
     */
    @Test
    void symbolicSizesAreFoundWithoutComputingUnlessDataIsNeeded() {
        Generator.manualSeed(5);
        TwoLayer model = new TwoLayer();
        long before = dev.kiln.runtime.EagerKernels.runs();
        TracedFunction f = Kiln.trace(model, TraceOptions.defaults().dynamic(0, 0, "N"), Tensor.zeros(5, 4));
        assertEquals(4, dev.kiln.runtime.EagerKernels.runs() - before, "only the first trace runs kernels");
        Tensor x = Tensor.randn(new Generator(1), 3, 4);
        assertArrayEquals(model.forward(x).toFloatArray(), f.call(x).toFloatArray(), 1e-6f);

        Tensor outside = Tensor.zeros(1);
        TracedFunction writes = Kiln.trace("writes", in -> {
            outside.copy_(in[0].sum().add(5));
            return in[0].relu();
        }, TraceOptions.defaults().dynamic(0, 0, "N"), Tensor.zeros(2, 3));
        assertEquals(5.0, outside.item(), "an outside tensor gets computed data, never placeholder zeros");
        assertArrayEquals(new float[] {0, 1, 0}, writes.call(Tensor.of(new float[] {-1, 1, 0}, 1, 3)).toFloatArray());

        before = dev.kiln.runtime.EagerKernels.runs();
        TracedFunction reads = Kiln.trace("reads", in -> in[0].mul(in[0].sum().item() >= 0 ? 2.0 : 3.0),
                TraceOptions.defaults().dynamic(0, 0, "N").bakeDataReads(true), Tensor.ones(2, 3));
        assertTrue(dev.kiln.runtime.EagerKernels.runs() - before >= 4, "a data read makes the second trace run for real");
        assertArrayEquals(new float[] {2, 2, 2}, reads.call(Tensor.ones(1, 3)).toFloatArray());
    }
}
