package dev.kiln.tracer;

import dev.kiln.frontend.Compile;
import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.Linear;
import dev.kiln.frontend.nn.Module;
import dev.kiln.tracer.capture.CaptureException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CompileTest {

    static final class Gated extends Module {
        final Linear fc = new Linear(4, 3);
        boolean squash = true;   // configuration read as a constant and guarded

        @Compile
        public Tensor forward(Tensor x) {
            Tensor h = fc.forward(x);
            if (h.sum().item() > 0) h = h.relu();   // data-dependent: becomes an if op
            return squash ? h.tanh() : h;
        }
    }

    private static Tensor input(long seed, long... shape) { return Tensor.randn(new Generator(seed), shape); }

    @Test
    void theFirstCallCompilesAndLaterCallsReuseTheGraph() {
        Generator.manualSeed(1);
        Gated model = new Gated();
        Compiled compiled = Kiln.compile(model);
        for (int i = 0; i < 5; i++) {
            Tensor x = input(i, 2, 4);
            assertArrayEquals(model.forward(x).toFloatArray(), compiled.call(x).toFloatArray(), 1e-6f);
        }
        assertEquals(1, compiled.compilations().size(), compiled.compilations().toString());
        compiled.call(input(9, 5, 4));
        assertEquals(2, compiled.compilations().size());
        assertTrue(compiled.compilations().get(1).startsWith("new input types"), compiled.compilations().toString());
    }

    @Test
    void whereTracingBakesABranchCompilingFollowsTheData() {
        Generator.manualSeed(7);
        Gated model = new Gated();
        Tensor first = input(100, 1, 4);
        boolean firstPositive = model.fc.forward(first).sum().item() > 0;
        Tensor other = null;
        for (long seed = 101; other == null; seed++) {
            Tensor x = input(seed, 1, 4);
            if ((model.fc.forward(x).sum().item() > 0) != firstPositive) other = x;
        }
        TracedFunction traced = Kiln.trace(model, TraceOptions.defaults().bakeDataReads(true), first);
        Compiled compiled = Kiln.compile(model);
        float[] eager = model.forward(other).toFloatArray();
        assertTrue(!java.util.Arrays.equals(eager, traced.call(other).toFloatArray()), "the traced graph took the baked arm");
        assertArrayEquals(eager, compiled.call(other).toFloatArray(), 1e-6f);
        assertArrayEquals(model.forward(first).toFloatArray(), compiled.call(first).toFloatArray(), 1e-6f);
    }

    @Test
    void dynamicDimsNeverRecompile() {
        Generator.manualSeed(2);
        Gated model = new Gated();
        Compiled compiled = Kiln.compile(model, null, CompileOptions.defaults().dynamic(0, 0, "N"));
        for (long n : new long[] {1, 7, 64}) {
            Tensor x = input(n, n, 4);
            assertArrayEquals(model.forward(x).toFloatArray(), compiled.call(x).toFloatArray(), 1e-6f);
        }
        assertEquals(1, compiled.compilations().size(), compiled.compilations().toString());
    }

    @Test
    void aSizeReadFromASymbolicDimIsCapturedAsTheSymbol() {
        Compiled f = Kiln.compile((Tensor x) -> x.reshape(x.dim(0), -1).relu(), CompileOptions.defaults().dynamic(0, 0, "N"));
        for (long n : new long[] {1, 5, 9}) {
            Tensor x = input(n, n, 3, 4);
            assertArrayEquals(x.reshape(n, -1).relu().toFloatArray(), f.call(x).toFloatArray());
            assertArrayEquals(new long[] {n, 12}, f.call(x).shape());
        }
        assertEquals(1, f.compilations().size(), f.compilations().toString());
        Compiled product = Kiln.compile((Tensor x) -> x.reshape(x.dim(0) * x.dim(1), -1), CompileOptions.defaults().dynamic(0, 0, "N"));
        CaptureException e = assertThrows(CaptureException.class, () -> product.call(input(1, 2, 3, 4)));
        assertTrue(e.getMessage().contains("not the size of a dynamic dim itself"), e.getMessage());
    }

    @Test
    void aChangedConfigurationFieldRecompiles() {
        Generator.manualSeed(3);
        Gated model = new Gated();
        Compiled compiled = Kiln.compile(model);
        Tensor x = input(4, 2, 4);
        compiled.call(x);
        model.squash = false;
        assertArrayEquals(model.forward(x).toFloatArray(), compiled.call(x).toFloatArray(), 1e-6f);
        assertEquals(2, compiled.compilations().size());
        assertTrue(compiled.compilations().get(1).contains("guard failed: Gated.squash was true, is false"), compiled.compilations().toString());
    }

    @Test
    void theCacheIsBoundedWithAClearError() {
        Compiled compiled = Kiln.compile(new Gated(), null, CompileOptions.defaults().cacheLimit(2));
        compiled.call(input(1, 1, 4));
        compiled.call(input(2, 2, 4));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> compiled.call(input(3, 3, 4)));
        assertTrue(e.getMessage().contains("limit of CompileOptions.cacheLimit (2)"), e.getMessage());
        assertTrue(e.getMessage().contains("Mark changing dims dynamic"), e.getMessage());
    }

    static final class Locks extends Module {
        @Compile
        public Tensor forward(Tensor x) {
            synchronized (this) {
                return x.relu();
            }
        }
    }

    @Test
    void uncapturableMethodsFailUnlessEagerFallbackIsChosen() {
        CaptureException e = assertThrows(CaptureException.class, () -> Kiln.compile(new Locks()).call(input(1, 3)));
        assertTrue(e.getMessage().contains("synchronized"), e.getMessage());
        Compiled fallback = Kiln.compile(new Locks(), null, CompileOptions.defaults().fallbackToEager(true));
        Tensor x = input(2, 3);
        assertArrayEquals(x.relu().toFloatArray(), fallback.call(x).toFloatArray());
        assertNotNull(fallback.fallbackReason());
    }

    @Test
    void lambdasCompile() {
        Compiled f = Kiln.compile((Tensor x) -> x.mul(x).sum(1, false).sqrt(), CompileOptions.defaults());
        Tensor x = input(5, 3, 4);
        assertArrayEquals(x.norm(2, new int[] {1}, false).toFloatArray(), f.call(x).toFloatArray(), 1e-6f);
        Compiled g = Kiln.compile((Tensor a, Tensor b) -> a.sum().item() > b.sum().item() ? a : b, CompileOptions.defaults());
        Tensor small = Tensor.zeros(2), big = Tensor.ones(2);
        assertArrayEquals(big.toFloatArray(), g.call(small, big).toFloatArray());
        assertArrayEquals(big.toFloatArray(), g.call(big, small).toFloatArray());
        Tensor captured = Tensor.ones(2);
        CaptureException e = assertThrows(CaptureException.class, () -> Kiln.compile((Tensor y) -> y.add(captured), CompileOptions.defaults()));
        assertTrue(e.getMessage().contains("captures 1 variable"), e.getMessage());
    }
}
