package dev.kiln.runtime;

import dev.kiln.ir.KilnException;
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
 *
 * <p>{@link #runInArena} is the planned mode: each tensor result of a top-level op is written into
 * its slot of one preallocated arena instead of fresh memory (see {@link ArenaLayout}).
 */
public final class Interpreter {

    private final Graph graph;
    private final Map<Value, Object> env = new IdentityHashMap<>();
    private final Map<String, Long> symbols = new HashMap<>();
    /** Planned mode only (null otherwise): the layout and the arena segment it describes. */
    private final ArenaLayout layout;
    private final MemorySegment arena;
    private int placed, views, copied, relocated, unplanned;

    private Interpreter(Graph graph) { this(graph, null, null); }

    private Interpreter(Graph graph, ArenaLayout layout, MemorySegment arena) {
        this.graph = graph;
        this.layout = layout;
        this.arena = arena;
    }

    private static final java.util.concurrent.atomic.LongAdder RUNS = new java.util.concurrent.atomic.LongAdder();

    /**
     * How many graphs the interpreter has run in this process (top-level runs, planned ones included): tests
     * read it to show that a default path ran generated code, not the interpreter.
     */
    public static long runs() { return RUNS.sum(); }

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

    /**
     * What a planned run returned and how its results found their memory.
     *
     * @param outputs      the graph's outputs; tensors that lived in the arena are copies, so they stay
     *                     valid after the next run reuses the arena
     * @param placed       results a kernel wrote directly into their slot
     * @param views        results that are views of another value's memory, as planned
     * @param copied       results of {@code if}/{@code loop}/{@code fused_elementwise}, copied into their slots
     * @param relocated    kernel results that did not land in their slot (a same-sized temporary took it,
     *                     or the kernel returned a view where new storage was planned), copied into it
     * @param unplanned    results left outside the arena, in fresh memory (counted in {@link Allocations})
     *                     or in an input's or weight's
     * @param scratchBytes the most kernel scratch space the run asked for at once
     */
    public record ArenaRun(List<Object> outputs, int placed, int views, int copied, int relocated, int unplanned,
                           long scratchBytes) {}

    /**
     * Runs {@code graph} with every tensor result of a top-level op written into its slot of
     * {@code arena} as {@code layout} places it, instead of fresh memory: an op's kernel takes its
     * result's slot through the {@link NDArray} allocation path (fresh slots are zero-filled first, an
     * in-place slot is the dying operand's bytes), a view shares its operand's slot, and kernel scratch
     * comes from the bytes of {@code arena} past {@link ArenaLayout#bytes}.
     *
     * <ul>
     *   <li>Ops inside {@code if}/{@code loop}/{@code fused_elementwise} regions are not planned: they
     *       allocate in a {@link MemoryScope} closed when the enclosing op's step ends, after its
     *       results are copied into their slots.</li>
     *   <li>Graph outputs that live in the arena are returned as copies (fresh memory, one allocation
     *       each), so they stay valid when the arena is reused; inputs and weights are never written.</li>
     *   <li>Inputs must bind symbolic dims to the sizes the layout was made for.</li>
     * </ul>
     *
     * A run uses the arena exclusively: do not run two graphs in the same arena at once.
     */
    public static ArenaRun runInArena(Graph graph, ArenaLayout layout, MemorySegment arena, List<?> inputs,
                                      Map<String, NDArray> weights) {
        if (!arena.isNative()) throw new KilnException("runInArena: the arena must be an off-heap (native) segment");
        if (arena.byteSize() < layout.bytes()) {
            throw new KilnException("runInArena: graph " + graph.name() + " needs an arena of " + layout.bytes()
                    + " bytes, got " + arena.byteSize());
        }
        layout.check(graph);
        Interpreter in = new Interpreter(graph, layout, arena);
        in.symbols.putAll(layout.bindings());
        Scratch.Region previous = Scratch.installed();
        Scratch.Region scratch = Scratch.install(arena.asSlice(layout.bytes()));
        try {
            List<Object> outputs;
            try {
                outputs = in.execute(inputs, weights);
            } catch (InputMismatchException e) {
                throw new InputMismatchException(e.getMessage() + "; the arena layout was planned for sizes "
                        + layout.bindings() + ": plan again for these inputs");
            }
            return new ArenaRun(in.copyOut(outputs), in.placed, in.views, in.copied, in.relocated, in.unplanned, scratch.highWater);
        } finally {
            Placement.withdraw();
            Scratch.uninstall(previous);
        }
    }

    private List<Object> execute(List<?> inputs, Map<String, NDArray> weights) {
        RUNS.increment();
        List<Value> params = graph.inputs();
        if (inputs.size() != params.size()) {
            throw new KilnException("graph " + graph.name() + " takes " + params.size() + " inputs, got " + inputs.size());
        }
        for (int i = 0; i < params.size(); i++) bind(params.get(i), inputs.get(i), "input " + i);
        for (var e : graph.weights().entrySet()) {
            NDArray w = weights.get(e.getKey());
            if (w == null) throw new KilnException("graph " + graph.name() + ": no data bound for weight '" + e.getKey() + "'");
            bind(e.getValue(), w, "weight '" + e.getKey() + "'");
        }
        return runBlock(graph.body());
    }

    /** Runs the ops of {@code block} (arguments already bound) and returns its terminator's operand values. */
    private List<Object> runBlock(Block block) {
        boolean planned = layout != null && block == graph.body();
        for (Op op : block.ops()) {
            if (op.name().equals("return") || op.name().equals("yield")) {
                return op.operands().stream().map(this::lookup).toList();
            }
            if (planned) runPlanned(op);
            else runOp(op);
        }
        throw new IllegalStateException("block in graph " + graph.name() + " has no terminator");
    }

    private void runOp(Op op) {
        switch (op.name()) {
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

    // ---------------------------------------------------------------- planned mode

    /** Runs a top-level op so that its tensor results end up where the layout places them. */
    private void runPlanned(Op op) {
        if (!op.regions().isEmpty()) {
            try (MemoryScope _ = MemoryScope.open()) {
                runOp(op);
                for (Value r : op.results()) {
                    if (r.type() instanceof TensorType) {
                        copyIntoSlot(r, (NDArray) lookup(r));
                        copied++;
                    }
                }
            }
            return;
        }
        Value single = op.results().size() == 1 && op.result().type() instanceof TensorType ? op.result() : null;
        MemorySegment offered = null;
        if (single != null && layout.slots().get(single).kind() != ArenaLayout.Kind.VIEW) {
            ArenaLayout.Slot slot = layout.slots().get(single);
            TensorType type = single.tensorType();
            long numel = layout.numel(type, single);
            offered = arena.asSlice(slot.offset(), numel * type.dtype().byteSize());
            Placement.offer(offered, type.dtype(), numel, slot.kind() != ArenaLayout.Kind.IN_PLACE);
        }
        try {
            runOp(op);
        } finally {
            Placement.withdraw();
        }
        for (Value r : op.results()) {
            if (r.type() instanceof TensorType) settle(op, r, r == single ? offered : null);
        }
    }

    /**
     * After {@code op} ran: keeps {@code r} where the kernel put it when that is its slot (or, for a
     * view, its operand's memory) or memory outside the arena, and otherwise copies it into its slot,
     * so that no value ever depends on arena bytes the plan does not keep alive for it.
     */
    private void settle(Op op, Value r, MemorySegment offered) {
        NDArray a = (NDArray) lookup(r);
        ArenaLayout.Slot slot = layout.slots().get(r);
        boolean sharesOperand = op.operandCount() > 0 && env.get(op.operand(0)) instanceof NDArray src && a.segment() == src.segment();
        if (slot.kind() == ArenaLayout.Kind.VIEW) {
            if (sharesOperand) {
                views++;
            } else {
                // A copy where a view was planned: fine outside the arena, but arena bytes would be unowned.
                if (inArena(a)) env.put(r, a.copy());
                unplanned++;
            }
            return;
        }
        if (offered != null && a.segment() == offered && a.isContiguous() && a.offset() == 0) {
            placed++;
        } else if (slot.kind() == ArenaLayout.Kind.MAYBE_VIEW && sharesOperand) {
            views++;
        } else if (inArena(a)) {
            copyIntoSlot(r, a);
            relocated++;
        } else {
            unplanned++;
        }
    }

    /** Writes {@code value} (r's data) contiguously into r's slot and binds r to it there. */
    private void copyIntoSlot(Value r, NDArray value) {
        ArenaLayout.Slot slot = layout.slots().get(r);
        long bytes = value.numel() * value.dtype().byteSize();
        if (bytes > slot.size()) {
            throw new IllegalStateException("graph " + graph.name() + ": " + r + " has " + bytes + " bytes but its arena slot holds " + slot.size());
        }
        MemorySegment target = arena.asSlice(slot.offset(), bytes);
        NDArray src = overlaps(value, target) ? value.copy() : value;
        NDArray dst = NDArray.wrap(target, value.dtype(), value.shape(), Shapes.contiguousStrides(value.shape()), 0);
        dst.assign(src);
        env.put(r, dst);
    }

    /** Tensors that lived in the arena are copied out, once per distinct tensor; the rest are returned as they are. */
    private List<Object> copyOut(List<Object> outputs) {
        Map<NDArray, NDArray> copies = new IdentityHashMap<>();
        List<Object> out = new ArrayList<>(outputs.size());
        for (Object o : outputs) out.add(o instanceof NDArray a && inArena(a) ? copies.computeIfAbsent(a, NDArray::copy) : o);
        return out;
    }

    private boolean inArena(NDArray a) {
        MemorySegment s = a.segment();
        return s.isNative() && s.address() >= arena.address() && s.address() < arena.address() + arena.byteSize();
    }

    private static boolean overlaps(NDArray a, MemorySegment target) {
        MemorySegment s = a.segment();
        return s.isNative() && s.byteSize() > 0 && target.byteSize() > 0
                && s.address() < target.address() + target.byteSize() && target.address() < s.address() + s.byteSize();
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
                throw new KilnException(unbound.getMessage() + " (bound sizes " + symbols + ")");
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
            if (!ok) throw new KilnException(graph.name() + ": " + what + " must be a " + s + " scalar, got " + describe(data));
        } else if (t instanceof TensorType tt) {
            if (!(data instanceof NDArray a)) throw new KilnException(graph.name() + ": " + what + " must be a tensor " + tt + ", got " + describe(data));
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
            default -> throw new KilnException("constant: unsupported value " + value);
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
        if (x.numel() != 1) throw new KilnException("item: tensor of shape " + java.util.Arrays.toString(x.shape()) + " has " + x.numel() + " elements, not 1");
        return switch (ScalarType.forDType(x.dtype())) {
            case INT -> x.getLong(new long[x.rank()]);
            case FLOAT -> x.getFlat(0);
            case BOOL -> x.getFlat(0) != 0;
        };
    }

}
