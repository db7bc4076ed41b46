package dev.kiln.onnx.netdef;

import dev.kiln.ir.Attribute;
import dev.kiln.ir.Builder;
import dev.kiln.ir.Graph;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;
import dev.kiln.ir.Verifier;
import dev.kiln.onnx.caffe2.proto.Caffe2Protos.NetDef;
import dev.kiln.onnx.caffe2.proto.Caffe2Protos.OperatorDef;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads a Caffe2 model (init net and predict net) into a Kiln graph. The init net must consist of
 * fill operators; each output becomes a named weight. The predict net's external inputs that the
 * init net does not write are the graph inputs, whose types the caller supplies (NetDef has none);
 * its operators become Kiln ops (see {@link ImportTable}); its external outputs are returned.
 */
public final class NetDefImporter {

    private NetDefImporter() {}

    /** Imports {@code model}; see {@link #importNet(NetDef, NetDef, Map)}. */
    public static ImportedNet importNet(NetDefModel model, Map<String, TensorType> inputTypes) {
        return importNet(model.initNet(), model.predictNet(), inputTypes);
    }

    /**
     * Builds the Kiln graph of a Caffe2 model.
     *
     * @param inputTypes the type of every data input (external inputs of the predict net that the
     *                   init net does not write), by blob name; dims may be symbolic
     * @throws NetDefException listing every unsupported operator type at once, or naming the
     *                         operator, blob or argument at fault: non-fill init ops, missing or
     *                         extra input types, unknown blobs, shapes the operator rejects
     */
    public static ImportedNet importNet(NetDef initNet, NetDef predictNet, Map<String, TensorType> inputTypes) {
        checkSupported(initNet, predictNet);
        Graph graph = new Graph(graphName(predictNet.getName()));
        NetReader r = new NetReader(graph);
        Map<String, ByteBuffer> weights = new LinkedHashMap<>();
        for (int i = 0; i < initNet.getOpCount(); i++) {
            OperatorDef def = initNet.getOp(i);
            String where = NetReader.describe("init_net", i, def);
            if (def.getOutputCount() != 1) throw new NetDefException(where + ": a fill writes 1 output, got " + def.getOutputCount());
            String name = def.getOutput(0);
            if (weights.containsKey(name)) throw new NetDefException(where + ": blob '" + name + "' is written twice in the init_net");
            named(where, () -> {
                Fills.Tensor t = Fills.decode(def, new Args.Reader(def, where));
                weights.put(name, ByteBuffer.wrap(t.data()).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN));
                r.bind(name, graph.addWeight(name, t.type()));
            });
        }
        bindInputs(predictNet, weights.keySet(), inputTypes, graph, r);

        for (int i = 0; i < predictNet.getOpCount(); i++) {
            OperatorDef def = predictNet.getOp(i);
            String where = NetReader.describe("predict_net", i, def);
            r.begin(def, where);
            named(where, () -> {
                if (Fills.isFill(def.getType())) {
                    r.arity(0, 0, 1, 1);
                    Fills.Tensor t = Fills.decode(def, r.args());
                    r.out(0, r.constant(new Attribute.Tensor(t.type(), t.data())));
                } else {
                    ImportTable.get(def.getType()).read(r);
                }
            });
        }

        if (predictNet.getExternalOutputCount() == 0) throw new NetDefException("predict_net has no external_output, so the model has no outputs");
        List<Value> outputs = new ArrayList<>();
        for (String name : predictNet.getExternalOutputList()) outputs.add(r.blob(name));
        Builder.atEnd(graph.body()).ret(outputs.toArray(Value[]::new));
        Verifier.verify(graph);
        return new ImportedNet(graph, weights);
    }

    /**
     * Runs one operator's conversion; whatever it throws becomes a {@link NetDefException} naming the operator
     * ({@code where}), with the original as its cause, so no raw JDK exception escapes the importer.
     */
    private static void named(String where, Runnable step) {
        try {
            step.run();
        } catch (NetDefException e) {
            throw e;
        } catch (IllegalArgumentException | IllegalStateException | ArithmeticException | UnsupportedOperationException e) {
            throw new NetDefException(where + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            // a reader that did not foresee this operator: still an error naming it
            throw new NetDefException(where + ": the operator cannot be converted (" + e + ")", e);
        }
    }

    /** The net's name made a Kiln graph name (an identifier; dots allowed). */
    private static String graphName(String netName) {
        String n = netName.replaceAll("[^A-Za-z0-9_.]", "_");
        if (n.isEmpty()) return "netdef";
        return Character.isLetter(n.charAt(0)) || n.charAt(0) == '_' ? n : "_" + n;
    }

    /** Fails listing every operator type that has no Kiln form (init nets may hold only fills). */
    private static void checkSupported(NetDef initNet, NetDef predictNet) {
        Map<String, List<String>> unsupported = new LinkedHashMap<>();
        for (int i = 0; i < initNet.getOpCount(); i++) {
            String type = initNet.getOp(i).getType();
            if (!Fills.isFill(type)) unsupported.computeIfAbsent(type, k -> new ArrayList<>()).add("init_net #" + i);
        }
        for (int i = 0; i < predictNet.getOpCount(); i++) {
            String type = predictNet.getOp(i).getType();
            if (!Fills.isFill(type) && !ImportTable.has(type)) unsupported.computeIfAbsent(type, k -> new ArrayList<>()).add("predict_net #" + i);
        }
        if (unsupported.isEmpty()) return;
        List<String> parts = new ArrayList<>();
        unsupported.forEach((type, at) -> parts.add("'" + type + "' (" + String.join(", ", at) + ")"));
        throw new NetDefException("cannot import the NetDef: " + (unsupported.size() == 1 ? "operator " : "operators ")
                + String.join(", ", parts) + (unsupported.size() == 1 ? " has" : " have") + " no Kiln form"
                + " (init nets may hold only GivenTensor*Fill and ConstantFill operators)");
    }

    /** The predict net's external inputs not written by the init net become graph inputs, typed from {@code inputTypes}. */
    private static void bindInputs(NetDef predictNet, Set<String> weightNames, Map<String, TensorType> inputTypes, Graph graph, NetReader r) {
        Set<String> seen = new HashSet<>();
        List<String> data = new ArrayList<>();
        for (String name : predictNet.getExternalInputList()) {
            if (!seen.add(name)) throw new NetDefException("predict_net lists external_input '" + name + "' twice");
            if (!weightNames.contains(name)) data.add(name);
        }
        Set<String> missing = new LinkedHashSet<>();
        for (String name : data) if (!inputTypes.containsKey(name)) missing.add(name);
        if (!missing.isEmpty()) {
            throw new NetDefException("no type for data input" + (missing.size() == 1 ? " " : "s ") + missing + "; NetDef carries no"
                    + " types, so pass each external input the init_net does not write in inputTypes (data inputs: " + data + ")");
        }
        Set<String> extra = new TreeSet<>(inputTypes.keySet());
        data.forEach(extra::remove);
        if (!extra.isEmpty()) {
            throw new NetDefException("inputTypes names " + extra + ", which " + (extra.size() == 1 ? "is not a data input" : "are not data inputs")
                    + " of predict_net (data inputs: " + data + ")");
        }
        for (String name : data) {
            TensorType t = inputTypes.get(name);
            if (t == null) throw new NetDefException("inputTypes maps '" + name + "' to null");
            r.bind(name, graph.addInput(name, t));
        }
    }
}
