package dev.kiln.ir.testing;

import dev.kiln.ir.Attribute;
import dev.kiln.ir.Block;
import dev.kiln.ir.Builder;
import dev.kiln.ir.DType;
import dev.kiln.ir.Dim;
import dev.kiln.ir.Graph;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.Op;
import dev.kiln.ir.ScalarType;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Type;
import dev.kiln.ir.Value;
import dev.kiln.ir.VerificationException;
import dev.kiln.ir.Verifier;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.RandomDistribution;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Random valid graphs for property tests, shared with other modules through kiln-ir's test-jar.
 * Graphs have f32 inputs with small static or symbolic ({@code N}) shapes, named weights, ops of
 * every kind in the registry (including constants of every dtype and {@code if}/{@code loop} with
 * nested regions) and 1-3 outputs. Every graph passes {@link Verifier#verify} before it is handed out.
 *
 * <p>A graph is decoded from a tape of random choices, so jqwik shrinks a failing graph by
 * shrinking its tape: fewer choices give fewer inputs, fewer ops and shallower regions.
 */
public final class RandomGraphs {

    private static final int MAX_TAPE = 400;
    private static final int MAX_DEPTH = 2;

    private RandomGraphs() {}

    /** Valid, verified random graphs; each draw builds a fresh, independently mutable graph. */
    public static Arbitrary<Graph> graphs() {
        return tapes().map(RandomGraphs::fromTape);
    }

    /** The choice tapes behind {@link #graphs()}, for tests that want to rebuild the same graph twice. */
    public static Arbitrary<List<Integer>> tapes() {
        return Arbitraries.integers().between(0, 1 << 16).withoutEdgeCases()
                .list().ofMaxSize(MAX_TAPE).withSizeDistribution(RandomDistribution.uniform())
                .withoutEdgeCases();
    }

    /** A graph from a seed, for plain (non-jqwik) tests. */
    public static Graph fromSeed(long seed) {
        Random r = new Random(seed);
        List<Integer> tape = new ArrayList<>();
        for (int i = 0; i < MAX_TAPE; i++) tape.add(r.nextInt(1 << 16));
        return fromTape(tape);
    }

    /** Decodes a choice tape into a graph; the same tape always gives the same graph. */
    public static Graph fromTape(List<Integer> tape) {
        Choices c = new Choices(tape);
        Graph g = new Graph(c.pick(List.of("g", "mlp", "net", "model.v2")));
        GenState s = new GenState(g, c, 40);
        List<Value> pool = new ArrayList<>();
        int inputs = c.between(1, 3);
        for (int i = 0; i < inputs; i++) {
            String name = c.chance(85) ? List.of("x", "y", "z").get(i) : null;
            pool.add(g.addInput(name, inputType(c)));
        }
        Builder b = Builder.atEnd(g.body());
        block(s, b, pool, 0, c.between(0, 12));
        int outputs = c.between(1, 3);
        Value[] out = new Value[outputs];
        for (int i = 0; i < outputs; i++) out[i] = recent(s, pool);
        b.ret(out);
        try {
            Verifier.verify(g);
        } catch (VerificationException e) {
            throw new AssertionError("RandomGraphs built an invalid graph: " + e.getMessage() + "\n" + IrPrinter.print(g), e);
        }
        return g;
    }

    private static TensorType inputType(Choices c) {
        Dim n = Dim.sym("N");
        return switch (c.next(6)) {
            case 0 -> TensorType.of(DType.F32, n, Dim.of(c.between(2, 4)));
            case 1 -> TensorType.of(DType.F32, c.between(1, 3), c.between(1, 4));
            case 2 -> TensorType.of(DType.F32, n, Dim.of(c.between(1, 2)), Dim.of(c.between(4, 6)), Dim.of(c.between(4, 6)));
            case 3 -> TensorType.of(DType.F32, c.between(1, 4));
            case 4 -> TensorType.of(DType.F32, 2, c.between(1, 2), c.between(3, 5), c.between(3, 5));
            default -> new TensorType(DType.F32, dev.kiln.ir.Shape.SCALAR);
        };
    }

    /** Appends up to {@code count} ops to the block, adding their results to {@code pool}. */
    private static void block(GenState s, Builder b, List<Value> pool, int depth, int count) {
        for (int i = 0; i < count && s.opBudget > 0 && !s.c.exhausted(); i++) {
            s.opBudget--;
            int kind = s.c.next(10);
            if (kind == 0 && depth < MAX_DEPTH) {
                ifOp(s, b, pool, depth);
            } else if (kind == 1 && depth < MAX_DEPTH) {
                loop(s, b, pool, depth);
            } else {
                Value v = RandomOps.any(s, b, pool);
                s.maybeName(v);
                pool.add(v);
            }
        }
    }

    /** Mostly one of the latest values, so that chains form; sometimes any value in scope. */
    private static Value recent(GenState s, List<Value> pool) {
        if (s.c.chance(30)) return s.c.pick(pool);
        return pool.get(pool.size() - 1 - s.c.next(Math.min(3, pool.size())));
    }

    private static void ifOp(GenState s, Builder b, List<Value> pool, int depth) {
        Value cond = RandomOps.condition(s, b, pool);
        if (!pool.contains(cond)) pool.add(cond);
        List<Type> types = new ArrayList<>();
        int results = s.c.next(3);
        for (int i = 0; i < results; i++) types.add(s.c.pick(pool).type());
        Op op = b.ifOp(cond, types);
        for (Block region : op.regions()) {
            List<Value> inner = new ArrayList<>(pool);
            Builder rb = Builder.atEnd(region);
            block(s, rb, inner, depth + 1, s.c.between(0, 4));
            rb.yield(types.stream().map(t -> ofType(s, inner, t)).toArray(Value[]::new));
        }
        for (Value r : op.results()) {
            s.maybeName(r);
            pool.add(r);
        }
    }

    private static void loop(GenState s, Builder b, List<Value> pool, int depth) {
        Value trip = s.c.chance(70) ? b.constant(Attribute.of((long) s.c.between(0, 4)))
                : pool.stream().filter(v -> v.type() == ScalarType.INT).findFirst()
                        .orElseGet(() -> b.constant(Attribute.of(3L)));
        Value cond = RandomOps.condition(s, b, pool);
        if (!pool.contains(cond)) pool.add(cond);
        List<Value> init = new ArrayList<>();
        int carried = s.c.between(0, 2);
        for (int i = 0; i < carried; i++) init.add(s.c.pick(pool));
        Op op = b.loop(trip, cond, init);
        Block body = op.region(0);
        List<Value> inner = new ArrayList<>(pool);
        inner.addAll(body.arguments());
        for (Value arg : body.arguments().subList(1, body.arguments().size())) s.maybeName(arg);
        Builder rb = Builder.atEnd(body);
        block(s, rb, inner, depth + 1, s.c.between(0, 4));
        List<Value> next = new ArrayList<>();
        next.add(s.c.chance(50) ? RandomOps.condition(s, rb, inner) : ofType(s, inner, ScalarType.BOOL));
        for (Value v : init) next.add(ofType(s, inner, v.type()));
        rb.yield(next.toArray(Value[]::new));
        for (Value r : op.results()) {
            s.maybeName(r);
            pool.add(r);
        }
    }

    /** A value of exactly {@code type} in scope; the caller guarantees one exists (or it is bool). */
    private static Value ofType(GenState s, List<Value> pool, Type type) {
        List<Value> fits = pool.stream().filter(v -> v.type().equals(type)).toList();
        if (fits.isEmpty()) throw new IllegalStateException("no value of type " + type + " in scope");
        return s.c.chance(60) ? fits.get(fits.size() - 1) : s.c.pick(fits);
    }
}
