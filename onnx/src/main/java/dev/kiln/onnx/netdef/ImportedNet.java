package dev.kiln.onnx.netdef;

import dev.kiln.ir.Graph;

import java.nio.ByteBuffer;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A NetDef read back into Kiln: a verified graph whose weights are declared by name, and each
 * weight's data as little-endian, row-major element bytes (read-only buffers, in init_net order), ready to bind by
 * name when the graph runs or is exported again.
 */
public record ImportedNet(Graph graph, Map<String, ByteBuffer> weights) {

    public ImportedNet {
        weights = Collections.unmodifiableMap(new LinkedHashMap<>(weights));
    }
}
