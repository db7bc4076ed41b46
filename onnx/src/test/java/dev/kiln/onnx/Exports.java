package dev.kiln.onnx;

import dev.kiln.ir.Graph;
import dev.kiln.onnx.proto.OnnxProtos.ModelProto;

import java.nio.ByteBuffer;
import java.util.Map;

/** Exports a graph and runs the official checker on the result, as every export test does first. */
final class Exports {

    private Exports() {}

    static ModelProto checked(Graph g) { return checked(g, Map.of(), ExportOptions.defaults()); }

    static ModelProto checked(Graph g, ExportOptions options) { return checked(g, Map.of(), options); }

    static ModelProto checked(Graph g, Map<String, ByteBuffer> weights) { return checked(g, weights, ExportOptions.defaults()); }

    static ModelProto checked(Graph g, Map<String, ByteBuffer> weights, ExportOptions options) {
        ModelProto m = OnnxExporter.export(g, weights, options);
        OnnxChecker.check(m);
        return m;
    }
}
