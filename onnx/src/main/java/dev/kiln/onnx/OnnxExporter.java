package dev.kiln.onnx;

import com.google.protobuf.ByteString;
import dev.kiln.ir.Block;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Op;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;
import dev.kiln.onnx.proto.OnnxProtos.GraphProto;
import dev.kiln.onnx.proto.OnnxProtos.ModelProto;
import dev.kiln.onnx.proto.OnnxProtos.OperatorSetIdProto;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Exports a Kiln {@link Graph} to an ONNX model: graph inputs and outputs with full types (symbolic
 * dims as dim_param), weights as raw-data initializers, each op through {@link OnnxOpTable}, and
 * if/loop regions as If/Loop subgraphs. The result runs in ONNX Runtime and passes the ONNX checker.
 */
public final class OnnxExporter {

    private OnnxExporter() {}

    /**
     * Builds the ONNX model of {@code graph}.
     *
     * @param weights each graph weight's data by weight name: little-endian, row-major element bytes
     *                of the type the graph declares (the buffer's position and limit delimit them; it
     *                is not modified). Entries for names the graph does not declare are ignored.
     * @throws OnnxExportException if an op has no ONNX mapping (all such ops are listed), a weight's
     *                             data is missing or of the wrong size, names clash, or an op's
     *                             attributes cannot be expressed exactly in ONNX at this opset
     */
    public static ModelProto export(Graph graph, Map<String, ByteBuffer> weights, ExportOptions options) {
        checkMapped(graph);
        OnnxTypes.requireOpset(graph, options.opset());
        if (!(graph.body().terminator() instanceof Op t && t.name().equals("return"))) {
            throw new OnnxExportException("graph '" + graph.name() + "' does not end in return, so it has no outputs to export");
        }
        Names names = new Names();
        claim(names, List.copyOf(graph.weights().keySet()), "weight", "the graph's weight names");
        List<String> inputNames = inputNames(graph, options, names);
        List<String> outputNames = outputNames(graph, options, names);

        Emitter e = new Emitter(options.opset(), names);
        GraphProto.Builder g = GraphProto.newBuilder().setName(options.graphName() != null ? options.graphName() : graph.name());
        if (!options.docString().isEmpty()) g.setDocString(options.docString());
        for (int i = 0; i < inputNames.size(); i++) {
            Value in = graph.inputs().get(i);
            e.bind(in, inputNames.get(i));
            g.addInput(OnnxTypes.valueInfo(inputNames.get(i), in.type()));
        }
        e.symbolSources(graph.inputs());
        graph.weights().forEach((name, w) -> {
            e.bind(w, name);
            g.addInitializer(OnnxTypes.tensor(name, w.tensorType(), weightData(name, w.tensorType(), weights.get(name))));
        });
        List<Value> outs = graph.outputs();
        for (int i = 0; i < outs.size() && i < outputNames.size(); i++) {
            Value v = outs.get(i);
            if (v.kind() == Value.Kind.OP_RESULT && v.definingOp().parent() == graph.body()) e.preassign(v, outputNames.get(i));
        }
        e.emitMain(g, graph.body(), outputNames);

        ModelProto.Builder m = ModelProto.newBuilder()
                .setIrVersion(options.irVersion())
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(options.opset()))
                .setProducerName(options.producerName())
                .setProducerVersion(options.producerVersion())
                .setModelVersion(options.modelVersion())
                .setGraph(g);
        if (!options.docString().isEmpty()) m.setDocString(options.docString());
        return m.build();
    }

    /**
     * The registry ops that have no ONNX export, each with the reason (training-only backward ops,
     * random ops, ...). Every other op in {@code OpRegistry.all()} exports.
     */
    public static Map<String, String> notExported() { return OnnxOpTable.NOT_EXPORTED; }

    /** Whether {@code opName} has an ONNX lowering. */
    public static boolean canExport(String opName) { return OnnxOpTable.has(opName); }

    /**
     * Writes {@code model} to {@code file} in the ONNX protobuf format, replacing an existing file
     * (never through a symbolic link: that is an {@link OnnxExportException}); a model that would
     * reach protobuf's 2 GiB limit keeps its large tensors in {@code <file>.data} beside it. See
     * {@link OnnxFiles#save} for the other choices.
     */
    public static void save(ModelProto model, Path file) {
        OnnxFiles.save(model, file, ExternalDataOptions.defaults().withOverwrite(true));
    }

    /** Fails listing every op (recursively, in first-use order) that has no ONNX mapping. */
    private static void checkMapped(Graph graph) {
        Map<String, Integer> missing = new LinkedHashMap<>();
        collectUnmapped(graph.body(), missing);
        if (missing.isEmpty()) return;
        List<String> parts = new ArrayList<>();
        missing.forEach((op, n) -> {
            String reason = OnnxOpTable.NOT_EXPORTED.get(op);
            parts.add("'" + op + "' (" + n + (n == 1 ? " use" : " uses") + (reason != null ? "; " + reason : "") + ")");
        });
        throw new OnnxExportException("cannot export graph '" + graph.name() + "': "
                + (missing.size() == 1 ? "op " : "ops ") + String.join(", ", parts)
                + (missing.size() == 1 ? " has" : " have") + " no ONNX mapping");
    }

    private static void collectUnmapped(Block block, Map<String, Integer> missing) {
        for (Op op : block.ops()) {
            if (!OnnxOpTable.has(op.name())) missing.merge(op.name(), 1, Integer::sum);
            for (Block r : op.regions()) collectUnmapped(r, missing);
        }
    }

    /** The user's input names (claimed exactly), or the graph's input names made unique. */
    private static List<String> inputNames(Graph graph, ExportOptions options, Names names) {
        int n = graph.inputs().size();
        if (options.inputNames().isEmpty()) {
            List<String> out = new ArrayList<>();
            for (Value in : graph.inputs()) out.add(names.fresh(in.name() != null && !in.name().isEmpty() ? in.name() : "input"));
            return out;
        }
        if (options.inputNames().size() != n) {
            throw new OnnxExportException("graph '" + graph.name() + "' has " + n + " inputs but ExportOptions.inputNames gives "
                    + options.inputNames().size() + ": " + options.inputNames());
        }
        claim(names, options.inputNames(), "input", "ExportOptions.inputNames");
        return options.inputNames();
    }

    /** The user's output names (claimed exactly), or {@code output, output_1, ...} skipping names in use. */
    private static List<String> outputNames(Graph graph, ExportOptions options, Names names) {
        int n = graph.outputs().size();
        if (options.outputNames().isEmpty()) {
            List<String> out = new ArrayList<>();
            for (int i = 0; i < n; i++) out.add(names.fresh("output"));
            return out;
        }
        if (options.outputNames().size() != n) {
            throw new OnnxExportException("graph '" + graph.name() + "' returns " + n + " values but ExportOptions.outputNames gives "
                    + options.outputNames().size() + ": " + options.outputNames());
        }
        claim(names, options.outputNames(), "output", "ExportOptions.outputNames");
        return options.outputNames();
    }

    private static void claim(Names names, List<String> wanted, String what, String source) {
        for (String n : wanted) {
            if (!names.claim(n)) {
                throw new OnnxExportException(what + " name '" + n + "' (from " + source + ") is already used by another"
                        + " input, weight or output; ONNX value names must be unique, so choose distinct names");
            }
        }
    }

    private static ByteString weightData(String name, TensorType type, ByteBuffer data) {
        if (data == null) {
            throw new OnnxExportException("no data for weight '" + name + "' " + type + "; pass its bytes in the weights map");
        }
        if (!type.shape().isStatic()) {
            throw new OnnxExportException("weight '" + name + "' has non-static type " + type + "; ONNX initializers need static shapes");
        }
        long expected = type.shape().numel() * type.dtype().byteSize();
        if (data.remaining() != expected) {
            throw new OnnxExportException("weight '" + name + "' " + type + " needs " + expected + " bytes but its buffer has "
                    + data.remaining());
        }
        return ByteString.copyFrom(data.duplicate());
    }
}
