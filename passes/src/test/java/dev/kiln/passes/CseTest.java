package dev.kiln.passes;

import dev.kiln.ir.OpRegistry;
import dev.kiln.ir.OpSchema;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.kiln.passes.GoldenPassTests.golden;
import static dev.kiln.passes.GoldenPassTests.unchanged;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Golden tests for {@link CommonSubexpressionElimination} and {@link ConstantDeduplication}. */
class CseTest {

    @BeforeAll
    static void registerEffectOp() {
        synchronized (OpRegistry.class) {
            if (!OpRegistry.contains("test.effect")) {
                OpRegistry.register(OpSchema.define("test.effect").summary("a side effect").variadic("values")
                        .infer(ctx -> List.of()).build());
            }
        }
    }

    @Test
    void names() {
        assertEquals("cse", new CommonSubexpressionElimination().name());
        assertEquals("dedupe-constants", new ConstantDeduplication().name());
    }

    @Test
    void mergesEqualPureOpsAndWhatThenBecomesEqual() {
        golden(new CommonSubexpressionElimination(), """
                graph @g(%x: f32[N, 4], %y: f32[N, 4]) {
                  %a = relu(%x) : f32[N, 4]
                  %b = relu(%x) : f32[N, 4]
                  %c = add(%a, %y) : f32[N, 4]
                  %d = add(%y, %b) : f32[N, 4]
                  %e = sub(%a, %y) : f32[N, 4]
                  %f = sub(%y, %b) : f32[N, 4]
                  return(%c, %d, %e, %f)
                }
                """, """
                graph @g(%x: f32[N, 4], %y: f32[N, 4]) {
                  %a = relu(%x) : f32[N, 4]
                  %c = add(%a, %y) : f32[N, 4]
                  %e = sub(%a, %y) : f32[N, 4]
                  %f = sub(%y, %a) : f32[N, 4]
                  return(%c, %c, %e, %f)
                }
                """);
    }

    @Test
    void attributesMustMatchWithDefaultsFilledIn() {
        golden(new CommonSubexpressionElimination(), """
                graph @g(%x: f32[2, 3, 4]) {
                  %a = flatten(%x) : f32[24]
                  %b = flatten(%x) {start_dim = 0} : f32[24]
                  %c = flatten(%x) {start_dim = 1} : f32[2, 12]
                  return(%a, %b, %c)
                }
                """, """
                graph @g(%x: f32[2, 3, 4]) {
                  %a = flatten(%x) : f32[24]
                  %c = flatten(%x) {start_dim = 1} : f32[2, 12]
                  return(%a, %a, %c)
                }
                """);
    }

    @Test
    void onlyDominatingEquivalentsAreUsed() {
        golden(new CommonSubexpressionElimination(), """
                graph @g(%x: f32[4], %c: bool) {
                  %outer = tanh(%x) : f32[4]
                  %r = if(%c) : f32[4] {
                    %t = tanh(%x) : f32[4]
                    %s = sigmoid(%t) : f32[4]
                    yield(%s)
                  } {
                    %s2 = sigmoid(%x) : f32[4]
                    yield(%s2)
                  }
                  %q = if(%c) : f32[4] {
                    %s3 = sigmoid(%x) : f32[4]
                    yield(%s3)
                  } {
                    yield(%x)
                  }
                  %late = sigmoid(%x) : f32[4]
                  return(%r, %q, %late, %outer)
                }
                """, """
                graph @g(%x: f32[4], %c: bool) {
                  %outer = tanh(%x) : f32[4]
                  %r = if(%c) : f32[4] {
                    %s = sigmoid(%outer) : f32[4]
                    yield(%s)
                  } {
                    %s2 = sigmoid(%x) : f32[4]
                    yield(%s2)
                  }
                  %q = if(%c) : f32[4] {
                    %s3 = sigmoid(%x) : f32[4]
                    yield(%s3)
                  } {
                    yield(%x)
                  }
                  %late = sigmoid(%x) : f32[4]
                  return(%r, %q, %late, %outer)
                }
                """);
    }

    @Test
    void neverMergesImpureOps() {
        unchanged(new CommonSubexpressionElimination(), """
                graph @g(%x: f32[4]) {
                  %a = dropout_mask(%x) {p = 0.5} : f32[4]
                  %b = dropout_mask(%x) {p = 0.5} : f32[4]
                  test.effect(%a)
                  test.effect(%a)
                  return(%a, %b)
                }
                """);
    }

    @Test
    void dedupesOnlyConstantsWithEqualValues() {
        golden(new ConstantDeduplication(), """
                graph @g(%x: f32[2], %c: bool) {
                  %a = constant() {value = dense<f32[2]: [1.0, 2.0]>} : f32[2]
                  %b = constant() {value = dense<f32[2]: [1.0, 2.0]>} : f32[2]
                  %z = constant() {value = dense<f32[2]: [0.0, 0.0]>} : f32[2]
                  %nz = constant() {value = dense<f32[2]: [-0.0, 0.0]>} : f32[2]
                  %i = constant() {value = dense<i32[2]: [1, 2]>} : i32[2]
                  %n = constant() {value = 2} : int
                  %m = constant() {value = 2} : int
                  %r = if(%c) : f32[2] {
                    %inner = constant() {value = dense<f32[2]: [1.0, 2.0]>} : f32[2]
                    yield(%inner)
                  } {
                    yield(%z)
                  }
                  %u = relu(%x) : f32[2]
                  %v = relu(%x) : f32[2]
                  return(%a, %b, %z, %nz, %i, %n, %m, %r, %u, %v)
                }
                """, """
                graph @g(%x: f32[2], %c: bool) {
                  %a = constant() {value = dense<f32[2]: [1.0, 2.0]>} : f32[2]
                  %z = constant() {value = dense<f32[2]: [0.0, 0.0]>} : f32[2]
                  %nz = constant() {value = dense<f32[2]: [-0.0, 0.0]>} : f32[2]
                  %i = constant() {value = dense<i32[2]: [1, 2]>} : i32[2]
                  %n = constant() {value = 2} : int
                  %r = if(%c) : f32[2] {
                    yield(%a)
                  } {
                    yield(%z)
                  }
                  %u = relu(%x) : f32[2]
                  %v = relu(%x) : f32[2]
                  return(%a, %a, %z, %nz, %i, %n, %n, %r, %u, %v)
                }
                """);
    }
}
