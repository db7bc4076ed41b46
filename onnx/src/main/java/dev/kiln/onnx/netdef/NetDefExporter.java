package dev.kiln.onnx.netdef;

import dev.kiln.ir.Block;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Op;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;
import dev.kiln.onnx.caffe2.proto.Caffe2Protos.NetDef;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Exports a Kiln {@link Graph} as a Caffe2 model: an init net with one {@code GivenTensor*Fill}
 * per weight, and a predict net of Caffe2 operators (FC, Conv, SpatialBN, MaxPool, Softmax, Add
 * with legacy broadcasting, Reshape, Concat, ...) whose external inputs are the graph inputs then
 * the weights and whose external outputs are {@code output}, {@code output_1}, .... Both nets are
 * of type {@code simple}. NetDef carries no types, so importing it back needs the input types.
 */
public final class NetDefExporter {

    private NetDefExporter() {}

    /**
     * Builds the two nets of {@code graph}, named after it.
     *
     * @param weights each graph weight's data by weight name: little-endian, row-major element bytes
     *                of the declared type (position to limit; the buffer is not modified)
     * @throws NetDefException listing every problem at once: ops with no Caffe2 form (by name and
     *                         use count), ops whose attributes or dtypes Caffe2 cannot express
     *                         exactly, and weights with missing, mis-sized or unsupported data
     */
    public static NetDefModel export(Graph graph, Map<String, ByteBuffer> weights) {
        List<String> problems = new ArrayList<>();
        Map<String, Integer> unmapped = new LinkedHashMap<>();
        collectUnmapped(graph.body(), unmapped);
        unmapped.forEach((op, n) -> problems.add("op '" + op + "' (" + n + (n == 1 ? " use" : " uses") + ") has no Caffe2 form"));
        Op ret = graph.body().terminator();
        if (ret == null || !ret.name().equals("return")) {
            throw new NetDefException("graph '" + graph.name() + "' does not end in return, so it has no outputs to export");
        }

        NetDef.Builder init = NetDef.newBuilder().setName(graph.name() + "_init").setType("simple");
        NetDef.Builder predict = NetDef.newBuilder().setName(graph.name()).setType("simple");
        NetWriter w = new NetWriter(predict);
        graph.weights().forEach((name, v) -> {
            if (!w.claim(name)) problems.add("weight name '" + name + "' is used twice");
            w.bind(v, name);
        });
        for (Value in : graph.inputs()) {
            if (!(in.type() instanceof TensorType)) {
                problems.add("input " + in + " is a host scalar; Caffe2 nets take only tensors");
            }
            String name = w.temp(in.name() != null && !in.name().isEmpty() ? in.name() : "input");
            w.bind(in, name);
            predict.addExternalInput(name);
        }
        graph.weights().forEach((name, v) -> {
            predict.addExternalInput(name);
            init.addExternalOutput(name);
            try {
                init.addOp(Fills.fill(name, v.tensorType(), weightData(name, v.tensorType(), weights.get(name)), "weight '" + name + "'"));
            } catch (NetDefException e) {
                problems.add(e.getMessage());
            }
        });

        List<Value> outs = ret.operands();
        List<String> outputNames = new ArrayList<>();
        for (int i = 0; i < outs.size(); i++) {
            String name = w.temp("output");
            outputNames.add(name);
            Value v = outs.get(i);
            if (v.kind() == Value.Kind.OP_RESULT && v.definingOp().parent() == graph.body() && outs.indexOf(v) == i) w.preassign(v, name);
        }
        for (Op op : graph.body().ops()) {
            if (op == ret) break;
            if (ExportTable.has(op.name())) {
                try {
                    ExportTable.get(op.name()).write(op, w);
                } catch (NetDefException e) {
                    problems.add(e.getMessage());
                }
            }
            for (Value r : op.results()) if (!w.defined(r)) w.define(r);
        }
        for (int i = 0; i < outs.size(); i++) {
            String src = w.ref(outs.get(i));
            if (!src.equals(outputNames.get(i))) w.op("Copy", List.of(src), List.of(outputNames.get(i)));
            predict.addExternalOutput(outputNames.get(i));
        }
        if (!problems.isEmpty()) {
            throw new NetDefException("cannot export graph '" + graph.name() + "' as a Caffe2 NetDef:\n  - " + String.join("\n  - ", problems));
        }
        return new NetDefModel(init.build(), predict.build());
    }

    private static void collectUnmapped(Block block, Map<String, Integer> missing) {
        for (Op op : block.ops()) {
            if (!ExportTable.has(op.name()) && !op.name().equals("return")) missing.merge(op.name(), 1, Integer::sum);
            for (Block r : op.regions()) collectUnmapped(r, missing);
        }
    }

    private static ByteBuffer weightData(String name, TensorType type, ByteBuffer data) {
        if (data == null) throw new NetDefException("no data for weight '" + name + "' " + type + "; pass its bytes in the weights map");
        if (!type.shape().isStatic()) throw new NetDefException("weight '" + name + "' has non-static type " + type + "; fills need static shapes");
        long expected = type.shape().numel() * type.dtype().byteSize();
        if (data.remaining() != expected) {
            throw new NetDefException("weight '" + name + "' " + type + " needs " + expected + " bytes but its buffer has " + data.remaining());
        }
        return data;
    }
}
