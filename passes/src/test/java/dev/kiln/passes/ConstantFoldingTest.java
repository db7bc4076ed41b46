package dev.kiln.passes;

import org.junit.jupiter.api.Test;

import static dev.kiln.passes.GoldenPassTests.golden;
import static dev.kiln.passes.GoldenPassTests.unchanged;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Golden tests for {@link ConstantFolding}. */
class ConstantFoldingTest {

    @Test
    void foldsChainsOfPureOpsOnConstants() {
        golden(new ConstantFolding(), """
                graph @g(%x: f32[2]) {
                  %a = constant() {value = dense<f32[2]: [1.0, -2.0]>} : f32[2]
                  %b = constant() {value = dense<f32[]: [0.5]>} : f32[]
                  %c = mul(%a, %b) : f32[2]
                  %d = relu(%c) : f32[2]
                  %e = add(%x, %d) : f32[2]
                  return(%e)
                }
                """, """
                graph @g(%x: f32[2]) {
                  %0 = constant() {value = dense<f32[2]: [0.5, 0.0]>} : f32[2]
                  %e = add(%x, %0) : f32[2]
                  return(%e)
                }
                """);
    }

    @Test
    void foldsShapeOpsAndIntegerOps() {
        golden(new ConstantFolding(), """
                graph @g() {
                  %a = constant() {value = dense<i32[2, 2]: [1, 2, 3, 4]>} : i32[2, 2]
                  %t = permute(%a) {perm = [1, 0]} : i32[2, 2]
                  %s = sum(%t) {axes = [1]} : i64[2]
                  return(%t, %s)
                }
                """, """
                graph @g() {
                  %0 = constant() {value = dense<i32[2, 2]: [1, 3, 2, 4]>} : i32[2, 2]
                  %1 = constant() {value = dense<i64[2]: [4, 6]>} : i64[2]
                  return(%0, %1)
                }
                """);
    }

    @Test
    void respectsTheSizeLimit() {
        String text = """
                graph @g() {
                  %a = constant() {value = dense<f32[2]: [1.0, 2.0]>} : f32[2]
                  %b = neg(%a) : f32[2]
                  return(%b)
                }
                """;
        unchanged(new ConstantFolding(7), text); // 8 bytes needed
        golden(new ConstantFolding(8), text, """
                graph @g() {
                  %0 = constant() {value = dense<f32[2]: [-1.0, -2.0]>} : f32[2]
                  return(%0)
                }
                """);
        assertEquals(64 * 1024, new ConstantFolding().maxBytes());
        assertThrows(IllegalArgumentException.class, () -> new ConstantFolding(-1));
        assertEquals("constant-fold", new ConstantFolding().name());
    }

    @Test
    void neverFoldsRandomOps() {
        unchanged(new ConstantFolding(), """
                graph @g() {
                  %a = constant() {value = dense<f32[2]: [1.0, 2.0]>} : f32[2]
                  %m = dropout_mask(%a) {p = 0.5} : f32[2]
                  return(%m)
                }
                """);
    }

    @Test
    void leavesInputsAndHostScalarsAlone() {
        unchanged(new ConstantFolding(), """
                graph @g(%x: f32[2]) {
                  %a = constant() {value = dense<f32[2]: [1.0, 2.0]>} : f32[2]
                  %b = add(%x, %a) : f32[2]
                  %n = constant() {value = 3} : int
                  return(%b, %n)
                }
                """);
    }

    @Test
    void foldsInsideRegions() {
        golden(new ConstantFolding(), """
                graph @g(%c: bool) {
                  %a = constant() {value = dense<f32[1]: [4.0]>} : f32[1]
                  %r = if(%c) : f32[1] {
                    %s = sqrt(%a) : f32[1]
                    yield(%s)
                  } {
                    yield(%a)
                  }
                  return(%r)
                }
                """, """
                graph @g(%c: bool) {
                  %a = constant() {value = dense<f32[1]: [4.0]>} : f32[1]
                  %r = if(%c) : f32[1] {
                    %0 = constant() {value = dense<f32[1]: [2.0]>} : f32[1]
                    yield(%0)
                  } {
                    yield(%a)
                  }
                  return(%r)
                }
                """);
    }
}
