package dev.kiln.codegen;

import dev.kiln.ir.KilnException;

/**
 * A graph that compiled code cannot run at these sizes (a tensor whose size does not follow from the input sizes,
 * a host scalar input or output): the message says why and that the reference interpreter (O0) runs it.
 */
public final class UncompilableGraphException extends KilnException {
    public UncompilableGraphException(String message) { super(message); }

    public UncompilableGraphException(String message, Throwable cause) { super(message, cause); }
}
