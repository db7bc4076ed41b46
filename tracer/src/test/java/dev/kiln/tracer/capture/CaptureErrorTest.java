package dev.kiln.tracer.capture;

import dev.kiln.frontend.nn.Module;
import dev.kiln.ir.DType;
import dev.kiln.ir.TensorType;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each unsupported construct is a CaptureException naming the class, method, source line and construct. */
class CaptureErrorTest {

    static final TensorType X = TensorType.of(DType.F32, 2, 4);

    /** The line of CaptureModels.java that carries {@code // MARK:name}. */
    static int line(String marker) {
        try {
            List<String> lines = Files.readAllLines(Path.of("src/test/java/dev/kiln/tracer/capture/CaptureModels.java"));
            for (int i = 0; i < lines.size(); i++) if (lines.get(i).contains("// MARK:" + marker)) return i + 1;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new AssertionError("no marker " + marker);
    }

    static void assertRejected(Runnable capture, String method, String marker, String construct) {
        CaptureException e = assertThrows(CaptureException.class, capture::run);
        String m = e.getMessage();
        String where = method + " (CaptureModels.java:" + line(marker) + ")";
        assertTrue(m.startsWith(where), "expected the message to start with '" + where + "':\n" + m);
        assertTrue(m.contains(construct), "expected '" + construct + "' in:\n" + m);
    }

    static void assertRejectedStatic(String name, String marker, String construct) {
        assertRejected(() -> Capture.compileStatic(CaptureModels.class, name, X), "CaptureModels." + name, marker, construct);
    }

    static void assertRejected(Module m, String method, String marker, String construct) {
        assertRejected(() -> Capture.compile(m, X), method, marker, construct);
    }

    @Test
    void synchronizedBlock() {
        assertRejected(new CaptureModels.Synchronized(), "Synchronized.forward", "sync",
                "synchronized blocks are not supported in @Compile methods");
    }

    @Test
    void fieldWrite() {
        assertRejected(new CaptureModels.FieldWrite(), "FieldWrite.forward", "field", "writes to fields (FieldWrite.calls = ...)");
    }

    @Test
    void tooDeepRecursionNamesTheInlinedMethodAndItsCallers() {
        CaptureException e = assertThrows(CaptureException.class, () -> Capture.compile(new CaptureModels.Recursive(), X));
        String where = "Recursive.rec (CaptureModels.java:" + line("rec") + ")";
        assertTrue(e.getMessage().startsWith(where), e.getMessage());
        assertTrue(e.getMessage().contains("recursion too deep"), e.getMessage());
        assertTrue(e.getMessage().contains("inlined from"), e.getMessage());
    }

    @Test
    void throwStatement() {
        assertRejectedStatic("throwing", "throw", "throw statements");
    }

    @Test
    void tryCatch() {
        assertRejectedStatic("tryCatch", "try", "try/catch/finally blocks are not supported");
    }

    @Test
    void unknownLibraryCall() {
        assertRejectedStatic("println", "println", "calls to java.io.PrintStream.println are not supported");
    }

    @Test
    void reflection() {
        assertRejectedStatic("reflection", "reflect", "calls to java.lang.Class.getMethod are not supported");
    }

    @Test
    void lambda() {
        assertRejectedStatic("lambda", "lambda", "lambdas, method references and string concatenation (invokedynamic)");
    }

    @Test
    void armsWithDifferentShapes() {
        assertRejectedStatic("shapeMismatch", "shape", "local variable 'y' is a tensor of type f32[] and of type f32[2, 4]");
    }

    @Test
    void inPlaceOpOnAnOuterTensorInsideABranch() {
        assertRejectedStatic("inPlaceInBranch", "inplace", "in-place ops on a tensor defined outside a data-dependent branch");
    }

    @Test
    void dataReadInsideALibraryCall() {
        assertRejectedStatic("libraryReadsData", "onehot", "a library call reads tensor data with item()");
    }
}
