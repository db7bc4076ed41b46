package dev.kiln.onnx;

import com.google.protobuf.ByteString;
import dev.kiln.ir.Attribute;
import dev.kiln.ir.Block;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.Value;
import dev.kiln.onnx.proto.OnnxProtos.GraphProto;
import dev.kiln.onnx.proto.OnnxProtos.NodeProto;
import dev.kiln.onnx.proto.OnnxProtos.TensorProto;
import dev.kiln.onnx.proto.OnnxProtos.ValueInfoProto;

import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The state of one export while lowerings write nodes: the ONNX name of every Kiln value, the
 * graph or subgraph being filled, and helpers for nodes and constants. Lowerings see only this.
 */
final class Emitter {

    private final int opset;
    private final Names names;
    private final Map<Value, String> valueNames = new IdentityHashMap<>();
    private final Map<Value, String> preassigned = new IdentityHashMap<>();
    private Scope scope;
    private int nodeCount;
    /** The Kiln op being lowered; its name becomes the doc_string of every node it writes. */
    private Op current;

    /** One graph being written: its proto, the Kiln block it comes from, and fixed output names (main graph only). */
    private record Scope(GraphProto.Builder graph, Block block, List<String> outputNames) {}

    Emitter(int opset, Names names) {
        this.opset = opset;
        this.names = names;
    }

    int opset() { return opset; }

    /** The ONNX name of a value already defined (an input, weight, block argument or earlier result). */
    String ref(Value v) {
        String n = valueNames.get(v);
        if (n == null) {
            throw new OnnxExportException("value " + v + " is used before it is defined; the graph is malformed");
        }
        return n;
    }

    /** Names a result about to be written by the current lowering (a name fixed by the options wins). */
    String define(Value v) {
        if (valueNames.containsKey(v)) throw new IllegalStateException("value " + v + " is defined twice");
        String n = preassigned.containsKey(v) ? preassigned.get(v) : names.fresh(v.name());
        valueNames.put(v, n);
        return n;
    }

    /** Binds a value to a name chosen by the caller (graph inputs and weights, already claimed). */
    void bind(Value v, String name) { valueNames.put(v, name); }

    /** Binds a block argument to a fresh name from its hint (or {@code fallback}); returns the name. */
    String bindFresh(Value v, String fallback) {
        String n = names.fresh(v.name() != null ? v.name() : fallback);
        valueNames.put(v, n);
        return n;
    }

    /** Fixes the ONNX name a main-graph result will get when defined (a graph output name). */
    void preassign(Value v, String name) { preassigned.put(v, name); }

    /** Where each symbolic dim of the graph inputs can be read: the first input and axis that carry it. */
    private final Map<String, Map.Entry<Value, Integer>> symbolSources = new java.util.HashMap<>();

    /** Records the graph inputs whose types name symbolic dims ({@code N} in {@code f32[N, 4]}). */
    void symbolSources(List<Value> inputs) {
        for (Value in : inputs) {
            if (!(in.type() instanceof dev.kiln.ir.TensorType tt)) continue;
            List<dev.kiln.ir.Dim> dims = tt.shape().dims();
            for (int axis = 0; axis < dims.size(); axis++) {
                if (dims.get(axis) instanceof dev.kiln.ir.Dim.Symbolic(String name)) symbolSources.putIfAbsent(name, Map.entry(in, axis));
            }
        }
    }

    /**
     * A 1-D int64 tensor of shape [1] holding the run-time size of symbol {@code symbol}:
     * {@code Gather(Shape(input), [axis])} on the graph input whose type names it.
     */
    String symbolSize(Op op, String symbol) {
        Map.Entry<Value, Integer> src = symbolSources.get(symbol);
        if (src == null) {
            throw error(op, "size symbol '" + symbol + "' is not a dim of any graph input, so its run-time size cannot be computed");
        }
        String shape = helper("Shape", "shape_of_" + symbol, ref(src.getKey()));
        String axis = int64s("axis_of_" + symbol, src.getValue());
        String out = temp(symbol);
        node("Gather", List.of(shape, axis), List.of(out)).addAttribute(Attrs.i("axis", 0));
        return out;
    }

    /**
     * A 1-D int64 shape tensor for a size list that may hold symbols: a constant when it is all
     * integers, else a Concat of constant runs and {@link #symbolSize} pieces.
     */
    String sizes(Op op, String hint, long[] values, String[] symbols) {
        boolean any = false;
        for (String s : symbols) any |= s != null;
        if (!any) return int64s(hint, values);
        List<String> parts = new java.util.ArrayList<>();
        List<Long> run = new java.util.ArrayList<>();
        for (int i = 0; i < values.length; i++) {
            if (symbols[i] == null) {
                run.add(values[i]);
                continue;
            }
            if (!run.isEmpty()) parts.add(int64s(hint, run.stream().mapToLong(Long::longValue).toArray()));
            run.clear();
            parts.add(symbolSize(op, symbols[i]));
        }
        if (!run.isEmpty()) parts.add(int64s(hint, run.stream().mapToLong(Long::longValue).toArray()));
        String out = temp(hint);
        node("Concat", parts, List.of(out)).addAttribute(Attrs.i("axis", 0));
        return out;
    }

    /** A fresh name for a helper value. */
    String temp(String hint) { return names.fresh(hint); }

    /** Appends a node to the graph being written; an empty input name marks an absent optional input. */
    NodeProto.Builder node(String opType, List<String> inputs, List<String> outputs) {
        NodeProto.Builder n = scope.graph().addNodeBuilder().setOpType(opType).setName(opType + "_" + nodeCount++);
        n.addAllInput(inputs).addAllOutput(outputs);
        if (current != null) n.setDocString("kiln op " + current.name());
        return n;
    }

    /** A single-output node writing a fresh helper value; returns its name. */
    String helper(String opType, String hint, String... inputs) {
        String out = temp(hint);
        node(opType, List.of(inputs), List.of(out));
        return out;
    }

    /** A Constant node holding {@code t}; returns its output name. */
    String constant(TensorProto t, String hint) {
        String out = temp(hint);
        node("Constant", List.of(), List.of(out)).addAttribute(Attrs.tensor("value", t));
        return out;
    }

    /** A Constant node holding a 1-D int64 tensor (shapes, axes, pads). */
    String int64s(String hint, long... values) { return constant(OnnxTypes.int64s(values), hint); }

    /** A Constant node holding a tensor of {@code dtype} and {@code shape} (values rounded to the dtype). */
    String constant(DType dtype, long[] shape, double[] values, String hint) {
        return constant(tensorProto(dtype, shape, values), hint);
    }

    /** A tensor proto of {@code dtype} and {@code shape} (values rounded to the dtype). */
    TensorProto tensorProto(DType dtype, long[] shape, double[] values) {
        Attribute.Tensor c = Attribute.Tensor.fromDoubles(dtype, shape, values);
        return OnnxTypes.tensor(null, c.type(), ByteString.copyFrom(c.data()));
    }

    /** A Constant node holding a 0-d tensor of {@code dtype} (for broadcasting against a tensor of that dtype). */
    String scalar(DType dtype, double value, String hint) {
        return constant(dtype, new long[0], new double[] {value}, hint);
    }

    /** Unsqueeze with its axes as an input (the form of every supported opset, 13 on). */
    String unsqueeze(String x, String hint, long... axes) { return helper("Unsqueeze", hint, x, int64s("axes", axes)); }

    /**
     * A Reduce* node in this opset's form: ReduceSum takes axes as an input from opset 13, the other
     * reductions only from opset 18 (an attribute before). Empty axes reduce every axis.
     */
    void reduce(String onnxOp, String x, long[] axes, boolean keepdims, String output) {
        boolean axesAsInput = onnxOp.equals("ReduceSum") || opset >= 18;
        List<String> inputs = new java.util.ArrayList<>(List.of(x));
        if (axes.length > 0 && axesAsInput) inputs.add(int64s("axes", axes));
        NodeProto.Builder n = node(onnxOp, inputs, List.of(output)).addAttribute(Attrs.i("keepdims", keepdims ? 1 : 0));
        if (axes.length > 0 && !axesAsInput) n.addAttribute(Attrs.ints("axes", axes));
    }

    /** {@link #reduce} into a fresh helper value; returns its name. */
    String reduce(String onnxOp, String hint, String x, long[] axes, boolean keepdims) {
        String out = temp(hint);
        reduce(onnxOp, x, axes, keepdims, out);
        return out;
    }

    /** A 1-D int64 tensor: the run-time shape of {@code x}. */
    String shapeOf(String x) { return helper("Shape", x + "_shape", x); }

    /** A Cast of {@code input} to {@code dtype}, written to {@code output}. */
    void cast(String input, DType dtype, String output) {
        node("Cast", List.of(input), List.of(output)).addAttribute(Attrs.i("to", OnnxTypes.elemType(dtype).getNumber()));
    }

    /** An error about {@code op}, starting with its name. */
    static OnnxExportException error(Op op, String message) { return new OnnxExportException(op.name() + ": " + message); }

    /** Writes the main graph's body: the return op's operands become outputs named {@code outputNames}. */
    void emitMain(GraphProto.Builder graph, Block body, List<String> outputNames) {
        scope = new Scope(graph, body, outputNames);
        emitOps(body);
    }

    /**
     * Writes {@code block} as a subgraph with the given inputs (its arguments, already bound by the
     * caller); its yield's operands become the subgraph outputs.
     */
    GraphProto subgraph(String hint, Block block, List<ValueInfoProto> inputs) {
        Op terminator = block.terminator();
        if (terminator == null || !terminator.name().equals("yield")) {
            throw error(block.parentOp(), "a region does not end in yield, so its results are undefined; the graph is malformed");
        }
        Scope outer = scope;
        GraphProto.Builder g = GraphProto.newBuilder().setName(temp(hint)).addAllInput(inputs);
        scope = new Scope(g, block, null);
        try {
            emitOps(block);
        } finally {
            scope = outer;
        }
        return g.build();
    }

    private void emitOps(Block block) {
        Op outer = current;
        try {
            for (Op op : block.ops()) {
                current = op;
                OnnxOpTable.lowering(op.name()).lower(op, this);
            }
        } finally {
            current = outer;
        }
    }

    /**
     * Makes {@code values} the outputs of the graph being written. A value is used directly when the
     * graph's own nodes produce it under the right name; otherwise (an input, weight, outer value or
     * repeated output) an Identity node copies it.
     */
    void emitOutputs(List<Value> values) {
        List<String> fixed = scope.outputNames();
        if (fixed != null && fixed.size() != values.size()) {
            throw new OnnxExportException("the graph returns " + values.size() + " values but "
                    + fixed.size() + " output names were given: " + fixed);
        }
        Set<String> used = new HashSet<>();
        for (int i = 0; i < values.size(); i++) {
            Value v = values.get(i);
            String src = ref(v);
            boolean producedHere = v.kind() == Value.Kind.OP_RESULT && v.definingOp().parent() == scope.block();
            String target = fixed != null ? fixed.get(i)
                    : producedHere && !used.contains(src) ? src : temp(src + "_out");
            if (!target.equals(src)) {
                node("Identity", List.of(src), List.of(target));
            }
            used.add(target);
            scope.graph().addOutput(OnnxTypes.valueInfo(target, v.type()));
        }
    }
}
