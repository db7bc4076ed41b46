package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.IrParser;
import dev.kiln.ir.Value;
import dev.kiln.runtime.Interpreter;
import dev.kiln.runtime.NDArray;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Golden memory plans for small hand-made graphs, and the checker catching broken plans. */
class MemoryPlannerTest {

    private static final String CHAIN = """
            graph @chain(%x: f32[32]) {
              %a = exp(%x) : f32[32]
              %b = neg(%a) : f32[32]
              %c = tanh(%b) : f32[32]
              return(%c)
            }
            """;

    private static final String DIAMOND = """
            graph @diamond(%x: f32[64]) {
              %a = exp(%x) : f32[64]
              %b = neg(%a) : f32[64]
              %c = tanh(%a) : f32[64]
              %d = add(%b, %c) : f32[64]
              return(%d)
            }
            """;

    private static Value named(Graph g, String name) {
        return g.body().ops().stream().flatMap(op -> op.results().stream())
                .filter(v -> name.equals(v.name())).findFirst().orElseThrow();
    }

    /** Offsets, sizes and ranges as "name@offset+size[def,last]", in program order. */
    private static List<String> layout(MemoryPlan plan) {
        return plan.buffers().stream().map(b -> b.value().name() + "@" + b.offset() + "+" + b.size()
                + "[" + b.defStep() + "," + b.lastUse() + "]" + (b.inPlaceOf() != null ? "<" + b.inPlaceOf().name() : "")).toList();
    }

    private static MemoryPlan checked(Graph g, Map<String, Long> bindings, boolean inPlace) {
        MemoryPlan plan = MemoryPlanner.plan(g, bindings, inPlace);
        MemoryPlanChecker.check(g, bindings, plan);
        return plan;
    }

    @Test
    void chainWithoutInPlaceAlternatesTwoSlots() {
        MemoryPlan plan = checked(IrParser.parse(CHAIN), Map.of(), false);
        assertEquals(List.of("a@0+128[0,1]", "b@128+128[1,2]", "c@0+128[2,3]"), layout(plan));
        assertEquals(256, plan.peakBytes());
        assertEquals(256, plan.lowerBound());
        assertEquals(384, plan.naiveBytes());
        assertEquals(4, plan.steps());
    }

    @Test
    void chainInPlaceUsesOneSlot() {
        MemoryPlan plan = checked(IrParser.parse(CHAIN), Map.of(), true);
        assertEquals(List.of("a@0+128[0,1]", "b@0+128[1,2]<a", "c@0+128[2,3]<b"), layout(plan));
        assertEquals(128, plan.peakBytes());
        assertEquals(128, plan.lowerBound());
        assertEquals(384, plan.naiveBytes());
        assertEquals("planned peak 0.1 KiB vs lower bound 0.1 KiB vs naive 0.4 KiB (3 tensors, 2 in place)", plan.summary());
    }

    @Test
    void diamondWithoutInPlace() {
        MemoryPlan plan = checked(IrParser.parse(DIAMOND), Map.of(), false);
        assertEquals(List.of("a@0+256[0,2]", "b@256+256[1,3]", "c@512+256[2,3]", "d@0+256[3,4]"), layout(plan));
        assertEquals(768, plan.peakBytes());
        assertEquals(768, plan.lowerBound());
        assertEquals(1024, plan.naiveBytes());
    }

    @Test
    void diamondInPlace() {
        MemoryPlan plan = checked(IrParser.parse(DIAMOND), Map.of(), true);
        // a is still needed by c when b is made, so b cannot reuse it; c and d reuse dying operands.
        assertEquals(List.of("a@0+256[0,2]", "b@256+256[1,3]", "c@0+256[2,3]<a", "d@256+256[3,4]<b"), layout(plan));
        assertEquals(512, plan.peakBytes());
        assertEquals(512, plan.lowerBound());
    }

    @Test
    void greedyBySizePlacesLargestFirstAndFillsGaps() {
        Graph g = IrParser.parse("""
                graph @mixed(%x: f32[N, 16]) {
                  %big = exp(%x) : f32[N, 16]
                  %s1 = sum(%big) {axes = [1]} : f32[N]
                  %big2 = neg(%x) : f32[N, 16]
                  %s2 = sum(%big2) {axes = [1]} : f32[N]
                  %r = add(%s1, %s2) : f32[N]
                  return(%r)
                }
                """);
        MemoryPlan plan = checked(g, Map.of("N", 4L), false);
        // sizes: big, big2 = 256; s1, s2, r = 16 -> 64. big [0,1], big2 [2,3] share offset 0;
        // s1 [1,4] placed next to the bigs, s2 [3,4] above s1, r [4,5] reuses the gap at 0.
        assertEquals(List.of("big@0+256[0,1]", "s1@256+64[1,4]", "big2@0+256[2,3]", "s2@320+64[3,4]", "r@0+64[4,5]"), layout(plan));
        assertEquals(384, plan.peakBytes());
        assertEquals(384, plan.lowerBound());
        assertEquals(704, plan.naiveBytes());
    }

    @Test
    void symbolicSizesAreBoundAndAligned() {
        Graph g = IrParser.parse("""
                graph @sym(%x: f32[N, 3]) {
                  %a = relu(%x) : f32[N, 3]
                  return(%a)
                }
                """);
        MemoryPlan plan = checked(g, Map.of("N", 5L), true);
        assertEquals(64, plan.bufferOf(named(g, "a")).size()); // 60 bytes, aligned
        assertNull(plan.bufferOf(g.inputs().get(0)), "inputs are not planned");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MemoryPlanner.plan(g, Map.of()));
        assertTrue(e.getMessage().contains("symbolic dim N"), e.getMessage());
    }

    @Test
    void outputsLiveToTheEndAndAreNeverDonated() {
        Graph g = IrParser.parse("""
                graph @out(%x: f32[16]) {
                  %a = exp(%x) : f32[16]
                  %b = neg(%a) : f32[16]
                  %c = tanh(%x) : f32[16]
                  return(%a, %b, %c)
                }
                """);
        MemoryPlan plan = checked(g, Map.of(), true);
        assertEquals(List.of("a@0+64[0,3]", "b@64+64[1,3]", "c@128+64[2,3]"), layout(plan));
        assertEquals(0, plan.inPlaceCount());
    }

    @Test
    void usesInsideRegionsKeepValuesAliveUntilTheEnclosingOp() {
        Graph g = IrParser.parse("""
                graph @ctl(%x: f32[16], %t: int) {
                  %a = exp(%x) : f32[16]
                  %c = constant() {value = true} : bool
                  %b = neg(%x) : f32[16]
                  %r = if(%c) : f32[16] {
                    %i = tanh(%a) : f32[16]
                    yield(%i)
                  } {
                    yield(%b)
                  }
                  return(%r)
                }
                """);
        MemoryPlan plan = checked(g, Map.of(), true);
        // a and b are both live at the if (step 3), where r is made, so r cannot reuse either.
        assertEquals(List.of("a@0+64[0,3]", "b@64+64[2,3]", "r@128+64[3,4]"), layout(plan));
        assertEquals(3, plan.bufferOf(named(g, "a")).lastUse());
    }

    @Test
    void checkerRejectsOverlappingLiveTensors() {
        Graph g = IrParser.parse(DIAMOND);
        MemoryPlan good = MemoryPlanner.plan(g, Map.of(), false);
        List<MemoryPlan.Buffer> bs = new java.util.ArrayList<>(good.buffers());
        MemoryPlan.Buffer b = bs.get(1);
        bs.set(1, new MemoryPlan.Buffer(b.value(), 0, b.size(), b.defStep(), b.lastUse(), null)); // b onto a
        MemoryPlan bad = new MemoryPlan(bs, good.views(), good.bindings(), good.peakBytes(), good.lowerBound(), good.naiveBytes(), good.steps());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> MemoryPlanChecker.check(g, Map.of(), bad));
        assertTrue(e.getMessage().contains("%a") && e.getMessage().contains("%b") && e.getMessage().contains("overlap"), e.getMessage());
    }

    @Test
    void checkerRejectsBogusInPlaceAndShortRanges() {
        Graph g = IrParser.parse(DIAMOND);
        MemoryPlan good = MemoryPlanner.plan(g, Map.of(), false);
        List<MemoryPlan.Buffer> bs = new java.util.ArrayList<>(good.buffers());
        MemoryPlan.Buffer b = bs.get(1);
        // b claims to reuse a in place, but a is still used by c after b is made.
        bs.set(1, new MemoryPlan.Buffer(b.value(), 0, b.size(), b.defStep(), b.lastUse(), bs.get(0).value()));
        MemoryPlan bogus = new MemoryPlan(bs, good.views(), good.bindings(), good.peakBytes(), good.lowerBound(), good.naiveBytes(), good.steps());
        assertThrows(IllegalStateException.class, () -> MemoryPlanChecker.check(g, Map.of(), bogus));

        List<MemoryPlan.Buffer> cs = new java.util.ArrayList<>(good.buffers());
        MemoryPlan.Buffer a = cs.get(0);
        cs.set(0, new MemoryPlan.Buffer(a.value(), a.offset(), a.size(), a.defStep(), 1, null)); // a really lives to 2
        MemoryPlan shortRange = new MemoryPlan(cs, good.views(), good.bindings(), good.peakBytes(), good.lowerBound(), good.naiveBytes(), good.steps());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> MemoryPlanChecker.check(g, Map.of(), shortRange));
        assertTrue(e.getMessage().contains("%a") && e.getMessage().contains("is live over [0, 2] but planned only over [0, 1]"), e.getMessage());
    }

    @Test
    void viewsHaveNoBytesAndKeepTheirOperandsAlive() {
        Graph g = IrParser.parse("""
                graph @views(%x: f32[4, 8]) {
                  %a = exp(%x) : f32[4, 8]
                  %v = reshape(%a) {shape = [32]} : f32[32]
                  %b = neg(%x) : f32[4, 8]
                  %c = flatten(%b) : f32[32]
                  %d = add(%v, %c) : f32[32]
                  return(%d)
                }
                """);
        MemoryPlan plan = checked(g, Map.of(), true);
        // v and c are views of a and b (contiguous new tensors), so a and b live until d reads the views.
        assertEquals(List.of("a@0+128[0,4]", "b@128+128[2,4]", "d@256+128[4,5]"), layout(plan));
        assertEquals(Map.of("v", "a", "c", "b"), names(plan.views()));
        assertEquals(384, plan.naiveBytes());
    }

    @Test
    void aReshapeOfAStridedViewGetsBytesAndStillKeepsItsSourceAlive() {
        Graph g = IrParser.parse("""
                graph @strided(%x: f32[4, 8]) {
                  %a = exp(%x) : f32[4, 8]
                  %p = permute(%a) {perm = [1, 0]} : f32[8, 4]
                  %r = reshape(%p) {shape = [32]} : f32[32]
                  %n = neg(%r) : f32[32]
                  return(%n)
                }
                """);
        MemoryPlan plan = checked(g, Map.of(), true);
        // The reshape of a permuted tensor copies at run time, but the planner only knows it may: r gets
        // bytes, and a (viewed by p, which r may view) stays live until r's last use.
        assertEquals(List.of("a@0+128[0,3]", "r@128+128[2,3]", "n@128+128[3,4]<r"), layout(plan));
        assertEquals(Map.of("p", "a"), names(plan.views()));
        assertEquals(dev.kiln.runtime.ArenaLayout.Kind.MAYBE_VIEW, plan.arenaLayout().slots().get(named(g, "r")).kind());
    }

    private static final String VIEWED_DONOR = """
            graph @viewed(%x: f32[4, 4]) {
              %a = exp(%x) : f32[4, 4]
              %t = permute(%a) {perm = [1, 0]} : f32[4, 4]
              %s = add(%a, %t) : f32[4, 4]
              return(%s)
            }
            """;

    /** a + a^T cannot overwrite a in place: writing s[0][1] would clobber a[0][1] before it is read as t[1][0]. */
    @Test
    void noInPlaceOverAnOperandThatAnotherOperandViews() {
        Graph g = IrParser.parse(VIEWED_DONOR);
        MemoryPlan plan = checked(g, Map.of(), true);
        assertEquals(List.of("a@0+64[0,2]", "s@64+64[2,3]"), layout(plan));
        NDArray x = NDArray.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, 4, 4);
        GraphTesting.assertSameOutputs(Interpreter.run(g, List.of(x), Map.of()), Interpreter.runInArena(g, plan.arenaLayout(),
                java.lang.foreign.Arena.ofAuto().allocate(plan.peakBytes() + 1, 64), List.of(x), Map.of()).outputs(), true);

        List<MemoryPlan.Buffer> bs = new java.util.ArrayList<>(plan.buffers());
        MemoryPlan.Buffer s = bs.get(1);
        bs.set(1, new MemoryPlan.Buffer(s.value(), 0, s.size(), s.defStep(), s.lastUse(), bs.get(0).value()));
        MemoryPlan inPlace = new MemoryPlan(bs, plan.views(), plan.bindings(), 64, 64, plan.naiveBytes(), plan.steps());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> MemoryPlanChecker.check(g, Map.of(), inPlace));
        assertTrue(e.getMessage().contains("%a") && e.getMessage().contains("%s") && e.getMessage().contains("overlap"), e.getMessage());
    }

    @Test
    void checkerRejectsViewsOfOpsThatCopyAndViewsWithoutALiveSource() {
        Graph g = IrParser.parse(DIAMOND);
        MemoryPlan good = MemoryPlanner.plan(g, Map.of(), false);
        List<MemoryPlan.Buffer> bs = new java.util.ArrayList<>(good.buffers());
        MemoryPlan.Buffer b = bs.remove(1);
        MemoryPlan bogus = new MemoryPlan(bs, Map.of(b.value(), named(g, "a")), Map.of(), good.peakBytes(), good.lowerBound(),
                good.naiveBytes() - b.size(), good.steps());
        IllegalStateException copy = assertThrows(IllegalStateException.class, () -> MemoryPlanChecker.check(g, Map.of(), bogus));
        assertTrue(copy.getMessage().contains("%b") && copy.getMessage().contains("is planned as a view but neg returns new storage"), copy.getMessage());

        Graph v = IrParser.parse("""
                graph @v(%x: f32[8]) {
                  %a = exp(%x) : f32[8]
                  %r = reshape(%a) {shape = [2, 4]} : f32[2, 4]
                  %n = neg(%r) : f32[2, 4]
                  return(%n)
                }
                """);
        MemoryPlan ok = MemoryPlanner.plan(v, Map.of(), false);
        List<MemoryPlan.Buffer> cs = new java.util.ArrayList<>(ok.buffers());
        MemoryPlan.Buffer a = cs.get(0);
        cs.set(0, new MemoryPlan.Buffer(a.value(), a.offset(), a.size(), a.defStep(), 1, null)); // as if r did not need a
        MemoryPlan early = new MemoryPlan(cs, ok.views(), ok.bindings(), ok.peakBytes(), ok.lowerBound(), ok.naiveBytes(), ok.steps());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> MemoryPlanChecker.check(v, Map.of(), early));
        assertTrue(e.getMessage().contains("%a") && e.getMessage().contains("is live over [0, 2] but planned only over [0, 1]"), e.getMessage());
    }

    private static Map<String, String> names(Map<Value, Value> views) {
        Map<String, String> out = new java.util.HashMap<>();
        views.forEach((k, v) -> out.put(k.name(), v.name()));
        return out;
    }

    @Test
    void reportIsOneLine() {
        String line = MemoryPlanner.report(IrParser.parse(DIAMOND), Map.of());
        assertEquals("diamond: planned peak 0.5 KiB vs lower bound 0.5 KiB vs naive 1.0 KiB (4 tensors, 2 in place)", line);
    }
}
