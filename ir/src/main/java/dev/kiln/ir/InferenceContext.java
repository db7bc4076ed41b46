package dev.kiln.ir;

import java.util.List;
import java.util.Map;

/** What type inference sees of one op: its operand types, attributes (defaults applied) and regions. */
public final class InferenceContext {

    private final OpSchema schema;
    private final List<Type> operandTypes;
    private final Map<String, Attribute> attributes;
    private final List<Block> regions;

    public InferenceContext(OpSchema schema, List<Type> operandTypes, Map<String, Attribute> attributes, List<Block> regions) {
        this.schema = schema;
        this.operandTypes = List.copyOf(operandTypes);
        this.attributes = attributes;
        this.regions = regions;
    }

    public String opName() { return schema.name(); }

    public List<Type> operandTypes() { return operandTypes; }

    public int operandCount() { return operandTypes.size(); }

    public Type type(int i) { return operandTypes.get(i); }

    /** Operand {@code i} as a tensor type; a scalar there is an error naming the op. */
    public TensorType tensor(int i) {
        if (operandTypes.get(i) instanceof TensorType t) return t;
        throw error("operand " + i + " must be a tensor, got " + operandTypes.get(i));
    }

    public Attribute attr(String name) {
        Attribute a = attributes.get(name);
        if (a != null) return a;
        Attribute d = schema.defaultAttribute(name);
        if (d == null) throw error("missing attribute '" + name + "'");
        return d;
    }

    public long intAttr(String name) { return ((Attribute.Int) attr(name)).value(); }

    public boolean boolAttr(String name) { return ((Attribute.Bool) attr(name)).value(); }

    public long[] intsAttr(String name) { return ((Attribute.Ints) attr(name)).values(); }

    /** A size list that may hold symbols ({@link Attribute.Ints} or {@link Attribute.Dims}): its integers. */
    public long[] sizesAttr(String name) { return Attribute.valuesOf(attr(name)); }

    /** The symbol names of a size list, null where an entry is an integer. */
    public String[] sizeSymbolsAttr(String name) { return Attribute.symbolsOf(attr(name)); }

    public List<Block> regions() { return regions; }

    /** An exception whose message starts with the op name, as every inference error should. */
    public IrException error(String message) { return new IrException(schema.name() + ": " + message); }
}
