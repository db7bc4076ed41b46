package dev.kiln.ir;

import dev.kiln.ir.testing.RandomGraphs;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The verifier accepts every random graph and rejects random graphs broken in specific ways. */
class VerifierPropertyTest {

    @Provide
    Arbitrary<Graph> graphs() { return RandomGraphs.graphs(); }

    @Property(tries = 200)
    void acceptsRandomGraphsAndTheirParsedCopies(@ForAll("graphs") Graph g) {
        Verifier.verify(g);
        Verifier.verify(IrParser.parse(IrPrinter.print(g)));
    }

    @Property(tries = 200)
    void rejectsUseBeforeDefinition(@ForAll("graphs") Graph g, @ForAll @IntRange(min = 0, max = 1000) int pick) {
        List<Op[]> pairs = new ArrayList<>();
        forEachBlock(g.body(), block -> {
            List<Op> ops = block.ops();
            for (int i = 0; i < ops.size(); i++) {
                for (int j = i + 1; j < ops.size(); j++) {
                    if (ops.get(i).operandCount() > 0 && !ops.get(j).results().isEmpty()) pairs.add(new Op[] {ops.get(i), ops.get(j)});
                }
            }
        });
        Assume.that(!pairs.isEmpty());
        Op[] pair = pairs.get(pick % pairs.size());
        pair[0].setOperand(0, pair[1].results().get(0));
        assertRejected(g, "is used before its definition");
    }

    @Property(tries = 200)
    void rejectsRegionValuesUsedOutside(@ForAll("graphs") Graph g, @ForAll @IntRange(min = 0, max = 1000) int pick) {
        List<Value> inner = new ArrayList<>();
        forEachBlock(g.body(), block -> {
            if (block.parentOp() == null) return;
            inner.addAll(block.arguments());
            for (Op op : block.ops()) inner.addAll(op.results());
        });
        Assume.that(!inner.isEmpty());
        g.returnOp().setOperand(0, inner.get(pick % inner.size()));
        assertRejected(g, "return: operand 0 (%", "is defined inside", "which does not enclose this use");
    }

    @Property(tries = 200)
    void rejectsBlocksWithoutTerminator(@ForAll("graphs") Graph g, @ForAll @IntRange(min = 0, max = 1000) int pick) {
        List<Block> blocks = new ArrayList<>();
        forEachBlock(g.body(), blocks::add);
        Block block = blocks.get(pick % blocks.size());
        block.erase(block.terminator());
        String expected = block.parentOp() == null ? "return" : "yield";
        VerificationException e = assertThrows(VerificationException.class, () -> Verifier.verify(g));
        assertTrue(e.getMessage().contains("does not end in " + expected) || e.getMessage().contains("is empty; it must end in " + expected),
                e.getMessage());
    }

    @Property(tries = 200)
    void rejectsAttributesOfTheWrongKind(@ForAll("graphs") Graph g, @ForAll @IntRange(min = 0, max = 1000) int pick) {
        List<Op> withAttrs = new ArrayList<>();
        forEachBlock(g.body(), block -> block.ops().stream().filter(op -> !op.schema().attributes().isEmpty()).forEach(withAttrs::add));
        Assume.that(!withAttrs.isEmpty());
        Op op = withAttrs.get(pick % withAttrs.size());
        String attr = op.schema().attributes().get(0).name();
        op.setAttr(attr, Attribute.of("oops"));
        assertRejected(g, "= " + op.name(), ": attribute '" + attr + "' must be ", ", got string");
    }

    private static void assertRejected(Graph g, String... parts) {
        VerificationException e = assertThrows(VerificationException.class, () -> Verifier.verify(g));
        for (String p : parts) assertTrue(e.getMessage().contains(p), () -> "expected '" + p + "' in: " + e.getMessage());
    }

    private static void forEachBlock(Block block, java.util.function.Consumer<Block> action) {
        action.accept(block);
        for (Op op : block.ops()) for (Block region : op.regions()) forEachBlock(region, action);
    }
}
