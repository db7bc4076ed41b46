package dev.kiln.tracer;

import dev.kiln.frontend.Compile;
import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.Linear;
import dev.kiln.frontend.nn.Module;
import dev.kiln.tracer.capture.CaptureException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Traced and compiled code may return several tensors as a record of tensors, flattened in component order. */
class RecordOutputTest {

    record Heads(Tensor logits, Tensor value) {}

    record Tagged(Tensor out, String tag) {}

    static final class TwoHeads extends Module {
        final Linear body = new Linear(4, 3);

        @Override
        public Object call(Tensor... inputs) {
            Tensor h = body.forward(inputs[0]).relu();
            return new Heads(h.softmax(-1), h.sum(1, false));
        }
    }

    static final class ReturnsTagged extends Module {
        @Override
        public Object call(Tensor... inputs) { return new Tagged(inputs[0].relu(), "relu"); }
    }

    static final class CompiledHeads extends Module {
        final Linear fc = new Linear(4, 3);

        @Compile
        public Heads heads(Tensor x) {
            Tensor h = fc.forward(x);
            if (h.sum().item() > 0) return new Heads(h.relu(), h.neg());
            return new Heads(h.neg(), h.exp());
        }
    }

    /** A compile-time failure (synchronized) so that the record comes from the eager fallback. */
    static final class LockedHeads extends Module {
        @Compile
        public Heads heads(Tensor x) {
            synchronized (this) {
                return new Heads(x.relu(), x.neg());
            }
        }
    }

    private static Tensor input(long seed, double shift) { return Tensor.randn(new Generator(seed), 2, 4).add(shift); }

    private static void assertSame(Tensor want, Tensor got) {
        assertArrayEquals(want.shape(), got.shape());
        assertArrayEquals(want.toFloatArray(), got.toFloatArray(), 1e-6f);
    }

    @Test
    void tracingAModuleReturningARecordOutputsItsComponentsInOrder() {
        Generator.manualSeed(11);
        TwoHeads m = new TwoHeads();
        TracedFunction f = Kiln.trace(m, TraceOptions.defaults().dynamic(0, 0, "N"), input(1, 0));
        assertEquals(2, f.graph().outputs().size());
        for (Tensor x : new Tensor[] {input(2, 0), Tensor.randn(new Generator(3), 5, 4)}) {
            Heads want = (Heads) m.call(x);
            List<Tensor> got = f.callAll(x);
            assertEquals(2, got.size());
            assertSame(want.logits(), got.get(0));
            assertSame(want.value(), got.get(1));
        }
    }

    @Test
    void tracingARecordWithANonTensorComponentNamesTheTypeAndComponent() {
        TraceException e = assertThrows(TraceException.class, () -> Kiln.trace(new ReturnsTagged(), Tensor.zeros(3)));
        String m = e.getMessage();
        assertTrue(m.contains("record " + Tagged.class.getName()), m);
        assertTrue(m.contains("component 'tag' (declared String) is a java.lang.String, not a Tensor"), m);
        assertTrue(m.contains("must hold only tensors"), m);
    }

    @Test
    void compiledMethodsReturnRecordsAsTheirComponents() {
        Generator.manualSeed(12);
        CompiledHeads m = new CompiledHeads();
        Compiled c = Kiln.compile(m);
        java.util.Set<Boolean> branches = new java.util.HashSet<>();
        for (long seed = 4; seed < 40 && branches.size() < 2; seed++) {
            Tensor x = input(seed, seed % 2 == 0 ? 2 : -2);
            branches.add(m.fc.forward(x).sum().item() > 0);
            Heads want = m.heads(x);
            List<Tensor> got = c.callAll(x);
            assertEquals(2, got.size());
            assertSame(want.logits(), got.get(0));
            assertSame(want.value(), got.get(1));
        }
        assertEquals(2, branches.size(), "the inputs should take both arms");
        assertNull(c.fallbackReason());
        assertEquals(1, c.compilations().size());
    }

    @Test
    void aRecordMergedInABranchKeepsADynamicBatchDim() {
        Generator.manualSeed(13);
        CompiledHeads m = new CompiledHeads();
        Compiled c = Kiln.compile(m, null, CompileOptions.defaults().dynamic(0, 0, "N"));
        for (long n : new long[] {1, 3, 7}) {
            for (double shift : new double[] {3, -3}) {
                Tensor x = Tensor.randn(new Generator(n), n, 4).add(shift);
                Heads want = m.heads(x);
                List<Tensor> got = c.callAll(x);
                assertSame(want.logits(), got.get(0));
                assertSame(want.value(), got.get(1));
            }
        }
        assertEquals(1, c.compilations().size(), c.compilations().toString());
        assertTrue(dev.kiln.ir.IrPrinter.print(c.select(Tensor.zeros(5, 4)).graph()).contains("f32[N, 3]"));
    }

    @Test
    void theEagerFallbackAcceptsARecordResult() {
        CaptureException e = assertThrows(CaptureException.class, () -> Kiln.compile(new LockedHeads()).callAll(input(7, 0)));
        assertTrue(e.getMessage().contains("synchronized"), e.getMessage());
        Compiled c = Kiln.compile(new LockedHeads(), null, CompileOptions.defaults().fallbackToEager(true));
        Tensor x = input(8, 0);
        List<Tensor> got = c.callAll(x);
        assertNotNull(c.fallbackReason());
        assertEquals(2, got.size());
        assertSame(x.relu(), got.get(0));
        assertSame(x.neg(), got.get(1));
    }
}
