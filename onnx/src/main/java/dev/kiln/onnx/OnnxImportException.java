package dev.kiln.onnx;

import dev.kiln.ir.KilnException;

/**
 * An ONNX model (or tensor file) that cannot be imported: malformed protobuf, unsupported ops or
 * dtypes, inconsistent shapes, or external data that is missing, too small or outside the model's
 * directory. The message names the node, tensor or file at fault and what is wrong with it.
 */
public class OnnxImportException extends KilnException {

    public OnnxImportException(String message) { super(message); }

    public OnnxImportException(String message, Throwable cause) { super(message, cause); }
}
