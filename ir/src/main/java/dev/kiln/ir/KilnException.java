package dev.kiln.ir;

/**
 * The root of every Kiln failure on bad input: a model file (ONNX, NetDef, safetensors, IDX), a graph, a
 * tensor bound to an input, Java code given to the tracer or capture. Catch {@code KilnException} to catch
 * every Kiln failure on bad input in one place (a server loading models from strangers, say); anything else
 * escaping Kiln is a Kiln bug. Subclasses name the format or stage ({@code OnnxImportException},
 * {@code NetDefException}, {@link IrException}, ...), and every message names the node, tensor, field or file
 * at fault and what is wrong with it.
 *
 * <p>It is an {@link IllegalArgumentException} because it always means an argument (a file, a graph, a
 * tensor) is wrong, and because the IR and runtime errors were {@code IllegalArgumentException}s before this
 * root existed: code that catches those keeps working.
 */
public class KilnException extends IllegalArgumentException {

    public KilnException(String message) { super(message); }

    public KilnException(String message, Throwable cause) { super(message, cause); }
}
