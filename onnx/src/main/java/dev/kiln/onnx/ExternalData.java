package dev.kiln.onnx;

import dev.kiln.onnx.proto.OnnxProtos.TensorProto;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * Reads the bytes of a tensor stored outside the model file ({@code data_location = EXTERNAL}).
 * This build does not wire external data yet: every call is an {@link OnnxImportException}.
 */
public final class ExternalData {

    private ExternalData() {}

    /** Exactly {@code expectedBytes} raw little-endian bytes of {@code tensor}, read relative to {@code baseDir}. */
    public static MemorySegment read(TensorProto tensor, Path baseDir, long expectedBytes) {
        throw new OnnxImportException("external data is not wired in this build");
    }
}
