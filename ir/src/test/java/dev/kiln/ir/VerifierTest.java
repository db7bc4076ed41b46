package dev.kiln.ir;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each broken graph, made by mutating a valid one, is rejected with a message naming the op and problem. */
class VerifierTest {

    private static final String BASE = """
            graph @g(%x: f32[N, 4], %c: bool, %t: int) weights(@w: f32[3, 4]) {
              %a = relu(%x) : f32[N, 4]
              %b = linear(%a, @w) : f32[N, 3]
              %r = if(%c) : f32[N, 4] {
                %inner = neg(%a) : f32[N, 4]
                yield(%inner)
              } {
                yield(%x)
              }
              %l = loop(%t, %c, %r) : f32[N, 4] {
              ^(%i: int, %acc: f32[N, 4]):
                %next = tanh(%acc) : f32[N, 4]
                yield(%c, %next)
              }
              return(%b, %l)
            }
            """;

    private static Graph base() { return IrParser.parse(BASE); }

    /** The op defining the value with this name hint, anywhere in the graph. */
    private static Op def(Graph g, String name) {
        Op found = find(g.body(), name);
        if (found == null) throw new AssertionError("no op defines %" + name);
        return found;
    }

    private static Op find(Block block, String name) {
        for (Op op : block.ops()) {
            for (Value r : op.results()) if (name.equals(r.name())) return op;
            for (Block region : op.regions()) {
                Op inner = find(region, name);
                if (inner != null) return inner;
            }
        }
        return null;
    }

    private static Value val(Graph g, String name) { return def(g, name).result(); }

    private static VerificationException rejects(Graph g, String... parts) {
        VerificationException e = assertThrows(VerificationException.class, () -> Verifier.verify(g));
        for (String p : parts) assertTrue(e.getMessage().contains(p), () -> "expected '" + p + "' in: " + e.getMessage());
        assertTrue(e.getMessage().startsWith("graph @" + g.name() + ": "), e.getMessage());
        return e;
    }

    @Test
    void acceptsTheBaseGraph() {
        assertDoesNotThrow(() -> Verifier.verify(base()));
    }

    @Test
    void useBeforeDefinition() {
        Graph g = base();
        Op use = Builder.before(def(g, "a")).create("neg", List.of(val(g, "b")), Map.of());
        VerificationException e = rejects(g, "%0 = neg: operand 0 (%b) is used before its definition");
        assertSame(use, e.op());
    }

    @Test
    void regionValueUsedOutsideItsRegion() {
        Graph g = base();
        g.returnOp().setOperand(0, val(g, "inner"));
        rejects(g, "return: operand 0 (%inner) is defined inside the then region of %r = if, which does not enclose this use");
    }

    @Test
    void regionResultUsedInsideItsOwnRegion() {
        Graph g = base();
        Op yield = def(g, "inner").parent().terminator();
        yield.setOperand(0, val(g, "r"));
        rejects(g, "yield in the then region of %r = if: operand 0 (%r) is a result of the enclosing %r = if");
    }

    @Test
    void missingTerminatorInRegion() {
        Graph g = base();
        Block body = def(g, "next").parent();
        body.erase(body.terminator());
        rejects(g, "the body of %l = loop does not end in yield; its last op is %next = tanh");
    }

    @Test
    void missingReturn() {
        Graph g = base();
        g.body().erase(g.returnOp());
        rejects(g, "the graph body does not end in return; its last op is %l = loop");
    }

    @Test
    void emptyRegion() {
        Graph g = base();
        Block elseRegion = def(g, "r").region(1);
        elseRegion.erase(elseRegion.terminator());
        rejects(g, "the else region of %r = if is empty; it must end in yield(...)");
    }

    @Test
    void terminatorInTheMiddle() {
        Graph g = base();
        Builder.before(def(g, "b")).ret(val(g, "a"));
        rejects(g, "return is in the middle of the graph body; a terminator must be the last op of its block");

        Graph h = base();
        Builder.before(def(h, "next")).yield(h.inputs().get(1), val(h, "next"));
        rejects(h, "yield is in the middle of the body of %l = loop; a terminator must be the last op of its block");
    }

    @Test
    void returnInARegion() {
        Graph g = base();
        Block then = def(g, "r").region(0);
        Op yield = then.terminator();
        then.erase(yield);
        Builder.atEnd(then).ret(val(g, "inner"));
        rejects(g, "return ends the then region of %r = if, which must end in yield instead");
    }

    @Test
    void yieldInTheBody() {
        Graph g = base();
        g.body().erase(g.returnOp());
        Builder.atEnd(g.body()).yield(val(g, "b"));
        rejects(g, "yield ends the graph body, which must end in return instead");
    }

    @Test
    void wrongResultType() {
        Graph g = base();
        Builder.before(g.returnOp()).createWithResultTypes("relu", List.of(val(g, "b")), Map.of(),
                List.of(TensorType.of(DType.F32, Dim.sym("N"), Dim.of(4))));
        rejects(g, "%0 = relu: result 0 (%0) has type f32[N, 4] but inference gives f32[N, 3]");
    }

    @Test
    void wrongAttributeKind() {
        Graph g = base();
        Value s = Builder.before(g.returnOp()).op("softmax", val(g, "b"));
        s.definingOp().setAttr("axis", Attribute.of(1.5));
        rejects(g, "%0 = softmax: attribute 'axis' must be [int], got float");
    }

    @Test
    void unknownAttribute() {
        Graph g = base();
        def(g, "a").setAttr("alpha", Attribute.of(0.1));
        rejects(g, "%a = relu: unknown attribute 'alpha'");
    }

    @Test
    void missingRequiredAttributeAndWrongOperandCount() {
        Graph g = base();
        Block body = g.body();
        body.insert(body.indexOf(g.returnOp()), new Op(OpRegistry.get("reshape"), List.of(val(g, "a")),
                List.of(val(g, "a").type()), Map.of(), 0));
        rejects(g, "%0 = reshape: missing required attribute 'shape'");

        Graph h = base();
        h.body().insert(h.body().indexOf(h.returnOp()), new Op(OpRegistry.get("add"), List.of(val(h, "a")),
                List.of(val(h, "a").type()), Map.of(), 0));
        rejects(h, "%0 = add: expected 2 operands, got 1");
    }

    @Test
    void ifBranchesYieldDifferentTypes() {
        Graph g = base();
        Block elseRegion = def(g, "r").region(1);
        elseRegion.erase(elseRegion.terminator());
        Builder.atEnd(elseRegion).yield(val(g, "b"));
        rejects(g, "the else region of %r = if yields [f32[N, 3]] but %r = if has result types [f32[N, 4]]");
    }

    @Test
    void ifConditionMustBeBool() {
        Graph g = base();
        Builder.before(g.returnOp()).ifOp(g.inputs().get(2), List.of());
        rejects(g, "if: condition %t must be bool, got int");
    }

    @Test
    void loopYieldWithWrongTypes() {
        Graph g = base();
        Block body = def(g, "next").parent();
        Value acc = body.argument(1);
        body.erase(body.terminator());
        Builder.atEnd(body).yield(acc);
        rejects(g, "the body of %l = loop yields [f32[N, 4]] but must yield [bool, f32[N, 4]]");
    }

    @Test
    void loopBodyArgumentsMustMatchCarriedValues() {
        Graph g = base();
        def(g, "next").parent().addArgument(ScalarType.FLOAT, "extra");
        rejects(g, "the body of %l = loop has arguments [int, f32[N, 4], float] but must have [int, f32[N, 4]]");
    }

    @Test
    void loopResultsMustMatchCarriedValues() {
        Graph g = base();
        Op loop = Builder.before(g.returnOp()).createWithResultTypes("loop",
                List.of(g.inputs().get(2), g.inputs().get(1), g.inputs().get(0)), Map.of(), List.of(ScalarType.INT));
        loop.region(0).addArgument(ScalarType.INT, "i");
        loop.region(0).addArgument(g.inputs().get(0).type(), null);
        Builder.atEnd(loop.region(0)).yield(g.inputs().get(1), loop.region(0).argument(1));
        rejects(g, "loop: result 0 (%0) has type int but its carried values have f32[N, 4]");
    }

    @Test
    void weightOfAnotherGraph() {
        Graph g = base();
        Graph other = new Graph("other");
        Value foreign = other.addWeight("w", TensorType.of(DType.F32, 3, 4));
        def(g, "b").setOperand(1, foreign);
        rejects(g, "%b = linear: operand 1 (@w) is a weight that does not belong to graph @g");
    }

    @Test
    void valueOfAnotherGraph() {
        Graph g = base();
        Graph other = IrParser.parse(BASE);
        def(g, "a").setOperand(0, other.inputs().get(0));
        rejects(g, "%a = relu: operand 0 (%", ") is not defined in graph @g");
    }

    @Test
    void inconsistentUseLists() {
        Graph g = base();
        Op relu = def(g, "a");
        relu.operand(0).removeUse(relu, 0);
        rejects(g, "use list of %x records operand 0 of %a = relu 0 times instead of once");

        Graph h = base();
        // An op built but never inserted still registers its use of %x.
        new Op(OpRegistry.get("neg"), List.of(h.inputs().get(0)), List.of(h.inputs().get(0).type()), Map.of(), 0);
        rejects(h, "use list of %x names a neg op that is not in the graph");
    }
}
