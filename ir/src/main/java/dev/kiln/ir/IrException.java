package dev.kiln.ir;

/**
 * A problem with an IR graph or with building one: bad types, shapes or structure. It is a
 * {@link KilnException} (so an {@link IllegalArgumentException}) because it always means the input (a graph,
 * or an op's operands and attributes, eager ones included) is wrong.
 */
public class IrException extends KilnException {
    public IrException(String message) { super(message); }
}
