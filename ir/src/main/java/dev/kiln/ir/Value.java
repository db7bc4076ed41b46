package dev.kiln.ir;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * An SSA value: defined exactly once (as an op result, a block argument or a graph weight), with a
 * type and a list of its uses. Use lists are kept up to date by {@link Op}.
 */
public final class Value {

    /** Where a value comes from. */
    public enum Kind { OP_RESULT, BLOCK_ARGUMENT, WEIGHT }

    /** One use of a value: operand {@code index} of {@code user}. */
    public record Use(Op user, int index) {}

    private final Type type;
    private final Kind kind;
    private final Op definingOp;
    private final Block ownerBlock;
    private final int index;
    private String name;
    private final List<Use> uses = new ArrayList<>();

    private Value(Type type, Kind kind, Op definingOp, Block ownerBlock, int index, String name) {
        this.type = java.util.Objects.requireNonNull(type, "type");
        this.kind = kind;
        this.definingOp = definingOp;
        this.ownerBlock = ownerBlock;
        this.index = index;
        this.name = name;
    }

    static Value result(Op op, int index, Type type) {
        return new Value(type, Kind.OP_RESULT, op, null, index, null);
    }

    static Value argument(Block block, int index, Type type, String name) {
        return new Value(type, Kind.BLOCK_ARGUMENT, null, block, index, name);
    }

    static Value weight(String name, TensorType type) {
        return new Value(type, Kind.WEIGHT, null, null, -1, name);
    }

    public Type type() { return type; }

    /** This value's type as a tensor type; throws if it is a scalar. */
    public TensorType tensorType() {
        if (type instanceof TensorType t) return t;
        throw new IllegalStateException("value " + this + " has scalar type " + type + ", not a tensor type");
    }

    public Kind kind() { return kind; }

    /** The op that defines this value, or null for block arguments and weights. */
    public Op definingOp() { return definingOp; }

    /** The block whose argument this is, or null. */
    public Block ownerBlock() { return ownerBlock; }

    /** Result index or argument index; -1 for weights. */
    public int index() { return index; }

    /** A name hint for printing (inputs, weights); null for most op results. */
    public String name() { return name; }

    public void setName(String name) { this.name = name; }

    public List<Use> uses() { return Collections.unmodifiableList(uses); }

    public boolean hasUses() { return !uses.isEmpty(); }

    void addUse(Op user, int operandIndex) { uses.add(new Use(user, operandIndex)); }

    void removeUse(Op user, int operandIndex) {
        for (int i = 0; i < uses.size(); i++) {
            Use u = uses.get(i);
            if (u.user() == user && u.index() == operandIndex) {
                uses.remove(i);
                return;
            }
        }
        throw new IllegalStateException("use " + operandIndex + " of " + user.name() + " not found on " + this);
    }

    /** Rewrites every use of this value to use {@code replacement} instead. */
    public void replaceAllUsesWith(Value replacement) {
        if (replacement == this) return;
        for (Use u : List.copyOf(uses)) u.user().setOperand(u.index(), replacement);
    }

    @Override
    public String toString() {
        String label = name != null ? name : (kind == Kind.OP_RESULT ? definingOp.name() + "#" + index : "arg" + index);
        return (kind == Kind.WEIGHT ? "@" : "%") + label + ": " + type;
    }

    /** The types of {@code values}, in order (a plain loop: the IR builder and verifier call it once per op). */
    static List<Type> typesOf(List<Value> values) {
        Type[] types = new Type[values.size()];
        for (int i = 0; i < types.length; i++) types[i] = values.get(i).type();
        return List.of(types);
    }
}
