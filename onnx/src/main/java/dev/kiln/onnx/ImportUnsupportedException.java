package dev.kiln.onnx;

/**
 * A well-formed ONNX model that uses something Kiln cannot import: an op, an attribute value, a dtype
 * or a value kind (sequences, optionals) it has no equivalent for. The message names the node and
 * what is unsupported.
 */
public class ImportUnsupportedException extends OnnxImportException {

    public ImportUnsupportedException(String message) { super(message); }
}
