package dev.kiln.tracer.capture;

import dev.kiln.ir.DType;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.TensorType;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A Java method (as written in {@link CaptureModels}) next to the IR its bytecode captures to. */
class CaptureGoldenTest {

    static final TensorType X = TensorType.of(DType.F32, 2, 4);

    /** The Java text must really be in CaptureModels, so the pair cannot drift apart. */
    static void assertInModels(String java) throws IOException {
        String models = Files.readString(Path.of("src/test/java/dev/kiln/tracer/capture/CaptureModels.java"));
        assertTrue(squash(models).contains(squash(java)), "CaptureModels.java no longer contains:\n" + java);
    }

    private static String squash(String s) { return s.replaceAll("\\s+", " ").trim(); }

    @Test
    void dataDependentIfElse() throws IOException {
        String java = """
                public Tensor forward(Tensor x) {
                    Tensor y;
                    if (x.sum().item() > 0) y = x.relu();
                    else y = x.neg();
                    return y.mul(2.0);
                }
                """;
        String ir = """
                graph @dataBranch(%x: f32[2, 4]) {
                  %0 = sum(%x) {axes = [], keepdim = false} : f32[]
                  %1 = constant() {value = dense<f32[]: [0.0]>} : f32[]
                  %2 = gt(%0, %1) : bool[]
                  %3 = item(%2) : bool
                  %4 = if(%3) : f32[2, 4] {
                    %5 = relu(%x) : f32[2, 4]
                    yield(%5)
                  } {
                    %6 = neg(%x) : f32[2, 4]
                    yield(%6)
                  }
                  %7 = constant() {value = dense<f32[]: [2.0]>} : f32[]
                  %8 = mul(%4, %7) : f32[2, 4]
                  return(%8)
                }
                """;
        assertInModels(java);
        assertEquals(ir, IrPrinter.print(Capture.compile(new CaptureModels.DataBranch(), X).graph()));
    }

    @Test
    void dataDependentWhileLoop() throws IOException {
        String java = """
                static Tensor halve(Tensor x) {
                    while (x.abs().sum().item() > 1) x = x.div(2.0);
                    return x;
                }
                """;
        String ir = """
                graph @captureModels_halve(%x: f32[2, 4]) {
                  %0 = abs(%x) : f32[2, 4]
                  %1 = sum(%0) {axes = [], keepdim = false} : f32[]
                  %2 = constant() {value = dense<f32[]: [1.0]>} : f32[]
                  %3 = gt(%1, %2) : bool[]
                  %4 = item(%3) : bool
                  %5 = constant() {value = 9223372036854775807} : int
                  %6 = loop(%5, %4, %x) : f32[2, 4] {
                  ^(%i: int, %7: f32[2, 4]):
                    %8 = constant() {value = dense<f32[]: [2.0]>} : f32[]
                    %9 = div(%7, %8) : f32[2, 4]
                    %10 = abs(%9) : f32[2, 4]
                    %11 = sum(%10) {axes = [], keepdim = false} : f32[]
                    %12 = constant() {value = dense<f32[]: [1.0]>} : f32[]
                    %13 = gt(%11, %12) : bool[]
                    %14 = item(%13) : bool
                    yield(%14, %9)
                  }
                  return(%6)
                }
                """;
        assertInModels(java);
        assertEquals(ir, IrPrinter.print(Capture.compileStatic(CaptureModels.class, "halve", X).graph()));
    }

    @Test
    void earlyReturnAndItemArithmetic() throws IOException {
        String java = """
                static Tensor scalarArithmetic(Tensor x) {
                    double s = x.sum().item() * 2 - 1;
                    return s > 0 ? x.mul(2.0) : x;
                }
                """;
        String ir = """
                graph @captureModels_scalarArithmetic(%x: f32[2, 4]) {
                  %0 = sum(%x) {axes = [], keepdim = false} : f32[]
                  %1 = cast(%0) {dtype = f64} : f64[]
                  %2 = constant() {value = dense<f64[]: [2.0]>} : f64[]
                  %3 = mul(%1, %2) : f64[]
                  %4 = constant() {value = dense<f64[]: [1.0]>} : f64[]
                  %5 = sub(%3, %4) : f64[]
                  %6 = constant() {value = dense<f64[]: [0.0]>} : f64[]
                  %7 = gt(%5, %6) : bool[]
                  %8 = item(%7) : bool
                  %9 = if(%8) : f32[2, 4] {
                    %10 = constant() {value = dense<f32[]: [2.0]>} : f32[]
                    %11 = mul(%x, %10) : f32[2, 4]
                    yield(%11)
                  } {
                    yield(%x)
                  }
                  return(%9)
                }
                """;
        assertInModels(java);
        assertEquals(ir, IrPrinter.print(Capture.compileStatic(CaptureModels.class, "scalarArithmetic", X).graph()));
    }
}
