package dev.kiln.tracer.capture;

import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import dev.kiln.ir.DType;
import dev.kiln.ir.TensorType;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Captured methods returning several tensors as a record ({@code return new Pair(a, b)}). */
class RecordCaptureTest {

    static final TensorType X = TensorType.of(DType.F32, 2, 4);

    record Pair(Tensor a, Tensor b) {}

    /** A compact canonical constructor without logic compiles to plain field assignments. */
    record Compact(Tensor a, Tensor b) {
        Compact {}
    }

    /** An explicit canonical constructor assigning the fields in another order than the components. */
    record Explicit(Tensor a, Tensor b) {
        Explicit(Tensor a, Tensor b) {
            this.b = b;
            this.a = a;
        }
    }

    /** A compact constructor that validates: capture would skip it, so it is rejected. */
    record Checked(Tensor a, Tensor b) {
        Checked {
            if (a.rank() != b.rank()) throw new IllegalArgumentException("ranks differ");
        }

        Checked(Tensor a) { this(a, a); }
    }

    record Labelled(Tensor t, int n) {}

    /** A record with a method of its own, and a non-tensor component used only inside the captured code. */
    record Scaled(Tensor t, double k) {
        Tensor apply() { return t.mul(k); }
    }

    // ---- models -----------------------------------------------------------------------------------

    static Pair straight(Tensor x) {
        return new Pair(x.relu(), x.neg());
    }

    static Tensor throughAccessors(Tensor x) {
        Pair p = split(x);
        Scaled s = new Scaled(p.b(), 3.0);
        return p.a().add(s.apply()).add(s.t());
    }

    private static Pair split(Tensor x) { return new Pair(x.tanh(), x.sigmoid()); }

    static Pair branchLocal(Tensor x) {
        Pair p;
        if (x.sum().item() > 0) p = new Pair(x.relu(), x.neg());
        else p = new Pair(x.neg(), x.exp());
        return p;
    }

    static Pair branchReturns(Tensor x) {
        if (x.sum().item() > 0) return new Pair(x.relu(), x.neg());
        return new Pair(x.exp(), x.relu());
    }

    /** Only one component differs between the arms; the other is the same tensor. */
    static Pair branchOneComponent(Tensor x) {
        Tensor shared = x.tanh();
        Pair p = new Pair(shared, x);
        if (x.sum().item() > 0) p = new Pair(shared, x.relu());
        return p;
    }

    static Pair loopCarried(Tensor x) {
        Pair p = new Pair(x.abs(), x);
        while (p.a().sum().item() < 50) p = new Pair(p.a().mul(2.0).add(1.0), p.b().add(p.a()));
        return p;
    }

    static Compact compact(Tensor x) {
        return new Compact(x.relu(), x.neg());
    }

    static Explicit explicit(Tensor x) {
        return new Explicit(x.relu(), x.neg());
    }

    static Checked checked(Tensor x) {
        return new Checked(x.relu(), x.neg()); // MARK:checked
    }

    static Checked nonCanonical(Tensor x) {
        return new Checked(x.relu()); // MARK:nonCanonical
    }

    static Labelled labelled(Tensor x) {
        return new Labelled(x.relu(), 3); // MARK:labelled
    }

    static Tensor recordInList(Tensor x) {
        List<Pair> l = new java.util.ArrayList<>();
        l.add(new Pair(x, x.relu())); // MARK:list
        return l.get(0).a();
    }

    // ---- tests ------------------------------------------------------------------------------------

    static Tensor input(long seed, double shift) { return Tensor.randn(new Generator(seed), 2, 4).add(shift); }

    static void assertSame(Tensor eager, Tensor captured) {
        assertArrayEquals(eager.shape(), captured.shape());
        assertArrayEquals(eager.toFloatArray(), captured.toFloatArray(), 1e-5f);
    }

    static <R extends Record> void assertMatches(Function<Tensor, R> eager, Function<R, List<Tensor>> components, CompiledFunction f,
                                                 Tensor... xs) {
        for (Tensor x : xs) {
            List<Tensor> want = components.apply(eager.apply(x));
            List<Tensor> got = f.callAll(x);
            assertEquals(want.size(), got.size());
            for (int i = 0; i < want.size(); i++) assertSame(want.get(i), got.get(i));
        }
    }

    static List<Tensor> of(Pair p) { return List.of(p.a(), p.b()); }

    @Test
    void aRecordOfTensorsIsReturnedAsItsComponentsInOrder() {
        CompiledFunction f = Capture.compileStatic(RecordCaptureTest.class, "straight", X);
        assertEquals(List.of("relu", "neg", "return"), CaptureTest.opNames(f.graph()));
        Tensor x = input(1, 0);
        List<Tensor> out = f.callAll(x);
        assertEquals(2, out.size());
        assertSame(x.relu(), out.get(0));
        assertSame(x.neg(), out.get(1));
        assertMatches(RecordCaptureTest::straight, RecordCaptureTest::of, f, input(2, 1), input(3, -1));
    }

    @Test
    void accessorsAndRecordMethodsAreInlined() {
        CompiledFunction f = Capture.compileStatic(RecordCaptureTest.class, "throughAccessors", X);
        for (Tensor x : new Tensor[] {input(4, 0), input(5, 2)}) assertSame(throughAccessors(x), f.call(x));
    }

    @Test
    void compactAndExplicitCanonicalConstructorsThatOnlyAssignFieldsAreSupported() {
        CompiledFunction c = Capture.compileStatic(RecordCaptureTest.class, "compact", X);
        assertMatches(RecordCaptureTest::compact, r -> List.of(r.a(), r.b()), c, input(6, 0));
        CompiledFunction e = Capture.compileStatic(RecordCaptureTest.class, "explicit", X);
        assertMatches(RecordCaptureTest::explicit, r -> List.of(r.a(), r.b()), e, input(7, 0));
        Tensor x = input(8, 0);
        assertSame(x.relu(), e.callAll(x).get(0));
    }

    @Test
    void aRecordAssignedInADataDependentBranchIsMergedComponentWise() {
        CompiledFunction f = Capture.compileStatic(RecordCaptureTest.class, "branchLocal", X);
        assertEquals(1, CaptureTest.count(f.graph(), "if"));
        assertMatches(RecordCaptureTest::branchLocal, RecordCaptureTest::of, f, input(9, 2), input(10, -2));
    }

    @Test
    void recordsReturnedFromBothArmsAreMerged() {
        CompiledFunction f = Capture.compileStatic(RecordCaptureTest.class, "branchReturns", X);
        assertEquals(1, CaptureTest.count(f.graph(), "if"));
        assertMatches(RecordCaptureTest::branchReturns, RecordCaptureTest::of, f, input(11, 2), input(12, -2));
    }

    @Test
    void onlyTheComponentsThatDifferAreYielded() {
        CompiledFunction f = Capture.compileStatic(RecordCaptureTest.class, "branchOneComponent", X);
        var ifOp = f.graph().body().ops().stream().filter(op -> op.name().equals("if")).findFirst().orElseThrow();
        assertEquals(1, ifOp.results().size());
        assertMatches(RecordCaptureTest::branchOneComponent, RecordCaptureTest::of, f, input(13, 2), input(14, -2));
    }

    @Test
    void aRecordCarriedThroughADataDependentLoop() {
        CompiledFunction f = Capture.compileStatic(RecordCaptureTest.class, "loopCarried", X);
        assertEquals(1, CaptureTest.count(f.graph(), "loop"));
        assertMatches(RecordCaptureTest::loopCarried, RecordCaptureTest::of, f, input(15, 0), input(16, 3), input(17, 20));
    }

    // ---- rejections -------------------------------------------------------------------------------

    /** The line of this file that carries {@code // MARK:name}. */
    static int line(String marker) {
        try {
            List<String> lines = Files.readAllLines(Path.of("src/test/java/dev/kiln/tracer/capture/RecordCaptureTest.java"));
            for (int i = 0; i < lines.size(); i++) if (lines.get(i).contains("// MARK:" + marker)) return i + 1;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new AssertionError("no marker " + marker);
    }

    static String rejected(String method) {
        return assertThrows(CaptureException.class, () -> Capture.compileStatic(RecordCaptureTest.class, method, X)).getMessage();
    }

    static void assertContains(String message, String... parts) {
        for (String p : parts) assertTrue(message.contains(p), "expected '" + p + "' in:\n" + message);
    }

    @Test
    void aCanonicalConstructorWithLogicIsRejectedNamingTheLine() {
        String m = rejected("checked");
        String where = "RecordCaptureTest.checked (RecordCaptureTest.java:" + line("checked") + ")";
        assertTrue(m.startsWith(where), "expected '" + where + "' first in:\n" + m);
        assertContains(m, "canonical constructor of record Checked does more than assign its fields", "Checked constructor (RecordCaptureTest.java:");
    }

    @Test
    void aNonCanonicalConstructorIsRejected() {
        String m = rejected("nonCanonical");
        assertTrue(m.startsWith("RecordCaptureTest.nonCanonical (RecordCaptureTest.java:" + line("nonCanonical") + ")"), m);
        assertContains(m, "records made with a constructor other than the canonical one (new Checked(Tensor) instead of Checked(Tensor, Tensor))",
                "are not supported in @Compile methods");
    }

    @Test
    void returningARecordWithANonTensorComponentNamesTheRecordAndComponent() {
        String m = rejected("labelled");
        assertContains(m, "RecordCaptureTest.labelled: returned record Labelled",
                "(made at RecordCaptureTest.labelled (RecordCaptureTest.java:" + line("labelled") + "))",
                "component 'n' (declared int) is 3, not a Tensor", "must hold only tensors");
    }

    @Test
    void passingARecordToLibraryCodeIsRejected() {
        String m = rejected("recordInList");
        assertTrue(m.startsWith("RecordCaptureTest.recordInList (RecordCaptureTest.java:" + line("list") + ")"), m);
        assertContains(m, "record Pair, built in the @Compile method, is passed to List.add");
    }
}
