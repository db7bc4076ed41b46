package dev.kiln.passes;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static dev.kiln.passes.GoldenPassTests.golden;
import static dev.kiln.passes.GoldenPassTests.unchanged;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Golden tests, one (or more) per rule of {@link CanonicalRules}, plus the cases where a rule must not fire. */
class CanonicalizeTest {

    private static void canon(String in, String out) { golden(new Canonicalize(), in, out); }

    private static void same(String text) { unchanged(new Canonicalize(), text); }

    @Test
    void tableHasOneDescriptionPerRule() {
        Set<String> seen = new HashSet<>();
        for (CanonicalRules.Rule r : CanonicalRules.RULES) assertTrue(seen.add(r.description()), r.description());
        assertEquals(12, CanonicalRules.RULES.size());
        assertEquals("canonicalize", new Canonicalize().name());
    }

    @Test
    void addZeroOnEitherSide() {
        canon("""
                graph @g(%x: f32[2, 3]) {
                  %z = constant() {value = dense<f32[3]: [0.0, -0.0, 0.0]>} : f32[3]
                  %a = add(%x, %z) : f32[2, 3]
                  %b = add(%z, %a) : f32[2, 3]
                  %c = relu(%b) : f32[2, 3]
                  return(%c)
                }
                """, """
                graph @g(%x: f32[2, 3]) {
                  %c = relu(%x) : f32[2, 3]
                  return(%c)
                }
                """);
    }

    @Test
    void addZeroThatBroadcastsXIsKept() {
        same("""
                graph @g(%x: f32[3]) {
                  %z = constant() {value = dense<f32[2, 3]: [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]>} : f32[2, 3]
                  %a = add(%x, %z) : f32[2, 3]
                  return(%a)
                }
                """);
    }

    @Test
    void addNonZeroIsKept() {
        same("""
                graph @g(%x: f32[3]) {
                  %z = constant() {value = dense<f32[]: [0.5]>} : f32[]
                  %a = add(%x, %z) : f32[3]
                  return(%a)
                }
                """);
    }

    @Test
    void subZero() {
        canon("""
                graph @g(%x: i64[N]) {
                  %z = constant() {value = dense<i64[]: [0]>} : i64[]
                  %a = sub(%x, %z) : i64[N]
                  %b = sub(%z, %x) : i64[N]
                  return(%a, %b)
                }
                """, """
                graph @g(%x: i64[N]) {
                  %z = constant() {value = dense<i64[]: [0]>} : i64[]
                  %b = sub(%z, %x) : i64[N]
                  return(%x, %b)
                }
                """);
    }

    @Test
    void mulOneOnEitherSide() {
        canon("""
                graph @g(%x: f32[N, 3]) {
                  %one = constant() {value = dense<f32[]: [1.0]>} : f32[]
                  %a = mul(%one, %x) : f32[N, 3]
                  %b = mul(%a, %one) : f32[N, 3]
                  return(%b)
                }
                """, """
                graph @g(%x: f32[N, 3]) {
                  return(%x)
                }
                """);
    }

    @Test
    void mulOneThatChangesTheTypeIsKept() {
        // broadcasting grows the shape, so the result is not x
        same("""
                graph @g(%x: f32[3]) {
                  %one = constant() {value = dense<f32[2, 1]: [1.0, 1.0]>} : f32[2, 1]
                  %a = mul(%x, %one) : f32[2, 3]
                  return(%a)
                }
                """);
    }

    @Test
    void divOne() {
        canon("""
                graph @g(%x: f32[4]) {
                  %one = constant() {value = dense<f32[1]: [1.0]>} : f32[1]
                  %a = div(%x, %one) : f32[4]
                  %b = div(%one, %x) : f32[4]
                  return(%a, %b)
                }
                """, """
                graph @g(%x: f32[4]) {
                  %one = constant() {value = dense<f32[1]: [1.0]>} : f32[1]
                  %b = div(%one, %x) : f32[4]
                  return(%x, %b)
                }
                """);
    }

    @Test
    void negNeg() {
        canon("""
                graph @g(%x: f32[4]) {
                  %a = neg(%x) : f32[4]
                  %b = neg(%a) : f32[4]
                  %c = neg(%b) : f32[4]
                  return(%c, %a)
                }
                """, """
                graph @g(%x: f32[4]) {
                  %a = neg(%x) : f32[4]
                  %c = neg(%x) : f32[4]
                  return(%c, %a)
                }
                """);
    }

    @Test
    void identityPermute() {
        canon("""
                graph @g(%x: f32[N, 3, 4]) {
                  %a = permute(%x) {perm = [0, -2, 2]} : f32[N, 3, 4]
                  return(%a)
                }
                """, """
                graph @g(%x: f32[N, 3, 4]) {
                  return(%x)
                }
                """);
    }

    @Test
    void permuteOfPermuteComposes() {
        canon("""
                graph @g(%x: f32[2, 3, 4]) {
                  %a = permute(%x) {perm = [1, 2, 0]} : f32[3, 4, 2]
                  %b = permute(%a) {perm = [0, 2, 1]} : f32[3, 2, 4]
                  return(%b)
                }
                """, """
                graph @g(%x: f32[2, 3, 4]) {
                  %0 = permute(%x) {perm = [1, 0, 2]} : f32[3, 2, 4]
                  return(%0)
                }
                """);
    }

    @Test
    void permuteAndItsInverseCancel() {
        canon("""
                graph @g(%x: f32[2, 3, 4]) {
                  %a = permute(%x) {perm = [1, 2, 0]} : f32[3, 4, 2]
                  %b = permute(%a) {perm = [2, 0, 1]} : f32[2, 3, 4]
                  %c = relu(%a) : f32[3, 4, 2]
                  return(%b, %c)
                }
                """, """
                graph @g(%x: f32[2, 3, 4]) {
                  %a = permute(%x) {perm = [1, 2, 0]} : f32[3, 4, 2]
                  %c = relu(%a) : f32[3, 4, 2]
                  return(%x, %c)
                }
                """);
    }

    @Test
    void reshapeOfReshapeCollapses() {
        canon("""
                graph @g(%x: f32[2, 3, 4]) {
                  %a = reshape(%x) {shape = [6, 4]} : f32[6, 4]
                  %b = reshape(%a) {shape = [4, -1]} : f32[4, 6]
                  return(%b)
                }
                """, """
                graph @g(%x: f32[2, 3, 4]) {
                  %0 = reshape(%x) {shape = [4, -1]} : f32[4, 6]
                  return(%0)
                }
                """);
    }

    @Test
    void reshapeBackToTheSameTypeVanishes() {
        canon("""
                graph @g(%x: f32[N, 12]) {
                  %a = reshape(%x) {shape = [N, 3, 4]} : f32[N, 3, 4]
                  %b = reshape(%a) {shape = [N, -1]} : f32[N, 12]
                  %c = reshape(%x) {shape = [N, 12]} : f32[N, 12]
                  %d = add(%b, %c) : f32[N, 12]
                  return(%d)
                }
                """, """
                graph @g(%x: f32[N, 12]) {
                  %d = add(%x, %x) : f32[N, 12]
                  return(%d)
                }
                """);
    }

    @Test
    void reshapeToANewShapeIsKept() {
        same("""
                graph @g(%x: f32[N, 12]) {
                  %a = reshape(%x) {shape = [N, 3, 4]} : f32[N, 3, 4]
                  return(%a)
                }
                """);
    }

    @Test
    void flattenOfAStaticShapeBecomesAReshape() {
        canon("""
                graph @g(%x: f32[2, 3, 4], %y: f32[N, 3, 4]) {
                  %a = flatten(%x) {start_dim = 1} : f32[2, 12]
                  %b = flatten(%y) {start_dim = 1} : f32[N, 12]
                  return(%a, %b)
                }
                """, """
                graph @g(%x: f32[2, 3, 4], %y: f32[N, 3, 4]) {
                  %0 = reshape(%x) {shape = [2, 12]} : f32[2, 12]
                  %b = flatten(%y) {start_dim = 1} : f32[N, 12]
                  return(%0, %b)
                }
                """);
    }

    @Test
    void flattenThatKeepsTheShapeVanishes() {
        canon("""
                graph @g(%x: f32[6]) {
                  %a = flatten(%x) : f32[6]
                  return(%a)
                }
                """, """
                graph @g(%x: f32[6]) {
                  return(%x)
                }
                """);
    }

    @Test
    void castToTheSameDtype() {
        canon("""
                graph @g(%x: f32[4]) {
                  %a = cast(%x) {dtype = f32} : f32[4]
                  %b = cast(%a) {dtype = i32} : i32[4]
                  return(%b)
                }
                """, """
                graph @g(%x: f32[4]) {
                  %b = cast(%x) {dtype = i32} : i32[4]
                  return(%b)
                }
                """);
    }

    @Test
    void cloneIsTheValueItself() {
        canon("""
                graph @g(%x: f32[4]) {
                  %a = clone(%x) : f32[4]
                  %b = clone(%a) : f32[4]
                  return(%b)
                }
                """, """
                graph @g(%x: f32[4]) {
                  return(%x)
                }
                """);
    }

    @Test
    void rulesApplyInsideRegions() {
        canon("""
                graph @g(%x: f32[4], %c: bool) {
                  %r = if(%c) : f32[4] {
                    %a = clone(%x) : f32[4]
                    %b = neg(%a) : f32[4]
                    %n = neg(%b) : f32[4]
                    yield(%n)
                  } {
                    yield(%x)
                  }
                  return(%r)
                }
                """, """
                graph @g(%x: f32[4], %c: bool) {
                  %r = if(%c) : f32[4] {
                    yield(%x)
                  } {
                    yield(%x)
                  }
                  return(%r)
                }
                """);
    }
}
