package dev.kiln.tracer;

import dev.kiln.ir.Attribute;
import dev.kiln.ir.Block;
import dev.kiln.ir.Builder;
import dev.kiln.ir.Graph;
import dev.kiln.ir.IrException;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.Op;
import dev.kiln.ir.Value;
import dev.kiln.ir.Verifier;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Makes sizes read from dynamic dims symbolic, from two recordings of the same code at different
 * sizes (tracing and bytecode capture both record twice). The graphs must have the same ops; where
 * they differ only in a {@code reshape}/{@code expand} {@code shape} entry that equals a dynamic dim's
 * size in both recordings (the code passed {@code x.dim(0)} itself), the entry becomes the dim's
 * symbol ({@code shape = [N, -1]}). Any other difference (a product such as {@code x.dim(0) * 4},
 * another op's attribute, a constant shaped by the size) is a {@link Mismatch} describing it.
 */
public final class SizeSymbols {

    private SizeSymbols() {}

    /** The ops whose {@code shape} entries may become symbols. */
    static final Set<String> REWRITTEN_OPS = Set.of("reshape", "expand");

    /** What is rewritten automatically, for error messages. */
    public static final String REWRITE_RULE = "Kiln rewrites a reshape/expand size that is exactly a dynamic dim "
            + "(x.reshape(x.dim(0), -1), x.expand(x.dim(0), 3, 5)) into the dim's symbol; any other use of the size "
            + "(arithmetic such as x.dim(0) * 4, other ops' arguments, tensors created with that size) is frozen. "
            + "Use -1 in reshape, flatten(), or ops that derive sizes from their inputs.";

    /** One symbol and the size it had in the first and in the second recording (they must differ). */
    public record Sizes(String symbol, long first, long second) {}

    /** A difference between the two recordings that is not a rewritable size. */
    public static final class Mismatch extends RuntimeException {
        Mismatch(String message) { super(message); }
    }

    /**
     * {@code first} itself when both recordings print the same, else a copy of {@code first} with the
     * size entries made symbolic (verified). Symbols whose sizes coincide in both recordings are
     * ambiguous and never matched.
     *
     * @throws Mismatch naming the first difference that is not a rewritable size
     */
    public static Graph rewrite(Graph first, Graph second, List<Sizes> sizes) {
        String a = IrPrinter.print(first), b = IrPrinter.print(second);
        if (a.equals(b)) return first;
        List<Op> opsA = new ArrayList<>(), opsB = new ArrayList<>();
        collect(first.body(), opsA);
        collect(second.body(), opsB);
        Map<Op, Map<String, Attribute>> overridesA = new IdentityHashMap<>(), overridesB = new IdentityHashMap<>();
        for (int i = 0; i < Math.min(opsA.size(), opsB.size()); i++) {
            Op x = opsA.get(i), y = opsB.get(i);
            if (!x.name().equals(y.name())) {
                throw new Mismatch("the op sequence changes at op #" + i + ": '" + x.name() + "' becomes '" + y.name() + "'");
            }
            if (x.attributes().equals(y.attributes())) continue;
            Map<String, Attribute> attrs = new LinkedHashMap<>(x.attributes());
            for (String key : union(x.attributes().keySet(), y.attributes().keySet())) {
                Attribute va = x.attributes().get(key), vb = y.attributes().get(key);
                if (va != null && va.equals(vb)) continue;
                if (!REWRITTEN_OPS.contains(x.name()) || !key.equals("shape")
                        || !(va instanceof Attribute.Ints ia) || !(vb instanceof Attribute.Ints ib)
                        || ia.values().length != ib.values().length) {
                    throw new Mismatch("op #" + i + " '" + x.name() + "' has attribute '" + key + "' = " + text(va)
                            + " at the example sizes but " + text(vb) + " at other sizes");
                }
                attrs.put(key, symbolic(i, x.name(), ia.values(), ib.values(), sizes));
            }
            overridesA.put(x, attrs);
            overridesB.put(y, attrs);
        }
        if (opsA.size() != opsB.size()) {
            throw new Mismatch("the number of ops changes with the size (" + opsA.size() + " vs " + opsB.size() + ")");
        }
        Graph ra, rb;
        try {
            ra = copy(first, overridesA);
            rb = copy(second, overridesB);
        } catch (IrException e) {
            throw new Mismatch("the graph with symbolic sizes does not build: " + e.getMessage());
        }
        a = IrPrinter.print(ra);
        b = IrPrinter.print(rb);
        if (!a.equals(b)) {
            String[] la = a.split("\n"), lb = b.split("\n");
            int line = 0;
            while (line < Math.min(la.length, lb.length) && la[line].equals(lb[line])) line++;
            throw new Mismatch("the graph changes at\n  " + (line < la.length ? la[line].trim() : "(end)")
                    + "\nwhich becomes\n  " + (line < lb.length ? lb[line].trim() : "(end)"));
        }
        try {
            Verifier.verify(ra);
        } catch (RuntimeException e) {
            throw new Mismatch("the graph with symbolic sizes does not verify: " + e.getMessage());
        }
        return ra;
    }

    private static Attribute symbolic(int index, String op, long[] a, long[] b, List<Sizes> sizes) {
        Object[] entries = new Object[a.length];
        for (int j = 0; j < a.length; j++) {
            if (a[j] == b[j]) {
                entries[j] = a[j];
                continue;
            }
            String match = null;
            int matches = 0;
            for (Sizes s : sizes) {
                if (s.first() == a[j] && s.second() == b[j] && !s.symbol().equals(match)) {
                    match = s.symbol();
                    matches++;
                }
            }
            if (matches != 1) {
                long x = a[j], y = b[j];
                throw new Mismatch("op #" + index + " '" + op + "' has shape entry " + j + " = " + a[j] + " at the example sizes but "
                        + b[j] + " at other sizes, which is " + (matches == 0 ? "not the size of a dynamic dim itself"
                        : "ambiguous between dynamic dims " + sizes.stream().filter(s -> s.first() == x && s.second() == y)
                                .map(Sizes::symbol).distinct().toList()));
            }
            entries[j] = match;
        }
        return Attribute.dims(entries);
    }

    private static String text(Attribute a) { return a == null ? "(absent)" : a.toString(); }

    private static List<String> union(Set<String> a, Set<String> b) {
        List<String> out = new ArrayList<>(a);
        for (String k : b) if (!a.contains(k)) out.add(k);
        return out;
    }

    private static void collect(Block block, List<Op> out) {
        for (Op op : block.ops()) {
            out.add(op);
            for (Block r : op.regions()) collect(r, out);
        }
    }

    /**
     * A copy of {@code graph} with the attributes of the ops in {@code overrides} replaced; result types
     * are inferred again, so symbolic sizes flow to later ops. Ops with regions keep their declared
     * result and region argument types (the verifier rejects a copy where a region's types changed).
     */
    static Graph copy(Graph graph, Map<Op, Map<String, Attribute>> overrides) {
        Graph out = new Graph(graph.name());
        Map<Value, Value> map = new IdentityHashMap<>();
        for (Value in : graph.inputs()) map.put(in, out.addInput(in.name(), in.type()));
        graph.weights().forEach((name, w) -> map.put(w, out.addWeight(name, w.tensorType())));
        copyBlock(graph.body(), out.body(), map, overrides);
        return out;
    }

    private static void copyBlock(Block from, Block to, Map<Value, Value> map, Map<Op, Map<String, Attribute>> overrides) {
        Builder b = Builder.atEnd(to);
        for (Op op : from.ops()) {
            List<Value> operands = op.operands().stream().map(v -> {
                Value m = map.get(v);
                if (m == null) throw new IllegalStateException("value " + v + " is used before it is defined");
                return m;
            }).toList();
            Map<String, Attribute> attrs = overrides.getOrDefault(op, op.attributes());
            Op copy;
            if (op.regions().isEmpty()) {
                copy = b.create(op.name(), operands, attrs);
            } else {
                copy = b.createWithResultTypes(op.name(), operands, attrs, op.results().stream().map(Value::type).toList());
                for (int r = 0; r < op.regions().size(); r++) {
                    Block src = op.region(r), dst = copy.region(r);
                    for (Value arg : src.arguments()) map.put(arg, dst.addArgument(arg.type(), arg.name()));
                    copyBlock(src, dst, map, overrides);
                }
            }
            for (int i = 0; i < op.results().size(); i++) {
                Value res = copy.results().get(i);
                if (op.results().get(i).name() != null) res.setName(op.results().get(i).name());
                map.put(op.results().get(i), res);
            }
        }
    }
}
