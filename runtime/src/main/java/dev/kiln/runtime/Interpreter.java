package dev.kiln.runtime;

import dev.kiln.ir.Attribute;
import dev.kiln.ir.Block;
import dev.kiln.ir.Dim;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Op;
import dev.kiln.ir.ScalarType;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Type;
import dev.kiln.ir.Value;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The reference interpreter: runs any verified graph on CPU tensors, op by op, with {@code if} and
 * {@code loop} included. Tensor values are {@link NDArray}s; host scalars are {@code Long},
 * {@code Double} and {@code Boolean}. Inputs and weights are checked against the graph's types
 * (symbolic dims must agree wherever they appear), and so is every op's result.
 */
public final class Interpreter {

    private final Graph graph;
    private final Map<Value, Object> env = new IdentityHashMap<>();
    private final Map<String, Long> symbols = new HashMap<>();

    private Interpreter(Graph graph) { this.graph = graph; }

    /** Runs {@code graph} on {@code inputs} with {@code weights} bound by name; returns the outputs. */
    public static List<Object> run(Graph graph, List<?> inputs, Map<String, NDArray> weights) {
        return new Interpreter(graph).execute(inputs, weights);
    }

    /** Convenience for graphs whose inputs and outputs are all tensors. */
    public static List<NDArray> runTensors(Graph graph, List<NDArray> inputs, Map<String, NDArray> weights) {
        List<NDArray> out = new ArrayList<>();
        for (Object o : run(graph, inputs, weights)) {
            if (!(o instanceof NDArray a)) throw new IllegalStateException("graph " + graph.name() + " returns a scalar " + o);
            out.add(a);
        }
        return out;
    }

    private List<Object> execute(List<?> inputs, Map<String, NDArray> weights) {
        List<Value> params = graph.inputs();
        if (inputs.size() != params.size()) {
            throw new IllegalArgumentException("graph " + graph.name() + " takes " + params.size() + " inputs, got " + inputs.size());
        }
        for (int i = 0; i < params.size(); i++) bind(params.get(i), inputs.get(i), "input " + i);
        for (var e : graph.weights().entrySet()) {
            NDArray w = weights.get(e.getKey());
            if (w == null) throw new IllegalArgumentException("graph " + graph.name() + ": no data bound for weight '" + e.getKey() + "'");
            bind(e.getValue(), w, "weight '" + e.getKey() + "'");
        }
        return runBlock(graph.body());
    }

    /** Runs the ops of {@code block} (arguments already bound) and returns its terminator's operand values. */
    private List<Object> runBlock(Block block) {
        for (Op op : block.ops()) {
            switch (op.name()) {
                case "return", "yield" -> {
                    return op.operands().stream().map(this::lookup).toList();
                }
                case "constant" -> env.put(op.result(), constant(op.attr("value")));
                case "item" -> env.put(op.result(), item((NDArray) lookup(op.operand(0))));
                case "if" -> runIf(op);
                case "loop" -> runLoop(op);
                case "fused_elementwise" -> runFused(op);
                default -> {
                    if (ScalarOpsEval.handles(op.name())) {
                        bind(op.result(), ScalarOpsEval.eval(op, op.operands().stream().map(this::lookup).toArray()), "result of " + op.name());
                    } else {
                        runKernel(op);
                    }
                }
            }
        }
        throw new IllegalStateException("block in graph " + graph.name() + " has no terminator");
    }

    private void runKernel(Op op) {
        List<NDArray> args = new ArrayList<>(op.operandCount());
        for (Value v : op.operands()) args.add((NDArray) lookup(v));
        if (op.results().size() > 1) { // fusion ops such as skip_layer_norm {with_sum}
            List<Object> results = new ArrayList<>(FusionKernels.multiResult(op.name(), args, new OpAttributes(op.schema(), resolveSymbols(op))));
            bindAll(op.results(), results, "result of " + op.name());
            return;
        }
        NDArray result = OpKernels.get(op.name()).apply(args, new OpAttributes(op.schema(), resolveSymbols(op)));
        bind(op.result(), result, "result of " + op.name());
    }

    /**
     * The op's attributes with every symbolic size list ({@code reshape(%x) {shape = [N, -1]}})
     * replaced by plain ints from the sizes the inputs bound; kernels only ever see ints.
     */
    private Map<String, Attribute> resolveSymbols(Op op) {
        Map<String, Attribute> attrs = op.attributes();
        if (attrs.values().stream().noneMatch(a -> a instanceof Attribute.Dims)) return attrs;
        Map<String, Attribute> resolved = new java.util.LinkedHashMap<>(attrs);
        for (var e : attrs.entrySet()) {
            if (!(e.getValue() instanceof Attribute.Dims d)) continue;
            try {
                resolved.put(e.getKey(), new Attribute.Ints(d.resolve(symbols::get, graph.name() + ": " + op.name() + " attribute '" + e.getKey() + "'")));
            } catch (IllegalStateException unbound) {
                throw new IllegalArgumentException(unbound.getMessage() + " (bound sizes " + symbols + ")");
            }
        }
        return resolved;
    }

    private void runIf(Op op) {
        boolean cond = (Boolean) lookup(op.operand(0));
        List<Object> yielded = runBlock(op.region(cond ? 0 : 1));
        bindAll(op.results(), yielded, "result of if");
    }

    private void runLoop(Op op) {
        long trip = (Long) lookup(op.operand(0));
        boolean cond = (Boolean) lookup(op.operand(1));
        List<Object> carried = new ArrayList<>();
        for (int i = 2; i < op.operandCount(); i++) carried.add(lookup(op.operand(i)));
        Block body = op.region(0);
        for (long i = 0; i < trip && cond; i++) {
            env.put(body.argument(0), i);
            for (int k = 0; k < carried.size(); k++) bind(body.argument(k + 1), carried.get(k), "loop-carried value " + k);
            List<Object> yielded = runBlock(body);
            cond = (Boolean) yielded.get(0);
            carried = new ArrayList<>(yielded.subList(1, yielded.size()));
        }
        bindAll(op.results(), carried, "result of loop");
    }

    /** A fused group: binds the region's arguments to the operands and runs its ops with their own kernels. */
    private void runFused(Op op) {
        Block body = op.region(0);
        for (int i = 0; i < op.operandCount(); i++) bind(body.argument(i), lookup(op.operand(i)), "fused input " + i);
        bindAll(op.results(), runBlock(body), "result of fused_elementwise");
    }

    private Object lookup(Value v) {
        Object o = env.get(v);
        if (o == null) throw new IllegalStateException("graph " + graph.name() + ": value " + v + " used before it was computed");
        return o;
    }

    private void bindAll(List<Value> values, List<Object> data, String what) {
        for (int i = 0; i < values.size(); i++) bind(values.get(i), data.get(i), what);
    }

    /** Records {@code data} for {@code v} after checking it against v's type. */
    private void bind(Value v, Object data, String what) {
        Type t = v.type();
        if (t instanceof ScalarType s) {
            boolean ok = switch (s) {
                case INT -> data instanceof Long;
                case FLOAT -> data instanceof Double;
                case BOOL -> data instanceof Boolean;
            };
            if (!ok) throw new IllegalArgumentException(graph.name() + ": " + what + " must be a " + s + " scalar, got " + describe(data));
        } else if (t instanceof TensorType tt) {
            if (!(data instanceof NDArray a)) throw new IllegalArgumentException(graph.name() + ": " + what + " must be a tensor " + tt + ", got " + describe(data));
            checkTensor(tt, a, what);
        }
        env.put(v, data);
    }

    private void checkTensor(TensorType expected, NDArray a, String what) {
        long[] shape = a.shape();
        boolean ok = a.dtype() == expected.dtype() && shape.length == expected.rank();
        for (int i = 0; ok && i < shape.length; i++) {
            int axis = i;
            Dim d = expected.shape().dims().get(i);
            if (d instanceof Dim.Static(long size)) ok = size == shape[i];
            else if (d instanceof Dim.Symbolic(String name)) ok = symbols.computeIfAbsent(name, k -> shape[axis]) == shape[i];
        }
        if (!ok) {
            throw new InputMismatchException(graph.name() + ": " + what + " expected " + expected + ", got "
                    + a.dtype().irName() + java.util.Arrays.toString(shape) + (symbols.isEmpty() ? "" : " (bound sizes " + symbols + ")"));
        }
    }

    private static String describe(Object data) {
        return data instanceof NDArray a ? "tensor " + a.dtype().irName() + java.util.Arrays.toString(a.shape())
                : data == null ? "nothing" : data.getClass().getSimpleName() + " " + data;
    }

    private static Object constant(Attribute value) {
        return switch (value) {
            case Attribute.Tensor t -> fromBytes(t.type(), t.data());
            case Attribute.Int i -> i.value();
            case Attribute.Float f -> f.value();
            case Attribute.Bool b -> b.value();
            default -> throw new IllegalArgumentException("constant: unsupported value " + value);
        };
    }

    /** A fresh array holding little-endian row-major {@code bytes} of type {@code type}. */
    public static NDArray fromBytes(TensorType type, byte[] bytes) {
        NDArray out = NDArray.zeros(type.dtype(), type.shape().toArray());
        MemorySegment.copy(MemorySegment.ofArray(bytes), 0, out.segment(),
                out.offset() * type.dtype().byteSize(), bytes.length);
        return out;
    }

    private static Object item(NDArray x) {
        if (x.numel() != 1) throw new IllegalArgumentException("item: tensor of shape " + java.util.Arrays.toString(x.shape()) + " has " + x.numel() + " elements, not 1");
        return switch (ScalarType.forDType(x.dtype())) {
            case INT -> x.getLong(new long[x.rank()]);
            case FLOAT -> x.getFlat(0);
            case BOOL -> x.getFlat(0) != 0;
        };
    }

}
