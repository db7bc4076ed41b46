package dev.kiln.onnx.netdef;

import dev.kiln.ir.KilnException;

/**
 * A Kiln graph that cannot be written as a Caffe2 NetDef, or a NetDef that cannot be read back:
 * ops with no Caffe2 form (all listed at once), attributes or dtypes Caffe2 cannot express exactly,
 * malformed protobuf files, unknown blobs, missing input types. The message names the op, blob or
 * file at fault and what is wrong with it.
 */
public class NetDefException extends KilnException {

    public NetDefException(String message) { super(message); }

    public NetDefException(String message, Throwable cause) { super(message, cause); }
}
