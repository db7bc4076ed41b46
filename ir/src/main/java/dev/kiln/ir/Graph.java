package dev.kiln.ir;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A function in the IR: named inputs (the body block's arguments), named weights (parameters whose
 * data lives outside the IR and is bound at run time), a body, and outputs (the operands of the
 * body's {@code return}).
 */
public final class Graph {

    private final String name;
    private final Block body = new Block(null);
    private final Map<String, Value> weights = new LinkedHashMap<>();

    public Graph(String name) {
        if (!name.matches("[A-Za-z_][A-Za-z0-9_.]*")) {
            throw new IllegalArgumentException("graph name must be an identifier, got '" + name + "'");
        }
        this.name = name;
    }

    public String name() { return name; }

    public Block body() { return body; }

    public List<Value> inputs() { return body.arguments(); }

    public Value addInput(String inputName, Type type) { return body.addArgument(type, inputName); }

    /** Declares a named weight; names are unique within a graph. */
    public Value addWeight(String weightName, TensorType type) {
        if (weights.containsKey(weightName)) throw new IllegalArgumentException("duplicate weight '" + weightName + "'");
        Value v = Value.weight(weightName, type);
        weights.put(weightName, v);
        return v;
    }

    /** Weights by name, in declaration order. */
    public Map<String, Value> weights() { return Collections.unmodifiableMap(weights); }

    /** Removes a weight that has no uses left. */
    public void removeWeight(String weightName) {
        Value v = weights.get(weightName);
        if (v == null) throw new IllegalArgumentException("no weight '" + weightName + "'");
        if (v.hasUses()) throw new IllegalStateException("weight '" + weightName + "' is still used");
        weights.remove(weightName);
    }

    /** The graph's return op; throws if the body does not end in one. */
    public Op returnOp() {
        Op t = body.terminator();
        if (t == null || !t.name().equals("return")) throw new IllegalStateException("graph " + name + " has no return");
        return t;
    }

    public List<Value> outputs() { return returnOp().operands(); }
}
