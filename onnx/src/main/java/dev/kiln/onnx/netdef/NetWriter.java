package dev.kiln.onnx.netdef;

import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.Value;
import dev.kiln.onnx.Names;
import dev.kiln.onnx.caffe2.proto.Caffe2Protos.NetDef;
import dev.kiln.onnx.caffe2.proto.Caffe2Protos.OperatorDef;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The state of one NetDef export while the op exports write operators: the blob name of every
 * Kiln value (unique, derived from name hints) and the predict net being filled.
 */
final class NetWriter {

    private final NetDef.Builder net;
    private final Map<Value, String> blobs = new IdentityHashMap<>();
    private final Map<Value, String> preassigned = new IdentityHashMap<>();
    private final Names names = new Names();

    NetWriter(NetDef.Builder net) { this.net = net; }

    /** Claims an exact blob name (weights); false if it is taken. */
    boolean claim(String name) { return names.claim(name); }

    /** A fresh blob name from {@code hint} (made identifier-safe), with a numeric suffix on clashes. */
    String temp(String hint) { return names.fresh(hint); }

    /** The blob of a value already written (an input, weight or earlier result). */
    String ref(Value v) {
        String n = blobs.get(v);
        if (n == null) throw new NetDefException("value " + v + " is used before it is defined; the graph is malformed");
        return n;
    }

    boolean defined(Value v) { return blobs.containsKey(v); }

    /** Names a result about to be written (a graph output's fixed name wins). */
    String define(Value v) {
        if (blobs.containsKey(v)) throw new IllegalStateException("value " + v + " is defined twice");
        String n = preassigned.containsKey(v) ? preassigned.get(v) : temp(v.name() != null ? v.name() : "v");
        blobs.put(v, n);
        return n;
    }

    /** Binds a value to a name already claimed (graph inputs and weights). */
    void bind(Value v, String name) { blobs.put(v, name); }

    /** Fixes the blob a result will be written to when defined (graph outputs). */
    void preassign(Value v, String name) { preassigned.put(v, name); }

    /** Appends an operator to the predict net. */
    OperatorDef.Builder op(String type, List<String> inputs, List<String> outputs) {
        return net.addOpBuilder().setType(type).addAllInput(inputs).addAllOutput(outputs);
    }

    /** Appends a ready-made operator (a fill) to the predict net. */
    void append(OperatorDef def) { net.addOp(def); }

    /** A single-output operator writing a fresh blob named from {@code hint}; returns the blob. */
    String helper(String type, String hint, String... inputs) {
        String out = temp(hint);
        op(type, List.of(inputs), List.of(out));
        return out;
    }

    /** A {@code ConstantFill} of f32 {@code value} with static {@code shape}; returns the blob. */
    String constantFill(String hint, double value, long... shape) {
        String out = temp(hint);
        op("ConstantFill", List.of(), List.of(out))
                .addArg(Args.ints("shape", shape)).addArg(Args.f("value", value)).addArg(Args.i("dtype", Fills.dataType(DType.F32).getNumber()));
        return out;
    }

    /** Fails unless operand {@code i} of {@code op} has one of the dtypes Caffe2's {@code caffe2Op} computes. */
    static void requireDType(Op op, int i, String caffe2Op, Set<DType> allowed) {
        DType d = op.operand(i).tensorType().dtype();
        if (!allowed.contains(d)) {
            throw error(op, "Caffe2 " + caffe2Op + " computes " + allowed.stream().map(DType::irName).sorted().toList()
                    + " tensors, but operand " + i + " is " + op.operand(i).type());
        }
    }

    /** An error about {@code op}, starting with its name. */
    static NetDefException error(Op op, String message) { return new NetDefException(op.name() + ": " + message); }
}
