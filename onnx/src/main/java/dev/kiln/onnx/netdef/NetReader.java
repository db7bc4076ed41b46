package dev.kiln.onnx.netdef;

import dev.kiln.ir.Attribute;
import dev.kiln.ir.Builder;
import dev.kiln.ir.Dim;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Value;
import dev.kiln.onnx.caffe2.proto.Caffe2Protos.OperatorDef;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The state of one NetDef import while op imports build Kiln ops: the Kiln value each blob holds
 * now (a later op writing the same blob, as in-place ops do, rebinds it), the graph being built,
 * and the operator being read, which errors name.
 */
final class NetReader {

    private final Graph graph;
    private final Builder builder;
    private final Map<String, Value> blobs = new HashMap<>();
    /** Secondary outputs (Reshape's old_shape, Concat's split_info) built only if something reads them. */
    private final Map<String, Supplier<Value>> pending = new HashMap<>();
    private OperatorDef op;
    private String where;
    private Args.Reader args;

    NetReader(Graph graph) {
        this.graph = graph;
        this.builder = Builder.atEnd(graph.body());
    }

    Graph graph() { return graph; }

    /** Makes {@code def} (at {@code where}) the operator being read. */
    void begin(OperatorDef def, String where) {
        this.op = def;
        this.where = where;
        this.args = new Args.Reader(def, where);
    }

    Args.Reader args() { return args; }

    String type() { return op.getType(); }

    int inputCount() { return op.getInputCount(); }

    int outputCount() { return op.getOutputCount(); }

    /** Fails unless the operator has {@code min..max} inputs and {@code minOutputs..maxOutputs} outputs. */
    void arity(int min, int max, int minOutputs, int maxOutputs) {
        if (inputCount() < min || inputCount() > max) {
            throw error("takes " + (min == max ? min : min + " to " + max) + " inputs, got " + inputCount());
        }
        if (outputCount() < minOutputs || outputCount() > maxOutputs) {
            throw error("writes " + (minOutputs == maxOutputs ? minOutputs : minOutputs + " to " + maxOutputs) + " outputs, got " + outputCount());
        }
    }

    /** The value in input blob {@code i}. */
    Value in(int i) { return blob(op.getInput(i)); }

    /** The value a blob holds now; fails naming the blob if nothing wrote it. */
    Value blob(String name) {
        Value v = blobs.get(name);
        if (v != null) return v;
        Supplier<Value> p = pending.remove(name);
        if (p != null) {
            v = p.get();
            bind(name, v);
            return v;
        }
        throw new NetDefException((where != null ? where + ": " : "") + "blob '" + name
                + "' is not written by an earlier operator, the init_net or an external_input");
    }

    /** Binds a blob name to a value (graph inputs, weights). */
    void bind(String name, Value v) {
        blobs.put(name, v);
        pending.remove(name);
    }

    /** Writes output {@code i} of the current operator. */
    void out(int i, Value v) {
        String name = op.getOutput(i);
        if (v.name() == null && v.kind() == Value.Kind.OP_RESULT) v.setName(name);
        bind(name, v);
    }

    /** Output {@code i}, if present, is built by {@code make} when first read; {@code make} may refuse with an error. */
    void lazyOut(int i, Supplier<Value> make) {
        if (i >= outputCount()) return;
        String name = op.getOutput(i);
        blobs.remove(name);
        String at = where;
        pending.put(name, () -> {
            String saved = where;
            where = at;
            try {
                return make.get();
            } finally {
                where = saved;
            }
        });
    }

    /** Builds a Kiln op and returns its result; type and attribute errors name the Caffe2 operator. */
    Value emit(String kilnOp, Map<String, Attribute> attrs, Value... operands) {
        try {
            return builder.op(kilnOp, attrs, operands);
        } catch (IllegalArgumentException e) {
            throw error(e.getMessage());
        }
    }

    Value emit(String kilnOp, Value... operands) { return emit(kilnOp, Map.of(), operands); }

    /** A constant op holding {@code t}. */
    Value constant(Attribute.Tensor t) { return emit("constant", Map.of("value", t)); }

    /** A size list for a reshape target: static dims as numbers, symbolic dims as their symbols. */
    Attribute sizes(List<Dim> dims, String what) {
        Object[] entries = new Object[dims.size()];
        for (int i = 0; i < entries.length; i++) {
            entries[i] = switch (dims.get(i)) {
                case Dim.Static s -> s.size();
                case Dim.Symbolic s -> s.name();
                case Dim.Unknown u -> throw error(what + " needs dim " + i + " of " + dims + ", which is unknown");
            };
        }
        return Attribute.dims(entries);
    }

    NetDefException error(String message) { return new NetDefException(where + ": " + message); }

    /** {@code predict_net op #3 (Conv -> 'y')}: an operator's position, type and first output. */
    static String describe(String net, int index, OperatorDef def) {
        return net + " op #" + index + " (" + def.getType() + (def.getOutputCount() > 0 ? " -> '" + def.getOutput(0) + "'" : "") + ")";
    }
}
