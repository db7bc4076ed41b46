package dev.kiln.tracer;

import dev.kiln.runtime.NDArray;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;

/** Converts weight data to the little-endian row-major byte buffers the ONNX exporter takes. */
public final class Weights {

    private Weights() {}

    /** Each array as a little-endian row-major byte buffer, by name. */
    public static Map<String, ByteBuffer> asBuffers(Map<String, NDArray> arrays) {
        Map<String, ByteBuffer> out = new LinkedHashMap<>();
        arrays.forEach((name, a) -> out.put(name, ByteBuffer.wrap(a.toLittleEndianBytes()).order(ByteOrder.LITTLE_ENDIAN)));
        return out;
    }
}
