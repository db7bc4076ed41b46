package dev.kiln.runtime;

/** A tensor bound to a graph input or weight does not have the dtype or shape the graph declares. */
public class InputMismatchException extends dev.kiln.ir.KilnException {
    public InputMismatchException(String message) { super(message); }
}
