package dev.kiln.onnx;

import dev.kiln.ir.KilnException;

/**
 * A graph that cannot be exported to ONNX as asked: an op with no ONNX mapping, a combination of
 * attributes ONNX cannot express exactly, missing weight data or clashing names. The message names
 * the op, value or option at fault.
 */
public class OnnxExportException extends KilnException {

    public OnnxExportException(String message) { super(message); }

    public OnnxExportException(String message, Throwable cause) { super(message, cause); }
}
