package dev.kiln.tracer;

import dev.kiln.runtime.NDArray;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;

/** Converts tensor data to the little-endian row-major bytes that constants and exporters take. */
public final class Weights {

    private Weights() {}

    /** A little-endian, row-major copy of {@code data}'s elements. */
    public static byte[] littleEndianBytes(NDArray data) {
        return toBuffer(data).array();
    }

    /** Each array as a little-endian row-major byte buffer, by name (as the ONNX exporter takes them). */
    public static Map<String, ByteBuffer> asBuffers(Map<String, NDArray> arrays) {
        Map<String, ByteBuffer> out = new LinkedHashMap<>();
        arrays.forEach((name, a) -> out.put(name, toBuffer(a)));
        return out;
    }

    private static ByteBuffer toBuffer(NDArray data) {
        NDArray c = data.contiguous();
        int elementSize = c.dtype().byteSize();
        ByteBuffer src = c.segment().asSlice(c.offset() * elementSize, c.numel() * elementSize).asByteBuffer()
                .order(ByteOrder.nativeOrder());
        ByteBuffer out = ByteBuffer.allocate(src.remaining()).order(ByteOrder.LITTLE_ENDIAN);
        if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) return out.put(src).flip();
        throw new UnsupportedOperationException("big-endian platforms are not supported for weight export");
    }
}
