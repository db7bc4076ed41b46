package dev.kiln.samples.cli;

import dev.kiln.onnx.proto.OnnxProtos.GraphProto;
import dev.kiln.onnx.proto.OnnxProtos.ModelProto;
import dev.kiln.onnx.proto.OnnxProtos.NodeProto;
import dev.kiln.onnx.proto.OnnxProtos.OperatorSetIdProto;
import dev.kiln.onnx.proto.OnnxProtos.TensorProto;
import dev.kiln.onnx.proto.OnnxProtos.TensorShapeProto;
import dev.kiln.onnx.proto.OnnxProtos.TypeProto;
import dev.kiln.onnx.proto.OnnxProtos.ValueInfoProto;
import dev.kiln.onnx.proto.OnnxProtos.AttributeProto;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** {@code kiln inspect}: what a model file declares, read from the proto alone (nothing is imported or run). */
final class ModelSummary {

    private ModelSummary() {}

    static String describe(String file, long fileBytes, ModelProto model) {
        GraphProto g = model.getGraph();
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("model %s (%s)%n", file, bytes(fileBytes)));
        sb.append("  ir_version ").append(model.getIrVersion());
        List<String> opsets = new ArrayList<>();
        for (OperatorSetIdProto o : model.getOpsetImportList()) {
            opsets.add((o.getDomain().isEmpty() ? "ai.onnx" : o.getDomain()) + " " + o.getVersion());
        }
        sb.append(", opset ").append(opsets.isEmpty() ? "(none declared)" : String.join(", ", opsets));
        if (!model.getProducerName().isEmpty()) {
            sb.append(", producer ").append(model.getProducerName()).append(' ').append(model.getProducerVersion());
        }
        sb.append('\n');
        if (!g.getName().isEmpty()) sb.append("  graph ").append(g.getName()).append('\n');
        if (!model.getDocString().isEmpty()) sb.append("  doc ").append(firstLine(model.getDocString())).append('\n');

        java.util.Set<String> initializerNames = new java.util.HashSet<>();
        for (TensorProto t : g.getInitializerList()) initializerNames.add(t.getName());
        sb.append("inputs:\n");
        for (ValueInfoProto v : g.getInputList()) {
            if (!initializerNames.contains(v.getName())) sb.append("  ").append(valueInfo(v)).append('\n');
        }
        sb.append("outputs:\n");
        for (ValueInfoProto v : g.getOutputList()) sb.append("  ").append(valueInfo(v)).append('\n');

        long elements = 0, external = 0;
        for (TensorProto t : g.getInitializerList()) {
            long n = 1;
            for (long d : t.getDimsList()) n *= d;
            elements += n;
            if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) external++;
        }
        sb.append(String.format("initializers: %d tensors, %,d elements%s%n", g.getInitializerCount(), elements,
                external > 0 ? " (" + external + " in external data)" : ""));

        Map<String, int[]> histogram = new TreeMap<>();
        int total = count(g, histogram, false);
        sb.append(String.format("ops: %d nodes (subgraphs included)%n", total));
        histogram.entrySet().stream()
                .sorted((a, b) -> b.getValue()[0] != a.getValue()[0] ? b.getValue()[0] - a.getValue()[0] : a.getKey().compareTo(b.getKey()))
                .forEach(e -> sb.append(String.format("  %-28s %d%n", e.getKey(), e.getValue()[0])));
        return sb.toString();
    }

    private static int count(GraphProto g, Map<String, int[]> histogram, boolean nested) {
        int n = 0;
        for (NodeProto node : g.getNodeList()) {
            String key = node.getDomain().isEmpty() || node.getDomain().equals("ai.onnx") ? node.getOpType() : node.getDomain() + ":" + node.getOpType();
            histogram.computeIfAbsent(key, k -> new int[1])[0]++;
            n++;
            for (AttributeProto a : node.getAttributeList()) {
                if (a.hasG()) n += count(a.getG(), histogram, true);
                for (GraphProto sub : a.getGraphsList()) n += count(sub, histogram, true);
            }
        }
        return n;
    }

    static String valueInfo(ValueInfoProto v) {
        return v.getName() + "  " + type(v.getType());
    }

    static String type(TypeProto t) {
        if (!t.hasTensorType()) return "(non-tensor type)";
        TypeProto.Tensor tt = t.getTensorType();
        String elem = TensorProto.DataType.forNumber(tt.getElemType()) == null ? "type" + tt.getElemType()
                : TensorProto.DataType.forNumber(tt.getElemType()).name().toLowerCase();
        if (!tt.hasShape()) return elem + "[?rank]";
        List<String> dims = new ArrayList<>();
        for (TensorShapeProto.Dimension d : tt.getShape().getDimList()) {
            dims.add(d.hasDimValue() ? Long.toString(d.getDimValue()) : d.hasDimParam() ? d.getDimParam() : "?");
        }
        return elem + "[" + String.join(", ", dims) + "]";
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl) + " ...";
    }

    static String bytes(long n) {
        if (n < 1024) return n + " B";
        if (n < 1024 * 1024) return String.format("%.1f KiB", n / 1024.0);
        return String.format("%.1f MiB", n / (1024.0 * 1024));
    }
}
