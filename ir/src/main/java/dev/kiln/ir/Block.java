package dev.kiln.ir;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A list of ops with typed arguments (block arguments replace phi nodes). A graph's body and each
 * region of an {@code if} or {@code loop} op is a block; the last op is its terminator.
 */
public final class Block {

    private final Op parentOp;
    private final List<Value> arguments = new ArrayList<>();
    private final List<Op> ops = new ArrayList<>();

    Block(Op parentOp) { this.parentOp = parentOp; }

    /** The op whose region this block is, or null for a graph body. */
    public Op parentOp() { return parentOp; }

    public List<Value> arguments() { return Collections.unmodifiableList(arguments); }

    public Value argument(int i) { return arguments.get(i); }

    public Value addArgument(Type type, String name) {
        Value v = Value.argument(this, arguments.size(), type, name);
        arguments.add(v);
        return v;
    }

    public List<Op> ops() { return Collections.unmodifiableList(ops); }

    /** Appends a detached op. */
    public void append(Op op) { insert(ops.size(), op); }

    /** Inserts a detached op at position {@code index}. */
    public void insert(int index, Op op) {
        if (op.parent() != null) throw new IllegalStateException(op.name() + " is already in a block");
        ops.add(index, op);
        op.setParent(this);
    }

    /** Removes {@code op}, which must have no remaining uses of its results, and drops its operands. */
    public void erase(Op op) {
        for (Value r : op.results()) {
            if (r.hasUses()) throw new IllegalStateException("cannot erase " + op.name() + ": result " + r + " is still used");
        }
        if (!ops.remove(op)) throw new IllegalStateException(op.name() + " is not in this block");
        op.dropOperands();
        op.setParent(null);
    }

    /**
     * Moves every op of this block, in order, to the end of {@code target}, keeping their operands and uses
     * (a region built before its parent op's result types were known, say). This block is left empty.
     */
    public void moveOpsTo(Block target) {
        if (target == this) return;
        for (Op op : ops) {
            op.setParent(null);
            target.append(op);
        }
        ops.clear();
    }

    public int indexOf(Op op) { return ops.indexOf(op); }

    /** The last op, or null if the block is empty. */
    public Op terminator() { return ops.isEmpty() ? null : ops.get(ops.size() - 1); }
}
