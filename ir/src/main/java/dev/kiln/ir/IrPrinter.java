package dev.kiln.ir;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

/**
 * Prints a graph in the IR text form that {@link IrParser} reads back: one op per line, two spaces
 * of indent per nesting level, values named by hint or number (see {@link ValueNames}), attributes
 * in schema order. Printing never fails, so broken graphs can be dumped while debugging.
 */
public final class IrPrinter {

    private final ValueNames names;
    private final StringBuilder out = new StringBuilder();

    private IrPrinter(Graph graph) { this.names = ValueNames.of(graph); }

    /** The text form of {@code graph}, ending in a newline. */
    public static String print(Graph graph) {
        IrPrinter p = new IrPrinter(graph);
        p.graph(graph);
        return p.out.toString();
    }

    private void graph(Graph graph) {
        out.append("graph @").append(ValueNames.symbol(graph.name())).append(typedList(graph.inputs()));
        if (!graph.weights().isEmpty()) {
            StringJoiner w = new StringJoiner(", ", " weights(", ")");
            graph.weights().forEach((name, v) -> w.add("@" + ValueNames.symbol(name) + ": " + v.type()));
            out.append(w);
        }
        out.append(" {\n");
        ops(graph.body(), "  ");
        out.append("}\n");
    }

    private String typedList(List<Value> values) {
        StringJoiner j = new StringJoiner(", ", "(", ")");
        for (Value v : values) j.add(names.ref(v) + ": " + v.type());
        return j.toString();
    }

    private void ops(Block block, String indent) {
        for (Op op : block.ops()) op(op, indent);
    }

    private void op(Op op, String indent) {
        out.append(indent);
        if (!op.results().isEmpty()) {
            StringJoiner r = new StringJoiner(", ");
            for (Value v : op.results()) r.add(names.ref(v));
            out.append(r).append(" = ");
        }
        StringJoiner operands = new StringJoiner(", ", "(", ")");
        for (Value v : op.operands()) operands.add(names.ref(v));
        out.append(op.name()).append(operands);
        Map<String, Attribute> attrs = orderedAttributes(op);
        if (!attrs.isEmpty()) {
            StringJoiner a = new StringJoiner(", ", " {", "}");
            attrs.forEach((k, v) -> a.add(k + " = " + AttrText.format(v)));
            out.append(a);
        }
        if (!op.results().isEmpty()) {
            StringJoiner t = new StringJoiner(", ", " : ", "");
            for (Value v : op.results()) t.add(v.type().toString());
            out.append(t);
        }
        for (Block region : op.regions()) {
            out.append(" {\n");
            if (!region.arguments().isEmpty()) out.append(indent).append('^').append(typedList(region.arguments())).append(":\n");
            ops(region, indent + "  ");
            out.append(indent).append('}');
        }
        out.append('\n');
    }

    /** Explicitly set attributes in the schema's declaration order; any the schema lacks come last. */
    private static Map<String, Attribute> orderedAttributes(Op op) {
        Map<String, Attribute> set = op.attributes();
        Map<String, Attribute> ordered = new LinkedHashMap<>();
        for (AttrSpec spec : op.schema().attributes()) {
            if (set.containsKey(spec.name())) ordered.put(spec.name(), set.get(spec.name()));
        }
        set.forEach(ordered::putIfAbsent);
        return ordered;
    }
}
