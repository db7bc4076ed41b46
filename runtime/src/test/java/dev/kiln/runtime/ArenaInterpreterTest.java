package dev.kiln.runtime;

import dev.kiln.ir.Attribute;
import dev.kiln.ir.Builder;
import dev.kiln.ir.DType;
import dev.kiln.ir.Graph;
import dev.kiln.ir.IrException;
import dev.kiln.ir.IrParser;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpRegistry;
import dev.kiln.ir.OpSchema;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Trait;
import dev.kiln.ir.Value;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The interpreter's planned mode on hand-made layouts (the planner lives in passes): results land in
 * their slots, fresh slots are zero-filled, in-place slots are safe for every elementwise kernel,
 * views share their operand's slot, and outputs are copies that outlive the arena's next use.
 */
class ArenaInterpreterTest {

    /** Every tensor result its own slot, one after another; views (by {@link ResultStorage}) none. */
    private static ArenaLayout separateSlots(Graph g, Map<String, Long> bindings) {
        Map<Value, ArenaLayout.Slot> slots = new IdentityHashMap<>();
        long offset = 0;
        ArenaLayout sizing = new ArenaLayout(0, bindings, Map.of());
        for (Op op : g.body().ops()) {
            for (Value r : op.results()) {
                if (!(r.type() instanceof TensorType tt)) continue;
                ResultStorage storage = ResultStorage.of(op);
                if (storage == ResultStorage.VIEW) {
                    slots.put(r, new ArenaLayout.Slot(0, 0, ArenaLayout.Kind.VIEW));
                    continue;
                }
                long size = (sizing.byteSize(tt, r) + 63) / 64 * 64;
                slots.put(r, new ArenaLayout.Slot(offset, size, storage == ResultStorage.NEW ? ArenaLayout.Kind.OWN : ArenaLayout.Kind.MAYBE_VIEW));
                offset += size;
            }
        }
        return new ArenaLayout(offset, bindings, slots);
    }

    private static NDArray random(DType dtype, Random r, long... shape) {
        NDArray a = NDArray.zeros(dtype, shape);
        for (long i = 0; i < a.numel(); i++) a.setFlat(i, dtype == DType.BOOL ? (r.nextBoolean() ? 1 : 0) : r.nextGaussian());
        return a;
    }

    /** Same dtype, shape and bits (as doubles: NaN equals NaN, -0.0 differs from 0.0). */
    private static void assertSameOutputs(List<Object> expected, List<Object> actual) {
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < expected.size(); i++) {
            NDArray a = (NDArray) expected.get(i), b = (NDArray) actual.get(i);
            assertEquals(a.dtype(), b.dtype());
            assertArrayEquals(a.shape(), b.shape());
            assertArrayEquals(a.toDoubleArray(), b.toDoubleArray(), "output " + i);
        }
    }

    private static boolean inside(NDArray a, MemorySegment arena) {
        long at = a.segment().address();
        return a.segment().isNative() && at >= arena.address() && at < arena.address() + arena.byteSize();
    }

    private static MemorySegment arenaFor(ArenaLayout layout, long scratch) {
        return layout.allocate(Arena.ofAuto(), scratch);
    }

    @Test
    void resultsAreWrittenIntoTheirSlotsAndOutputsCopiedOut() {
        Graph g = IrParser.parse("""
                graph @chain(%x: f32[N, 8]) {
                  %a = exp(%x) : f32[N, 8]
                  %b = neg(%a) : f32[N, 8]
                  %c = relu(%b) : f32[N, 8]
                  return(%c)
                }
                """);
        ArenaLayout layout = separateSlots(g, Map.of("N", 3L));
        MemorySegment arena = arenaFor(layout, 0);
        NDArray x = random(DType.F32, new Random(1), 3, 8);
        byte[] before = x.toLittleEndianBytes();
        long allocations = Allocations.count();
        Interpreter.ArenaRun run = Interpreter.runInArena(g, layout, arena, List.of(x), Map.of());
        assertEquals(1, Allocations.count() - allocations, "only the output copy is fresh memory");
        assertEquals(3, run.placed());
        assertEquals(0, run.copied() + run.relocated() + run.unplanned() + run.views());
        NDArray out = (NDArray) run.outputs().get(0);
        assertFalse(inside(out, arena), "outputs are copied out of the arena");
        assertSameOutputs(Interpreter.run(g, List.of(x), Map.of()), run.outputs());
        assertArrayEquals(before, x.toLittleEndianBytes(), "the input is untouched");
        // The arena holds c's bytes at c's slot.
        NDArray slotC = NDArray.wrap(arena, DType.F32, new long[] {3, 8}, new long[] {8, 1},
                layout.slots().get(g.outputs().get(0)).offset() / 4);
        assertArrayEquals(out.toFloatArray(), slotC.toFloatArray());
    }

    @Test
    void outputsStayValidAfterTheNextRunReusesTheArena() {
        Graph g = IrParser.parse("""
                graph @two(%x: f32[4]) {
                  %a = tanh(%x) : f32[4]
                  %b = mul(%a, %x) : f32[4]
                  return(%b, %a)
                }
                """);
        ArenaLayout layout = separateSlots(g, Map.of());
        MemorySegment arena = arenaFor(layout, 0);
        NDArray x1 = NDArray.of(new float[] {1, -2, 3, 0.5f});
        List<Object> first = Interpreter.runInArena(g, layout, arena, List.of(x1), Map.of()).outputs();
        float[] firstB = ((NDArray) first.get(0)).toFloatArray();
        Interpreter.runInArena(g, layout, arena, List.of(NDArray.of(new float[] {9, 9, 9, 9})), Map.of());
        assertArrayEquals(firstB, ((NDArray) first.get(0)).toFloatArray(), "the second run must not change the first run's outputs");
        assertSameOutputs(Interpreter.run(g, List.of(x1), Map.of()), first);
    }

    /**
     * Kernels that accumulate into their output (convolution, GEMM, reductions, padding, pooling) see
     * a zeroed slot even when the arena holds garbage (all bits set: NaN) from earlier use.
     */
    @Test
    void freshSlotsAreZeroFilledOverGarbage() {
        Graph g = IrParser.parse("""
                graph @acc(%img: f32[2, 3, 6, 6], %m: f32[4, 5]) weights(@w: f32[4, 3, 3, 3], @fc: f32[7, 5]) {
                  %c = conv2d(%img, @w) {padding = [1, 1]} : f32[2, 4, 6, 6]
                  %p = avg_pool2d(%c) {kernel_size = [2, 2], stride = [2, 2], padding = [1, 1]} : f32[2, 4, 4, 4]
                  %s = sum(%p) {axes = [2, 3]} : f32[2, 4]
                  %d = pad(%s) {pads = [1, 2], value = 0.0} : f32[2, 7]
                  %l = linear(%m, @fc) : f32[4, 7]
                  %k = cat(%d, %l) {axis = 0} : f32[6, 7]
                  %t = matmul(%k, @fc) : f32[6, 5]
                  %r = max_pool2d(%c) {kernel_size = [3, 3], stride = [1, 1], padding = [1, 1]} : f32[2, 4, 6, 6]
                  return(%t, %r)
                }
                """);
        Random random = new Random(2);
        List<Object> inputs = List.of(random(DType.F32, random, 2, 3, 6, 6), random(DType.F32, random, 4, 5));
        Map<String, NDArray> weights = Map.of("w", random(DType.F32, random, 4, 3, 3, 3), "fc", random(DType.F32, random, 7, 5));
        ArenaLayout layout = separateSlots(g, Map.of());
        MemorySegment arena = arenaFor(layout, 1 << 16);
        arena.fill((byte) 0xFF);
        Interpreter.ArenaRun run = Interpreter.runInArena(g, layout, arena, inputs, weights);
        assertSameOutputs(Interpreter.run(g, inputs, weights), run.outputs());
        assertEquals(8, run.placed());
        assertTrue(run.scratchBytes() > 0, "the convolution's im2col scratch comes from the arena's scratch space");
    }

    @Test
    void kernelScratchComesFromTheArenaWhenItFits() {
        Graph g = IrParser.parse("""
                graph @conv(%img: f32[1, 2, 8, 8]) weights(@w: f32[3, 2, 3, 3]) {
                  %c = conv2d(%img, @w) : f32[1, 3, 6, 6]
                  return(%c)
                }
                """);
        Random random = new Random(3);
        List<Object> inputs = List.of(random(DType.F32, random, 1, 2, 8, 8));
        Map<String, NDArray> weights = Map.of("w", random(DType.F32, random, 3, 2, 3, 3));
        ArenaLayout layout = separateSlots(g, Map.of());
        MemorySegment tight = arenaFor(layout, 0);
        long before = Allocations.count();
        Interpreter.ArenaRun small = Interpreter.runInArena(g, layout, tight, inputs, weights);
        long withoutScratch = Allocations.count() - before;
        MemorySegment roomy = arenaFor(layout, small.scratchBytes());
        before = Allocations.count();
        Interpreter.ArenaRun fits = Interpreter.runInArena(g, layout, roomy, inputs, weights);
        assertEquals(1, Allocations.count() - before, "with room for scratch, only the output copy is fresh");
        assertEquals(2, withoutScratch - 1, "without room, the im2col and GEMM buffers are fresh");
        assertEquals(small.scratchBytes(), fits.scratchBytes());
        assertSameOutputs(small.outputs(), fits.outputs());
    }

    /** An operand of each elementwise op is overwritten in place by its result; results match the normal run. */
    @Test
    void inPlaceIsSafeForEveryElementwiseKernel() {
        int checked = 0;
        for (OpSchema schema : OpRegistry.all()) {
            if (!schema.has(Trait.ELEMENTWISE) || !OpKernels.has(schema.name())) continue;
            List<List<DType>> typings = switch (schema.name()) {
                case "where" -> List.of(List.of(DType.BOOL, DType.F32, DType.F32), List.of(DType.BOOL, DType.BOOL, DType.BOOL));
                default -> List.of(java.util.Collections.nCopies(schema.minOperands(), DType.F32),
                        java.util.Collections.nCopies(schema.minOperands(), DType.BOOL));
            };
            Map<String, Attribute> attrs = switch (schema.name()) {
                case "pow_scalar" -> Map.of("exponent", Attribute.of(3.0));
                case "cast" -> Map.of("dtype", Attribute.of(DType.F64));
                default -> Map.of();
            };
            for (List<DType> types : typings) for (int donor = 0; donor < types.size(); donor++) {
                // The donor has the result's full shape; the other operands broadcast from [1, 8].
                Graph g = new Graph("in_place_" + schema.name());
                Builder b = Builder.atEnd(g.body());
                List<Value> operands = new ArrayList<>();
                for (int k = 0; k < types.size(); k++) {
                    TensorType t = TensorType.of(types.get(k), k == donor ? 4 : 1, 8);
                    operands.add(b.op("clone", g.addInput("x" + k, t)));
                }
                Value r;
                try {
                    r = b.op(schema.name(), attrs, operands.toArray(Value[]::new));
                } catch (IrException notForTheseTypes) {
                    continue;
                }
                b.ret(r);
                if (!r.type().equals(operands.get(donor).type())) continue;
                Map<Value, ArenaLayout.Slot> slots = new IdentityHashMap<>();
                for (int k = 0; k < operands.size(); k++) slots.put(operands.get(k), new ArenaLayout.Slot(256L * k, 256, ArenaLayout.Kind.OWN));
                slots.put(r, new ArenaLayout.Slot(256L * donor, 256, ArenaLayout.Kind.IN_PLACE));
                ArenaLayout layout = new ArenaLayout(256L * operands.size(), Map.of(), slots);
                Random random = new Random(schema.name().hashCode());
                List<Object> inputs = new ArrayList<>();
                for (Value in : g.inputs()) inputs.add(random(in.tensorType().dtype(), random, in.tensorType().shape().toArray()));
                Interpreter.ArenaRun run = Interpreter.runInArena(g, layout, arenaFor(layout, 0), inputs, Map.of());
                assertSameOutputs(Interpreter.run(g, inputs, Map.of()), run.outputs());
                assertEquals(operands.size() + 1, run.placed(), schema.name() + " wrote its result elsewhere");
                checked++;
            }
        }
        assertTrue(checked >= 40, "only " + checked + " in-place cases ran");
    }

    @Test
    void viewsShareTheirOperandsSlotAndReshapesOfStridedTensorsCopyIntoTheirOwn() {
        Graph g = IrParser.parse("""
                graph @views(%x: f32[2, 6]) {
                  %a = exp(%x) : f32[2, 6]
                  %v = reshape(%a) {shape = [3, 4]} : f32[3, 4]
                  %p = permute(%a) {perm = [1, 0]} : f32[6, 2]
                  %m = reshape(%p) {shape = [12]} : f32[12]
                  %f = flatten(%v) : f32[12]
                  %s = add(%m, %f) : f32[12]
                  return(%s, %p)
                }
                """);
        Map<Value, ArenaLayout.Slot> slots = new IdentityHashMap<>();
        List<Value> rs = g.body().ops().stream().filter(op -> op.results().size() == 1).map(Op::result).toList();
        slots.put(rs.get(0), new ArenaLayout.Slot(0, 64, ArenaLayout.Kind.OWN));                     // a
        slots.put(rs.get(1), new ArenaLayout.Slot(0, 0, ArenaLayout.Kind.VIEW));                     // v: reshape of contiguous a
        slots.put(rs.get(2), new ArenaLayout.Slot(0, 0, ArenaLayout.Kind.VIEW));                     // p
        slots.put(rs.get(3), new ArenaLayout.Slot(64, 64, ArenaLayout.Kind.MAYBE_VIEW));             // m: must copy
        slots.put(rs.get(4), new ArenaLayout.Slot(128, 64, ArenaLayout.Kind.MAYBE_VIEW));            // f: will be a view
        slots.put(rs.get(5), new ArenaLayout.Slot(192, 64, ArenaLayout.Kind.OWN));                   // s
        ArenaLayout layout = new ArenaLayout(256, Map.of(), slots);
        NDArray x = random(DType.F32, new Random(4), 2, 6);
        Interpreter.ArenaRun run = Interpreter.runInArena(g, layout, arenaFor(layout, 0), List.of(x), Map.of());
        assertSameOutputs(Interpreter.run(g, List.of(x), Map.of()), run.outputs());
        assertEquals(3, run.views(), "v, p and f are views");
        assertEquals(3, run.placed(), "a, the copy m and s are in their slots");
        assertEquals(0, run.relocated() + run.unplanned());
    }

    /**
     * layer_norm copies a strided input to a contiguous temporary first; that temporary takes the slot,
     * so the result is fresh memory: correct, and visible as an unplanned result and an allocation.
     */
    @Test
    void aResultDisplacedByATemporaryStaysInFreshMemory() {
        Graph g = IrParser.parse("""
                graph @norm(%x: f32[5, 3]) {
                  %a = exp(%x) : f32[5, 3]
                  %p = permute(%a) {perm = [1, 0]} : f32[3, 5]
                  %n = layer_norm(%p) {normalized_dims = 1} : f32[3, 5]
                  %o = neg(%n) : f32[3, 5]
                  return(%o)
                }
                """);
        ArenaLayout layout = separateSlots(g, Map.of());
        NDArray x = random(DType.F32, new Random(5), 5, 3);
        MemorySegment arena = arenaFor(layout, 0);
        long before = Allocations.count();
        Interpreter.ArenaRun run = Interpreter.runInArena(g, layout, arena, List.of(x), Map.of());
        assertEquals(2, Allocations.count() - before, "layer_norm's result and the output copy");
        assertSameOutputs(Interpreter.run(g, List.of(x), Map.of()), run.outputs());
        assertEquals(1, run.unplanned());
        assertEquals(2, run.placed(), "a and o");
    }

    @Test
    void regionResultsAreCopiedIntoTheirSlots() {
        Graph g = IrParser.parse("""
                graph @branch(%x: f32[4], %c: bool) {
                  %a = exp(%x) : f32[4]
                  %r = if(%c) : f32[4] {
                    %i = neg(%a) : f32[4]
                    yield(%i)
                  } {
                    yield(%a)
                  }
                  %o = add(%r, %a) : f32[4]
                  return(%o)
                }
                """);
        ArenaLayout layout = separateSlots(g, Map.of());
        MemorySegment arena = arenaFor(layout, 0);
        NDArray x = NDArray.of(new float[] {1, 2, -3, 0});
        for (boolean c : new boolean[] {true, false}) {
            Interpreter.ArenaRun run = Interpreter.runInArena(g, layout, arena, List.of(x, c), Map.of());
            assertSameOutputs(Interpreter.run(g, List.of(x, c), Map.of()), run.outputs());
            assertEquals(1, run.copied());
            assertEquals(2, run.placed());
        }
    }

    @Test
    void symbolicDimsMustMatchTheLayoutsSizes() {
        Graph g = IrParser.parse("""
                graph @sym(%x: f32[N, 2]) {
                  %a = relu(%x) : f32[N, 2]
                  return(%a)
                }
                """);
        ArenaLayout layout = separateSlots(g, Map.of("N", 3L));
        InputMismatchException e = assertThrows(InputMismatchException.class, () -> Interpreter.runInArena(g, layout,
                arenaFor(layout, 0), List.of(NDArray.zeros(DType.F32, 5, 2)), Map.of()));
        assertTrue(e.getMessage().contains("input 0 expected f32[N, 2], got f32[5, 2]") && e.getMessage().contains("planned for sizes {N=3}"),
                e.getMessage());
    }

    @Test
    void badArenasAndForeignLayoutsAreRejected() {
        String text = """
                graph @g(%x: f32[16]) {
                  %a = exp(%x) : f32[16]
                  return(%a)
                }
                """;
        Graph g = IrParser.parse(text);
        ArenaLayout layout = separateSlots(g, Map.of());
        List<Object> in = List.of(NDArray.zeros(DType.F32, 16));
        IllegalArgumentException small = assertThrows(IllegalArgumentException.class,
                () -> Interpreter.runInArena(g, layout, Arena.ofAuto().allocate(32), in, Map.of()));
        assertTrue(small.getMessage().contains("needs an arena of 64 bytes, got 32"), small.getMessage());
        IllegalArgumentException heap = assertThrows(IllegalArgumentException.class,
                () -> Interpreter.runInArena(g, layout, MemorySegment.ofArray(new byte[64]), in, Map.of()));
        assertTrue(heap.getMessage().contains("off-heap"), heap.getMessage());
        Graph other = IrParser.parse(text);
        IllegalArgumentException foreign = assertThrows(IllegalArgumentException.class,
                () -> Interpreter.runInArena(other, layout, arenaFor(layout, 0), in, Map.of()));
        assertTrue(foreign.getMessage().contains("has no slot for %a") && foreign.getMessage().contains("another graph instance"),
                foreign.getMessage());
        Map<Value, ArenaLayout.Slot> tiny = Map.of(g.outputs().get(0), new ArenaLayout.Slot(0, 32, ArenaLayout.Kind.OWN));
        IllegalArgumentException tooSmall = assertThrows(IllegalArgumentException.class,
                () -> new ArenaLayout(64, Map.of(), tiny).check(g));
        assertTrue(tooSmall.getMessage().contains("needs 64 bytes") && tooSmall.getMessage().contains("its slot has 32"), tooSmall.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new ArenaLayout(16, Map.of(), tiny));
    }

    /** The runtime's statement about views is what its kernels do. */
    @Test
    void resultStorageMatchesTheKernels() {
        Graph g = IrParser.parse("""
                graph @v(%x: f32[2, 3, 4]) {
                  %p = permute(%x) {perm = [2, 0, 1]} : f32[4, 2, 3]
                  %e = expand(%x) {shape = [5, 2, 3, 4]} : f32[5, 2, 3, 4]
                  %s = slice(%x) {axis = 1, start = 1, end = 3} : f32[2, 2, 4]
                  %c = cast(%x) {dtype = f32} : f32[2, 3, 4]
                  %r = reshape(%x) {shape = [6, 4]} : f32[6, 4]
                  %f = flatten(%x) : f32[24]
                  %d = cast(%x) {dtype = f64} : f64[2, 3, 4]
                  %n = neg(%x) : f32[2, 3, 4]
                  return(%p, %e, %s, %c, %r, %f, %d, %n)
                }
                """);
        NDArray x = random(DType.F32, new Random(6), 2, 3, 4);
        List<Object> out = Interpreter.run(g, List.of(x), Map.of());
        List<Op> ops = g.body().ops();
        for (int i = 0; i < out.size(); i++) {
            boolean shares = ((NDArray) out.get(i)).segment() == x.segment();
            ResultStorage storage = ResultStorage.of(ops.get(i));
            assertEquals(storage != ResultStorage.NEW, shares, ops.get(i).name() + " on a contiguous tensor: " + storage);
        }
        assertEquals(ResultStorage.VIEW_IF_STRIDES_ALLOW, ResultStorage.of(ops.get(4)));
        assertSame(ResultStorage.VIEW, ResultStorage.of(ops.get(3)));
        assertSame(ResultStorage.NEW, ResultStorage.of(ops.get(6)));
    }
}
