package dev.kiln.ir;

/** A problem with an IR graph or with building one: bad types, shapes or structure. */
public class IrException extends RuntimeException {
    public IrException(String message) { super(message); }
}
