package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.IrParser;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.OpRegistry;
import dev.kiln.ir.OpSchema;
import dev.kiln.ir.Verifier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Golden tests: IR text in, dead-code elimination, IR text out. */
class DeadCodeEliminationTest {

    /** A test op with a side effect (no PURE trait) and no results, like a print. */
    @BeforeAll
    static void registerEffectOp() {
        synchronized (OpRegistry.class) {
            if (!OpRegistry.contains("test.effect")) {
                OpRegistry.register(OpSchema.define("test.effect").summary("a side effect").variadic("values")
                        .infer(ctx -> List.of()).build());
            }
        }
    }

    private static void dce(String in, String expected) {
        Graph g = IrParser.parse(in);
        boolean changed = new DeadCodeElimination().run(g);
        Verifier.verify(g);
        assertEquals(expected, IrPrinter.print(g));
        assertEquals(!in.equals(expected), changed, "run() must report whether it changed the graph");
        assertFalse(new DeadCodeElimination().run(g), "a second run must find nothing to remove");
    }

    @Test
    void removesUnusedChainsAndKeepsOutputs() {
        dce("""
                graph @g(%x: f32[N, 4]) weights(@w: f32[3, 4], @unused: f32[2]) {
                  %a = relu(%x) : f32[N, 4]
                  %dead1 = neg(%a) : f32[N, 4]
                  %dead2 = tanh(%dead1) : f32[N, 4]
                  %b = linear(%a, @w) : f32[N, 3]
                  %dead3 = linear(%x, @w) : f32[N, 3]
                  %k = constant() {value = dense<f32[2]: [1.0, 2.0]>} : f32[2]
                  return(%b)
                }
                """, """
                graph @g(%x: f32[N, 4]) weights(@w: f32[3, 4], @unused: f32[2]) {
                  %a = relu(%x) : f32[N, 4]
                  %b = linear(%a, @w) : f32[N, 3]
                  return(%b)
                }
                """);
    }

    @Test
    void cleansRegionsOfLiveControlFlow() {
        dce("""
                graph @g(%x: f32[4], %c: bool, %t: int) {
                  %outer = sigmoid(%x) : f32[4]
                  %r = if(%c) : f32[4] {
                    %dead = neg(%outer) : f32[4]
                    %live = relu(%x) : f32[4]
                    yield(%live)
                  } {
                    yield(%x)
                  }
                  %l = loop(%t, %c, %r) : f32[4] {
                  ^(%i: int, %acc: f32[4]):
                    %unused = tanh(%acc) : f32[4]
                    %next = add(%acc, %x) : f32[4]
                    yield(%c, %next)
                  }
                  return(%l)
                }
                """, """
                graph @g(%x: f32[4], %c: bool, %t: int) {
                  %r = if(%c) : f32[4] {
                    %live = relu(%x) : f32[4]
                    yield(%live)
                  } {
                    yield(%x)
                  }
                  %l = loop(%t, %c, %r) : f32[4] {
                  ^(%i: int, %acc: f32[4]):
                    %next = add(%acc, %x) : f32[4]
                    yield(%c, %next)
                  }
                  return(%l)
                }
                """);
    }

    @Test
    void removesUnusedControlFlowWithPureRegions() {
        dce("""
                graph @g(%x: f32[4], %c: bool) {
                  %n = constant() {value = 3} : int
                  %feeds_if = relu(%x) : f32[4]
                  %r = if(%c) : f32[4] {
                    %inner = if(%c) : f32[4] {
                      yield(%feeds_if)
                    } {
                      %m = neg(%feeds_if) : f32[4]
                      yield(%m)
                    }
                    yield(%inner)
                  } {
                    yield(%x)
                  }
                  %a, %b = loop(%n, %c, %x, %x) : f32[4], f32[4] {
                  ^(%i: int, %p: f32[4], %q: f32[4]):
                    %s = add(%p, %q) : f32[4]
                    yield(%c, %s, %q)
                  }
                  loop(%n, %c) {
                  ^(%j: int):
                    yield(%c)
                  }
                  return(%x)
                }
                """, """
                graph @g(%x: f32[4], %c: bool) {
                  return(%x)
                }
                """);
    }

    @Test
    void keepsAMultiResultOpWhenAnyResultIsUsed() {
        String text = """
                graph @g(%x: f32[4], %c: bool, %n: int) {
                  %a, %b = loop(%n, %c, %x, %x) : f32[4], f32[4] {
                  ^(%i: int, %p: f32[4], %q: f32[4]):
                    yield(%c, %q, %p)
                  }
                  return(%b)
                }
                """;
        dce(text, text);
    }

    @Test
    void neverRemovesSideEffectsOrWhatTheyUse() {
        dce("""
                graph @g(%x: f32[4], %c: bool) {
                  %logged = tanh(%x) : f32[4]
                  test.effect(%logged)
                  %r = if(%c) : f32[4] {
                    %y = relu(%x) : f32[4]
                    test.effect(%y)
                    yield(%y)
                  } {
                    yield(%x)
                  }
                  %dead = neg(%x) : f32[4]
                  return(%x)
                }
                """, """
                graph @g(%x: f32[4], %c: bool) {
                  %logged = tanh(%x) : f32[4]
                  test.effect(%logged)
                  %r = if(%c) : f32[4] {
                    %y = relu(%x) : f32[4]
                    test.effect(%y)
                    yield(%y)
                  } {
                    yield(%x)
                  }
                  return(%x)
                }
                """);
    }

    @Test
    void reportsNoChangeOnCleanGraphs() {
        String text = """
                graph @g(%x: f32[N, 4]) {
                  %0 = relu(%x) : f32[N, 4]
                  return(%0, %x)
                }
                """;
        Graph g = IrParser.parse(text);
        assertFalse(new DeadCodeElimination().run(g));
        assertEquals(text, IrPrinter.print(g));
        assertTrue(new DeadCodeElimination().name().equals("dce"));
    }
}
