package dev.kiln.ir;

/**
 * A graph that breaks an IR invariant (types, dominance, terminators, use lists). The message names
 * the graph, the op (by its printed result names) and the problem.
 */
public final class VerificationException extends IrException {

    private final transient Op op;

    public VerificationException(String message, Op op) {
        super(message);
        this.op = op;
    }

    public VerificationException(String message) { this(message, null); }

    /** The offending op, or null when the problem is not about one op. */
    public Op op() { return op; }
}
