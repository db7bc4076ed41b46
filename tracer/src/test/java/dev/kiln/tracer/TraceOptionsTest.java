package dev.kiln.tracer;

import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.BatchNorm2d;
import dev.kiln.frontend.nn.Conv2d;
import dev.kiln.frontend.nn.Flatten;
import dev.kiln.frontend.nn.GELU;
import dev.kiln.frontend.nn.Linear;
import dev.kiln.frontend.nn.Module;
import dev.kiln.frontend.nn.Sequential;
import dev.kiln.frontend.nn.TransformerEncoderLayer;
import dev.kiln.ir.IrPrinter;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TraceOptionsTest {

    @Test
    void freezeTurnsWeightsIntoConstants() {
        Generator.manualSeed(1);
        Module model = new Sequential(new Linear(3, 2));
        TracedFunction frozen = Kiln.trace(model, TraceOptions.defaults().freeze(true), Tensor.zeros(1, 3));
        assertTrue(frozen.graph().weights().isEmpty());
        assertTrue(IrPrinter.print(frozen.graph()).contains("constant()"));
        Tensor x = Tensor.randn(new Generator(2), 1, 3);
        assertArrayEquals(model.forward(x).toFloatArray(), frozen.call(x).toFloatArray());
    }

    static final class BranchesOnData extends Module {
        @Override
        public Tensor forward(Tensor x) {
            if (x.sum().item() > 0) return x.relu(); // the baked branch
            return x.neg();
        }
    }

    @Test
    void bakingDataReadsIsAnExplicitOptInWithAWarning() {
        TracedFunction f = Kiln.trace(new BranchesOnData(), TraceOptions.defaults().bakeDataReads(true), Tensor.ones(2));
        assertEquals(1, f.warnings().size());
        assertTrue(f.warnings().get(0).contains("BranchesOnData.forward (TraceOptionsTest.java:"), f.warnings().get(0));
        assertTrue(f.warnings().get(0).contains("baked"), f.warnings().get(0));
        // The graph holds only the arm taken while tracing: that is what baking means.
        Tensor negative = Tensor.of(new float[] {-1, -2}, 2);
        assertArrayEquals(new float[] {0, 0}, f.call(negative).toFloatArray());
        assertArrayEquals(new float[] {1, 2}, new BranchesOnData().forward(negative).toFloatArray());
    }

    static final class FreezesBatchSize extends Module {
        @Override
        public Tensor forward(Tensor x) { return x.reshape(x.dim(0), -1).relu(); }
    }

    static final class KeepsBatchSymbolic extends Module {
        @Override
        public Tensor forward(Tensor x) { return x.flatten(1, -1).relu(); }
    }

    /** Multiplies a size read from a dynamic dim: not a size entry on its own, so it cannot become a symbol. */
    static final class MultipliesBatchSize extends Module {
        @Override
        public Tensor forward(Tensor x) { return x.reshape(x.dim(0) * x.dim(1), -1).relu(); }
    }

    /** Expands a [N, 1, 5] input to the batch size read with dim(0). */
    static final class ExpandsToBatchSize extends Module {
        @Override
        public Tensor forward(Tensor x) { return x.expand(x.dim(0), 3, 5).mul(2.0); }
    }

    /** Two dynamic dims of equal example size, both read into one reshape. */
    static final class ReshapesTwoDims extends Module {
        @Override
        public Tensor forward(Tensor x) { return x.reshape(x.dim(1), x.dim(0), -1); }
    }

    @Test
    void aSizeReadFromADynamicDimBecomesItsSymbol() {
        FreezesBatchSize model = new FreezesBatchSize();
        TracedFunction f = Kiln.trace(model, TraceOptions.defaults().dynamic(0, 0, "N"), Tensor.zeros(2, 3, 4));
        String ir = IrPrinter.print(f.graph());
        assertTrue(ir.contains("reshape(%x) {shape = [N, -1]}"), ir);
        assertTrue(ir.contains("f32[N, 12]"), ir);
        for (int batch : new int[] {1, 5, 9}) {
            Tensor x = Tensor.randn(new Generator(batch), batch, 3, 4);
            assertArrayEquals(model.forward(x).toFloatArray(), f.call(x).toFloatArray());
            assertArrayEquals(new long[] {batch, 12}, f.call(x).shape());
        }
        TracedFunction ok = Kiln.trace(new KeepsBatchSymbolic(), TraceOptions.defaults().dynamic(0, 0, "N"), Tensor.zeros(2, 3, 4));
        assertArrayEquals(new long[] {5, 12}, ok.call(Tensor.ones(5, 3, 4)).shape());
    }

    @Test
    void aProductOfSizesIsStillReported() {
        TraceException e = assertThrows(TraceException.class,
                () -> Kiln.trace(new MultipliesBatchSize(), TraceOptions.defaults().dynamic(0, 0, "N"), Tensor.zeros(2, 3, 4)));
        assertTrue(e.getMessage().contains("depends on the size of a dynamic dim"), e.getMessage());
        assertTrue(e.getMessage().contains("'reshape' has shape entry 0 = 6"), e.getMessage());
        assertTrue(e.getMessage().contains("not the size of a dynamic dim itself"), e.getMessage());
        assertTrue(e.getMessage().contains("rewrites a reshape/expand size that is exactly a dynamic dim"), e.getMessage());
    }

    @Test
    void anExpandToADynamicSizeBecomesItsSymbol() {
        ExpandsToBatchSize model = new ExpandsToBatchSize();
        TracedFunction f = Kiln.trace(model, TraceOptions.defaults().dynamic(0, 0, "B"), Tensor.zeros(2, 1, 5));
        String ir = IrPrinter.print(f.graph());
        assertTrue(ir.contains("expand(%x) {shape = [B, 3, 5]}"), ir);
        for (int batch : new int[] {1, 4}) {
            Tensor x = Tensor.randn(new Generator(batch), batch, 1, 5);
            assertArrayEquals(model.forward(x).toFloatArray(), f.call(x).toFloatArray());
        }
    }

    @Test
    void twoDynamicDimsOfEqualExampleSizeStayDistinct() {
        ReshapesTwoDims model = new ReshapesTwoDims();
        TracedFunction f = Kiln.trace(model, TraceOptions.defaults().dynamic(0, 0, "A").dynamic(0, 1, "B"), Tensor.zeros(3, 3, 2));
        String ir = IrPrinter.print(f.graph());
        assertTrue(ir.contains("{shape = [B, A, -1]}"), ir);
        Tensor x = Tensor.randn(new Generator(3), 4, 5, 2);
        assertArrayEquals(model.forward(x).toFloatArray(), f.call(x).toFloatArray());
        assertArrayEquals(new long[] {5, 4, 2}, f.call(x).shape());
    }

    /** Counts its calls in a buffer, an update that does not depend on the input's size. */
    static final class CountsCalls extends Module {
        final dev.kiln.frontend.nn.Buffer calls = new dev.kiln.frontend.nn.Buffer(Tensor.zeros(1));

        @Override
        public Tensor forward(Tensor x) {
            calls.add_(1.0);
            return x.mul(2.0);
        }
    }

    @Test
    void theFrozenSizeCheckLeavesBuffersAsOneRunLeftThem() {
        CountsCalls model = new CountsCalls();
        Kiln.trace(model, TraceOptions.defaults().dynamic(0, 0, "N"), Tensor.zeros(3, 2));
        assertArrayEquals(new float[] {1}, model.calls.toFloatArray());
    }

    @Test
    void trainingModeBatchNormWithADynamicBatchIsReported() {
        Module model = new Sequential(new BatchNorm2d(2));
        TraceException e = assertThrows(TraceException.class,
                () -> Kiln.trace(model, TraceOptions.defaults().dynamic(0, 0, "N"), Tensor.randn(new Generator(4), 3, 2, 2, 2)));
        assertTrue(e.getMessage().contains("depends on the size of a dynamic dim"), e.getMessage());
        model.eval();
        Kiln.trace(model, TraceOptions.defaults().dynamic(0, 0, "N"), Tensor.randn(new Generator(4), 3, 2, 2, 2));
    }

    static final class Mixed extends Module {
        final Sequential features = new Sequential(new Conv2d(3, 4, 3), new BatchNorm2d(4), new GELU(true), new Flatten());
        final TransformerEncoderLayer encoder = new TransformerEncoderLayer(8, 2, 16, 0.1, false, 1e-5, true, true);

        @Override
        public Object call(Tensor... inputs) {
            Tensor image = features.forward(inputs[0]);                  // [N, 4*2*2]
            Tensor tokens = encoder.forward(inputs[1], null, null, true); // [N, L, 8]
            return java.util.List.of(image.softmax(-1), tokens.mean(1, false).logsumexp(-1, true));
        }
    }

    @Test
    void manyOpsTraceAndInterpretLikeEager() {
        Generator.manualSeed(5);
        Mixed model = new Mixed();
        model.eval();
        Tensor image = Tensor.randn(new Generator(6), 2, 3, 4, 4), tokens = Tensor.randn(new Generator(7), 2, 5, 8);
        TracedFunction f = Kiln.trace(model, TraceOptions.defaults().dynamic(0, 0, "N").dynamic(1, 0, "N"), image, tokens);
        for (long n : new long[] {1, 3}) {
            Tensor a = Tensor.randn(new Generator(10 + n), n, 3, 4, 4), b = Tensor.randn(new Generator(20 + n), n, 5, 8);
            @SuppressWarnings("unchecked")
            java.util.List<Tensor> eager = (java.util.List<Tensor>) model.call(a, b);
            java.util.List<Tensor> traced = f.callAll(a, b);
            for (int i = 0; i < 2; i++) assertArrayEquals(eager.get(i).toFloatArray(), traced.get(i).toFloatArray(), 1e-6f);
        }
        assertFalse(f.graph().weights().isEmpty());
    }
}
