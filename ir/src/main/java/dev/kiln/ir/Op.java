package dev.kiln.ir;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One operation: a registry schema, operands, results, typed attributes and nested regions. Each
 * region is a single {@link Block} (control flow is structured: {@code if} and {@code loop}).
 */
public final class Op {

    private final OpSchema schema;
    private final List<Value> operands = new ArrayList<>();
    private final List<Value> results;
    private final Map<String, Attribute> attributes;
    private final List<Block> regions = new ArrayList<>();
    private Block parent;

    Op(OpSchema schema, List<Value> operands, List<Type> resultTypes, Map<String, Attribute> attributes, int regionCount) {
        this.schema = schema;
        this.attributes = new LinkedHashMap<>(attributes);
        for (Value v : operands) addOperand(v);
        List<Value> rs = new ArrayList<>(resultTypes.size());
        for (int i = 0; i < resultTypes.size(); i++) rs.add(Value.result(this, i, resultTypes.get(i)));
        this.results = Collections.unmodifiableList(rs);
        for (int i = 0; i < regionCount; i++) regions.add(new Block(this));
    }

    public OpSchema schema() { return schema; }

    public String name() { return schema.name(); }

    public boolean has(Trait trait) { return schema.traits().contains(trait); }

    public List<Value> operands() { return Collections.unmodifiableList(operands); }

    public Value operand(int i) { return operands.get(i); }

    public int operandCount() { return operands.size(); }

    /** Replaces operand {@code i}, keeping both values' use lists right. */
    public void setOperand(int i, Value v) {
        operands.get(i).removeUse(this, i);
        operands.set(i, java.util.Objects.requireNonNull(v, "operand"));
        v.addUse(this, i);
    }

    private void addOperand(Value v) {
        java.util.Objects.requireNonNull(v, () -> schema.name() + ": operand " + operands.size() + " is null");
        operands.add(v);
        v.addUse(this, operands.size() - 1);
    }

    /** Removes this op's uses of its operands; call before discarding the op. */
    public void dropOperands() {
        for (int i = 0; i < operands.size(); i++) operands.get(i).removeUse(this, i);
        operands.clear();
        for (Block region : regions) {
            for (Op op : region.ops()) op.dropOperands();
        }
    }

    public List<Value> results() { return results; }

    /** The single result; throws if the op has none or several. */
    public Value result() {
        if (results.size() != 1) throw new IllegalStateException(name() + " has " + results.size() + " results, not 1");
        return results.get(0);
    }

    public Map<String, Attribute> attributes() { return Collections.unmodifiableMap(attributes); }

    /** The attribute, or the schema's default when it is absent; throws if neither exists. */
    public Attribute attr(String name) {
        Attribute a = attributes.get(name);
        if (a != null) return a;
        Attribute dflt = schema.defaultAttribute(name);
        if (dflt != null) return dflt;
        throw new IllegalStateException(name() + ": missing attribute '" + name + "'");
    }

    public long intAttr(String name) { return ((Attribute.Int) attr(name)).value(); }

    public double floatAttr(String name) { return ((Attribute.Float) attr(name)).value(); }

    public boolean boolAttr(String name) { return ((Attribute.Bool) attr(name)).value(); }

    public long[] intsAttr(String name) { return ((Attribute.Ints) attr(name)).values(); }

    public void setAttr(String name, Attribute value) { attributes.put(name, value); }

    public List<Block> regions() { return Collections.unmodifiableList(regions); }

    public Block region(int i) { return regions.get(i); }

    /** The block this op sits in, or null while detached. */
    public Block parent() { return parent; }

    void setParent(Block parent) { this.parent = parent; }

    @Override
    public String toString() {
        return name() + "(" + operands.size() + " operands) -> " + results.stream().map(Value::type).toList();
    }
}
