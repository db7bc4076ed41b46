package dev.kiln.codegen;

import dev.kiln.ir.KilnException;
import dev.kiln.ir.Attribute;
import dev.kiln.ir.Block;
import dev.kiln.ir.DType;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Op;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Trait;
import dev.kiln.ir.Value;
import dev.kiln.passes.MemoryPlan;
import dev.kiln.runtime.ArenaLayout;
import dev.kiln.runtime.Interpreter;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.OpAttributes;
import dev.kiln.runtime.OpKernels;
import dev.kiln.runtime.ResultStorage;
import dev.kiln.runtime.ScalarOpsEval;
import dev.kiln.runtime.kernels.Depthwise;
import dev.kiln.runtime.kernels.Parallel;
import org.objectweb.asm.Label;
import org.objectweb.asm.MethodTooLargeException;
import org.objectweb.asm.Opcodes;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Lowers one optimised graph, for one binding of its symbolic dims, to a generated class (the CPU/JVM target of
 * {@link CpuBackend}). Every top-level tensor gets a fixed home known now: an arena slot of the memory plan, a
 * weight, a constant, a bound input, or a view of one of those, so the generated {@code run} is a straight line
 * of static calls with constant segments and sizes: direct kernels (GEMM, im2col, pooling), generated loops for
 * elementwise groups and GEMM/convolution epilogues, and reference kernels for the rest ({@link RefStep}).
 * Host scalars and {@code if}/{@code loop} become generated control flow over JVM locals whose tensor ops call the
 * reference kernels. A long straight line continues in further methods ({@code part0}, {@code part1}, ...), each
 * called at the end of the one before: see {@link #PART_BYTES}.
 */
final class Lowering implements Opcodes {

    private static final long MAX_UNROLLED_CALLS = 256;

    /**
     * Once the method being written holds this many bytes of bytecode, the next top-level op starts a new method
     * (where no host-scalar local is live; those stay in one method): a JVM method holds at most 64 KiB of code,
     * which a large model at a large batch exceeds (convolutions are unrolled per image and group), and HotSpot
     * compiles no method over 8000 bytes ({@code -XX:HugeMethodLimit}), so shorter parts also run compiled.
     */
    static final int PART_BYTES = 7000;
    private static final String RUN_DESCRIPTOR = "(Ljava/util/List;Ljava/util/List;)V";

    private final Graph graph;
    private final Map<String, NDArray> weights;
    private final Map<String, Long> bindings;
    private final ArenaLayout layout;
    private final ConcreteShapes shapes;
    private final MemorySegment arena;
    private final Gen g;
    private final LoopGen loops;
    private final List<String> listing = new ArrayList<>();
    private final List<String> kernels = new ArrayList<>();
    private final Map<Value, TensorRef> refs = new IdentityHashMap<>();
    /** JVM locals (in {@code run}) of host scalars and of tensors inside control flow. */
    private final Map<Value, Integer> locals = new IdentityHashMap<>();
    /** Buffers bound per run: the graph's inputs, then its outputs (those written in place of a slot). */
    private final NDArray[] boundArrays;
    private final MemorySegment[] boundSegments;
    private final long[] boundBytes;
    /** The first output position of each result a top-level op computes: written straight into the caller's buffer. */
    private final Map<Value, Integer> outputPositions = new IdentityHashMap<>();
    private final List<String> loopObjects = new ArrayList<>();
    private final RowLoop[] rowLoops;
    private MemorySegment colScratch;

    Lowering(Graph graph, Map<String, NDArray> weights, MemoryPlan plan, String className) {
        this.graph = graph;
        this.weights = weights;
        this.bindings = plan.bindings();
        this.layout = plan.arenaLayout();
        this.shapes = ConcreteShapes.of(graph, bindings);
        this.arena = Arena.ofAuto().allocate(Math.max(1, layout.bytes()), 64);
        this.g = new Gen(className);
        Object species = VectorSupport.species();
        this.loops = new LoopGen(species, VectorSupport.lanes());
        int bound = graph.inputs().size() + graph.body().terminator().operandCount();
        this.boundArrays = new NDArray[bound];
        this.boundSegments = new MemorySegment[bound];
        this.boundBytes = new long[bound];
        this.rowLoops = new RowLoop[graph.body().ops().size()]; // at most one loop object per top-level op
    }

    /** Generates, defines and returns the program. */
    Program lower() {
        checkSignature();
        g.beginMethod(ACC_PUBLIC, "run", RUN_DESCRIPTOR, 3);
        for (int i = 0; i < graph.inputs().size(); i++) bindInput(i);
        List<Value> results = graph.body().terminator().operands();
        for (int i = 0; i < results.size(); i++) {
            checkOutput(i, results.get(i));
            outputPositions.putIfAbsent(results.get(i), i);
        }
        for (var e : graph.weights().entrySet()) {
            NDArray w = weights.get(e.getKey());
            if (w == null) throw new KilnException("graph " + graph.name() + ": no data bound for weight '" + e.getKey() + "'");
            refs.put(e.getValue(), TensorRef.of(w));
        }
        Op ret = null;
        for (Op op : graph.body().ops()) {
            if (op.name().equals("return")) {
                ret = op;
                break;
            }
            if (locals.isEmpty() && g.codeSize() >= PART_BYTES) continueInNewMethod();
            lowerTopLevel(op);
        }
        if (ret == null) throw new IllegalStateException("graph " + graph.name() + " has no return");
        for (int i = 0; i < ret.operandCount(); i++) emitOutput(i, ret.operand(i));
        g.endMethod();
        byte[] bytes;
        try {
            bytes = g.bytes();
        } catch (MethodTooLargeException e) {
            throw new UncompilableGraphException("codegen: graph " + graph.name() + " at sizes " + bindings + " needs "
                    + e.getCodeSize() + " bytes of bytecode in method " + e.getMethodName() + ", over the JVM's 64 KiB limit"
                    + " (ops between host-scalar values or loops cannot be split into several methods); run it on the"
                    + " reference interpreter (O0) or at smaller sizes", e);
        }
        return new Program(graph, bindings, g.define(bytes), bytes, listing, kernels, arena, outputTypes(), rowLoops, loopObjects);
    }

    private void checkSignature() {
        for (Value v : graph.inputs()) {
            if (!(v.type() instanceof TensorType)) {
                throw new UncompilableGraphException("codegen: graph " + graph.name() + " takes a host scalar input " + v
                        + "; compiled code takes tensors only (run it on the interpreter, O0)");
            }
        }
        for (Value v : graph.body().terminator().operands()) {
            if (!(v.type() instanceof TensorType)) {
                throw new UncompilableGraphException("codegen: graph " + graph.name() + " returns a host scalar " + v
                        + "; compiled code returns tensors only (run it on the interpreter, O0)");
            }
        }
    }

    private List<TensorRef> outputTypes() {
        List<TensorRef> out = new ArrayList<>();
        for (Value v : graph.body().terminator().operands()) out.add(refs.get(v));
        return out;
    }

    // ---------------------------------------------------------------- inputs and outputs

    private void bindInput(int i) {
        Value v = graph.inputs().get(i);
        TensorType t = v.tensorType();
        long[] shape = shapes.shape(v);
        g.mv.visitVarInsn(ALOAD, 1);
        g.pushInt(i);
        g.constant(t.dtype(), DType.class);
        g.constant(shape, long[].class);
        g.constant(boundArrays, NDArray[].class);
        g.constant(boundSegments, MemorySegment[].class);
        g.constant(graph.name(), String.class);
        g.callStatic(Steps.class, "bindInput", List.class, int.class, DType.class, long[].class, NDArray[].class,
                MemorySegment[].class, String.class);
        TensorRef ref = TensorRef.bound(i, t.dtype(), shape);
        boundBytes[i] = ref.bytes();
        refs.put(v, ref);
        listing.add("bind input " + i + " " + t.dtype().irName() + Arrays.toString(shape));
    }

    /** Ends the method being written with a call to a new one, {@code part<n>} with {@code run}'s parameters, and continues there. */
    private void continueInNewMethod() {
        String part = g.methodName("part");
        g.mv.visitVarInsn(ALOAD, 0);
        g.mv.visitVarInsn(ALOAD, 1);
        g.mv.visitVarInsn(ALOAD, 2);
        g.mv.visitMethodInsn(INVOKESPECIAL, g.internalName, part, RUN_DESCRIPTOR, false);
        g.endMethod();
        g.beginMethod(ACC_PRIVATE, part, RUN_DESCRIPTOR, 3);
        listing.add("(continued in method " + part + ")");
    }

    /** Checks output buffer {@code i} at entry, before anything is written. */
    private void checkOutput(int i, Value v) {
        g.mv.visitVarInsn(ALOAD, 2);
        g.pushInt(i);
        g.constant(v.tensorType().dtype(), DType.class);
        g.constant(shapes.shape(v), long[].class);
        g.constant(graph.name(), String.class);
        g.callStatic(Steps.class, "checkOutput", List.class, int.class, DType.class, long[].class, String.class);
    }

    /**
     * Binds the caller's buffer for graph output {@code v}, just before the op that writes it, as {@code v}'s home:
     * {@code slot} instead when the buffer is strided or shares bytes with another bound buffer (and
     * {@code finishOutput} copies it over at the end).
     */
    private TensorRef outputHome(Value v, NDArray slot) {
        int position = outputPositions.get(v);
        int index = graph.inputs().size() + position;
        g.mv.visitVarInsn(ALOAD, 2);
        g.pushInt(position);
        g.constant(slot, NDArray.class);
        g.pushInt(index);
        g.constant(boundArrays, NDArray[].class);
        g.constant(boundSegments, MemorySegment[].class);
        g.callStatic(Steps.class, "bindOutput", List.class, int.class, NDArray.class, int.class, NDArray[].class, MemorySegment[].class);
        TensorRef ref = TensorRef.bound(index, slot.dtype(), slot.shape());
        boundBytes[index] = ref.bytes();
        return ref;
    }

    private void emitOutput(int i, Value v) {
        TensorRef r = refs.get(v);
        if (r.isBound() && r.bound() == graph.inputs().size() + i) {
            g.mv.visitVarInsn(ALOAD, 2);
            g.pushInt(i);
            g.pushInt(r.bound());
            g.constant(boundArrays, NDArray[].class);
            g.callStatic(Steps.class, "finishOutput", List.class, int.class, int.class, NDArray[].class);
            listing.add("output " + i + " <- " + v + " (written in place)");
            return;
        }
        if (r.contiguous()) {
            loadSegment(r);
            g.pushLong(r.bytes());
            g.mv.visitVarInsn(ALOAD, 2);
            g.pushInt(i);
            g.callStatic(Steps.class, "output", MemorySegment.class, long.class, List.class, int.class);
        } else {
            loadArray(r);
            g.mv.visitVarInsn(ALOAD, 2);
            g.pushInt(i);
            g.callStatic(Steps.class, "outputView", NDArray.class, List.class, int.class);
        }
        listing.add("output " + i + " <- " + v + " (" + r + ")");
    }

    // ---------------------------------------------------------------- segments and arrays

    /** Pushes the segment of {@code r}, starting at its first element and spanning every element it addresses. */
    private void loadSegment(TensorRef r) { pushSegment(r, 0, spanBytes(r)); }

    /** Bytes from the first element of {@code r} to the end of its last. */
    static long spanBytes(TensorRef r) {
        long last = 0;
        for (int i = 0; i < r.shape().length; i++) {
            if (r.shape()[i] == 0) return 0;
            last += (r.shape()[i] - 1) * r.strides()[i];
        }
        return (last + 1) * r.dtype().byteSize();
    }

    /** Pushes the tensor {@code r} as an {@link NDArray} for this run. */
    private void loadArray(TensorRef r) {
        if (!r.isBound()) {
            g.constant(r.fixed(), NDArray.class);
            return;
        }
        g.constant(r, TensorRef.class);
        g.constant(boundArrays, NDArray[].class);
        g.callStatic(Steps.class, "resolve", TensorRef.class, NDArray[].class);
    }

    /** The planned slot of top-level result {@code v}, as a contiguous tensor. */
    private NDArray slot(Value v) {
        ArenaLayout.Slot s = layout.slots().get(v);
        if (s == null || s.kind() == ArenaLayout.Kind.VIEW) throw new IllegalStateException("codegen: " + v + " has no arena slot");
        TensorType t = v.tensorType();
        long[] shape = shapes.shape(v);
        long bytes = Math.multiplyExact(TensorRef.numel(shape), (long) t.dtype().byteSize());
        return NDArray.wrap(arena.asSlice(s.offset(), bytes), t.dtype(), shape, TensorRef.contiguousStrides(shape), 0);
    }

    // ---------------------------------------------------------------- top-level ops

    private void lowerTopLevel(Op op) {
        String name = op.name();
        if (name.equals("constant")) {
            if (op.result().type() instanceof TensorType) {
                refs.put(op.result(), TensorRef.of(Interpreter.fromBytes(((Attribute.Tensor) op.attr("value")).type(), ((Attribute.Tensor) op.attr("value")).data())));
            } else {
                dynamicOp(op);
            }
            return;
        }
        boolean scalarResult = op.results().stream().anyMatch(r -> !(r.type() instanceof TensorType));
        if (!op.regions().isEmpty() || scalarResult || name.equals("item") || ScalarOpsEval.handles(name)) {
            if (name.equals("fused_elementwise") && fusedLoop(op)) return;
            topLevelDynamic(op);
            return;
        }
        if (view(op)) return;
        if (stridedCopy(op)) return;
        if (DirectOps.lower(this, op)) return;
        if (op.has(Trait.ELEMENTWISE) && elementwiseLoop(op)) return;
        referenceStep(op);
    }

    /** Views: no code, a new home over the operand's storage. */
    private boolean view(Op op) {
        ResultStorage storage = ResultStorage.of(op);
        if (storage == ResultStorage.NEW) return false;
        TensorRef src = refs.get(op.operand(0));
        NDArray template = src.isBound() ? boundTemplate(src) : src.fixed();
        Map<String, Attribute> attrs = resolvedAttributes(op);
        OpAttributes a = new OpAttributes(op.schema(), attrs);
        long[] outShape = shapes.shape(op.result());
        NDArray view = switch (op.name()) {
            case "reshape", "flatten" -> template.viewOrNull(outShape);
            case "permute" -> template.permute(a.ints("perm"));
            case "expand" -> template.expand(a.longs("shape"));
            case "slice" -> template.slice(a.intValue("axis"), a.integer("start"), a.integer("end"), a.integer("step"));
            case "cast" -> template;
            default -> null;
        };
        if (view == null) return false;
        TensorRef ref = src.isBound()
                ? new TensorRef(null, src.bound(), src.dtype(), view.shape(), view.strides(), view.offset())
                : TensorRef.of(view);
        refs.put(op.result(), ref);
        listing.add(op.result() + " = " + op.name() + " view of " + op.operand(0) + ": " + ref);
        return true;
    }

    /**
     * A {@code reshape}/{@code flatten} that cannot be a view (of a permuted tensor, say) copies its f32 operand into
     * its slot in row-major order: a generated loop over the operand's shape and strides.
     */
    private boolean stridedCopy(Op op) {
        if (!(op.name().equals("reshape") || op.name().equals("flatten"))) return false;
        TensorRef src = tensorRef(op.operand(0));
        if (src.dtype() != dev.kiln.ir.DType.F32) return false;
        if (shuffleIntoDepthwise(op, src)) return true;
        return loop(op, out -> Fusion.copy(src, new TensorRef(out.fixed(), out.bound(), out.dtype(), src.shape(),
                TensorRef.contiguousStrides(src.shape()), out.offset())), op.name() + " (copy of a strided view)");
    }

    /**
     * A channel shuffle read in place by the depthwise convolution right after it: {@code channels} is the
     * unshuffled (contiguous) tensor, and channel {@code i} of the shuffled tensor is its channel
     * {@code (i % groups) * (C / groups) + i / groups}.
     */
    record Shuffle(TensorRef channels, int groups) {}

    private final Map<Value, Shuffle> shuffles = new IdentityHashMap<>();

    /** The channel shuffle {@code v} stands for, unwritten, when its one user reads it in place; else null. */
    Shuffle shuffle(Value v) { return shuffles.get(v); }

    /**
     * ShuffleNet's channel shuffle ({@code reshape [N, G, C/G, H, W]}, {@code transpose(1, 2)}, this reshape back
     * to {@code [N, C, H, W]}) feeding only the depthwise convolution that is the next op: no copy, the convolution
     * reads the unshuffled tensor through {@link Depthwise.Geometry#shuffleGroups()}. Only when the convolution's
     * output does not share bytes with the unshuffled tensor (which the memory plan counts as dead after this op).
     */
    private boolean shuffleIntoDepthwise(Op op, TensorRef src) {
        long[] s = src.shape(), st = src.strides();
        if (s.length != 5 || op.result().uses().size() != 1) return false;
        long n = s[0], a = s[1], groups = s[2], h = s[3], w = s[4], c = a * groups, plane = h * w;
        if (groups < 2 || groups > Integer.MAX_VALUE || st[4] != 1 && w > 1 || st[3] != w && h > 1 || st[2] != a * plane
                || st[1] != plane || st[0] != c * plane && n > 1) return false;
        long[] outShape = shapes.shape(op.result());
        if (!Arrays.equals(outShape, new long[] {n, c, h, w})) return false;
        Value.Use use = op.result().uses().get(0);
        List<Op> ops = graph.body().ops();
        int at = ops.indexOf(op);
        Op conv = use.user();
        if (use.index() != 0 || at + 1 >= ops.size() || ops.get(at + 1) != conv || !DirectOps.readsShuffleInPlace(this, conv, c)) return false;
        TensorRef channels = src.isBound()
                ? new TensorRef(null, src.bound(), src.dtype(), outShape, TensorRef.contiguousStrides(outShape), src.offset())
                : TensorRef.of(NDArray.wrap(src.fixed().segment(), src.dtype(), outShape, TensorRef.contiguousStrides(outShape), src.fixed().offset()));
        NDArray convOut = slot(conv.result());
        if (!channels.isBound()) {
            NDArray f = channels.fixed();
            long from = f.segment().address() + f.offset() * 4, to = from + channels.bytes();
            long outFrom = convOut.segment().address(), outTo = outFrom + convOut.numel() * 4;
            if (from < outTo && outFrom < to) return false;
        }
        shuffles.put(op.result(), new Shuffle(channels, (int) groups));
        refs.put(op.result(), TensorRef.of(slot(op.result())));   // a stand-in with the shape; never written or read
        listing.add(op.result() + " = " + op.name() + " (channel shuffle of " + groups + " groups) read in place by " + conv.result());
        return true;
    }

    /** A geometry-only stand-in for a bound buffer, for computing views of it (never read). */
    @SuppressWarnings("restricted")
    private static NDArray boundTemplate(TensorRef src) {
        MemorySegment nowhere = MemorySegment.NULL.reinterpret(Math.max(1, spanBytes(src) + src.offset() * src.dtype().byteSize()));
        return NDArray.wrap(nowhere, src.dtype(), src.shape(), src.strides(), src.offset());
    }

    private Map<String, Attribute> resolvedAttributes(Op op) {
        Map<String, Attribute> attrs = op.attributes();
        if (attrs.values().stream().noneMatch(x -> x instanceof Attribute.Dims)) return attrs;
        Map<String, Attribute> resolved = new LinkedHashMap<>(attrs);
        for (var e : attrs.entrySet()) {
            if (e.getValue() instanceof Attribute.Dims d) {
                resolved.put(e.getKey(), new Attribute.Ints(d.resolve(bindings::get, graph.name() + ": " + op.name() + " attribute '" + e.getKey() + "'")));
            }
        }
        return resolved;
    }

    private void referenceStep(Op op) {
        OpKernels.Kernel kernel = OpKernels.get(op.name());
        TensorRef[] operands = op.operands().stream().map(this::tensorRef).toArray(TensorRef[]::new);
        NDArray[] targets = new NDArray[op.results().size()];
        for (int i = 0; i < targets.length; i++) {
            targets[i] = slot(op.results().get(i));
            refs.put(op.results().get(i), TensorRef.of(targets[i]));
        }
        boolean fresh = layout.slots().get(op.results().get(0)).kind() != ArenaLayout.Kind.IN_PLACE;
        RefStep step = new RefStep(op, kernel, new OpAttributes(op.schema(), resolvedAttributes(op)), operands, targets, fresh);
        g.constant(step, RefStep.class);
        g.constant(boundArrays, NDArray[].class);
        g.callVirtual(RefStep.class, "run", NDArray[].class);
        String what = op.name() + " -> reference kernel " + op.name() + " (" + dtypes(op) + ")";
        listing.add(op.results() + " = " + what);
        kernels.add(what);
    }

    private TensorRef tensorRef(Value v) {
        TensorRef r = refs.get(v);
        if (r == null) throw new IllegalStateException("codegen: " + v + " used before it has a home");
        return r;
    }

    private static String dtypes(Op op) {
        return String.join(", ", op.operands().stream().map(v -> v.type() instanceof TensorType t ? t.dtype().irName() : v.type().toString()).toList());
    }

    // ---------------------------------------------------------------- generated loops

    private boolean fusedLoop(Op op) {
        List<TensorRef> operands = op.operands().stream().map(this::tensorRef).toList();
        return loop(op, out -> Fusion.fromGroup(op, operands, out), "fused_elementwise");
    }

    private boolean elementwiseLoop(Op op) {
        if (op.results().size() != 1) return false;
        List<TensorRef> operands = op.operands().stream().map(this::tensorRef).toList();
        return loop(op, out -> Fusion.fromOp(op, operands, out), op.name());
    }

    /**
     * Lowers {@code op} to the generated loop {@code spec} makes for a given home of its result, if it makes one:
     * the result's slot, or the caller's buffer when the result is a graph output.
     */
    private boolean loop(Op op, java.util.function.Function<TensorRef, LoopSpec> spec, String what) {
        TensorRef slot = TensorRef.of(slot(op.result()));
        LoopSpec probe = spec.apply(slot);
        if (probe == null) return false;
        TensorRef out = outputPositions.containsKey(op.result()) ? outputHome(op.result(), slot.fixed()) : slot;
        emitLoop(out == slot ? probe : spec.apply(out), op.result() + " = " + what);
        refs.put(op.result(), out);
        return true;
    }

    /** Writes {@code spec} as a loop method and calls it over all its rows (in parallel when large). */
    void emitLoop(LoopSpec spec, String what) {
        if (spec.rows() == 0 || spec.inner() == 0) return;
        String name = loopMethod(spec);
        long work = spec.rows() * spec.inner();
        if (work >= Parallel.PARALLEL_THRESHOLD && spec.rows() >= 2 && Parallel.threads() > 1) {
            pushRowLoop(name);
            g.pushLong(spec.rows());
            g.pushLong(Math.max(1, Parallel.PARALLEL_THRESHOLD / 4 / spec.inner()));
            g.callStatic(Steps.class, "parallelRows", RowLoop.class, long.class, long.class);
        } else {
            g.pushLong(0);
            g.pushLong(spec.rows());
            g.callOwn(name, LoopGen.DESCRIPTOR);
        }
        String line = what + " -> generated loop " + name + " [" + (VectorSupport.lanes() > 0 && spec.vectorizable() ? "vector x" + VectorSupport.lanes() : "scalar") + "] " + spec.describe();
        listing.add(line);
        kernels.add(line.substring(line.indexOf("-> ") + 3));
    }

    /** {@link #pushRowLoop} for an optional epilogue: null when {@code name} is. */
    void pushRowLoopOrNull(String name) {
        if (name != null) pushRowLoop(name);
        else g.mv.visitInsn(ACONST_NULL);
    }

    /** {@link #pushSegment(TensorRef)} for an optional operand (a bias, a residual): null when {@code r} is. */
    void pushSegmentOrNull(TensorRef r) {
        if (r != null) pushSegment(r);
        else g.mv.visitInsn(ACONST_NULL);
    }

    /** Pushes loop method {@code name} as a {@link RowLoop} object (made once, when the program is defined). */
    void pushRowLoop(String name) {
        int index = loopObjects.indexOf(name);   // one object per loop method, however many calls pass it
        if (index < 0) {
            index = loopObjects.size();
            loopObjects.add(name);
        }
        g.constant(rowLoops, RowLoop[].class);
        g.pushInt(index);
        g.mv.visitInsn(AALOAD);
    }

    /**
     * Whether {@code v} holds the same data in every run: a weight or a constant (not an input or arena slot), or a
     * view of one that costs no code (a slice of a packed in-projection weight, say), so it can be packed once.
     */
    boolean isConstant(Value v) {
        if (graph.weights().containsValue(v)) return true;
        Op def = v.definingOp();
        if (def == null) return false;
        if (def.name().equals("constant")) return true;
        boolean view = switch (def.name()) {
            case "slice", "permute", "reshape", "flatten", "expand", "squeeze", "unsqueeze" -> true;
            default -> false;
        };
        TensorRef r = refs.get(v);
        return view && r != null && !r.isBound() && r.fixed() != null && isConstant(def.operand(0));
    }

    /** Emits the loop method for {@code spec} (while the run method is being written) and returns its name. */
    String loopMethod(LoopSpec spec) {
        var saved = g.mv;
        var savedState = g.saveLocals();
        String name = loops.emit(g, spec, (gen, ref) -> loadSegment(ref));
        g.mv = saved;
        g.restoreLocals(savedState);
        return name;
    }

    // ---------------------------------------------------------------- direct kernels (used by DirectOps)

    Gen gen() { return g; }

    TensorRef ref(Value v) { return tensorRef(v); }

    void bind(Value v, TensorRef r) { refs.put(v, r); }

    NDArray slotOf(Value v) { return slot(v); }

    void pushSegment(TensorRef r) { loadSegment(r); }

    /** Pushes a segment of {@code bytes} bytes of {@code r}'s storage, from {@code offsetBytes} past its first element. */
    void pushSegment(TensorRef r, long offsetBytes, long bytes) {
        if (!r.isBound()) {
            g.segment(r.fixed().segment().asSlice(r.fixed().offset() * r.dtype().byteSize() + offsetBytes, bytes));
            return;
        }
        g.constant(boundSegments, MemorySegment[].class);
        g.pushInt(r.bound());
        g.mv.visitInsn(AALOAD);
        long start = r.offset() * r.dtype().byteSize() + offsetBytes;
        if (start != 0 || bytes != boundBytes[r.bound()]) {
            g.pushLong(start);
            g.pushLong(bytes);
            g.callStatic(Steps.class, "slice", MemorySegment.class, long.class, long.class);
        }
    }

    /** Scratch space for im2col of at least {@code bytes}, shared by all convolutions (they run one at a time). */
    MemorySegment colScratch(long bytes) {
        if (colScratch == null || colScratch.byteSize() < bytes) colScratch = Arena.ofAuto().allocate(Math.max(1, bytes), 64);
        return colScratch;
    }

    long maxUnrolledCalls() { return MAX_UNROLLED_CALLS; }

    /**
     * The op that runs right after {@code op} and is the only user of its (single) result, reading it as operand 0,
     * or null: a candidate to be computed together with {@code op}.
     */
    Op soleNextUser(Op op) {
        if (op.results().size() != 1 || op.result().uses().size() != 1) return null;
        Value.Use use = op.result().uses().get(0);
        List<Op> ops = graph.body().ops();
        int at = ops.indexOf(op);
        return use.index() == 0 && at >= 0 && at + 1 < ops.size() && ops.get(at + 1) == use.user() ? use.user() : null;
    }

    /** Results already written by the op before theirs (a convolution with its pool), with what wrote them. */
    private final Map<Value, String> writtenEarly = new IdentityHashMap<>();

    /** Records that {@code v} lives at {@code r} and was written by {@code by}; its own op then emits no code. */
    void writtenEarly(Value v, TensorRef r, String by) {
        refs.put(v, r);
        writtenEarly.put(v, by);
    }

    /** What wrote {@code v} before its own op ran, or null. */
    String writtenEarlyBy(Value v) { return writtenEarly.get(v); }

    void direct(String line) {
        listing.add(line);
        kernels.add(line.substring(line.indexOf("-> ") + 3));
    }

    // ---------------------------------------------------------------- control flow and host scalars

    /**
     * A top-level op that computes host scalars or has regions: generated control flow over JVM locals whose tensor
     * ops call reference kernels, inside a memory scope; its tensor results are copied into their slots.
     */
    private void topLevelDynamic(Op op) {
        boolean tensors = op.results().stream().anyMatch(r -> r.type() instanceof TensorType);
        if (!tensors) {
            dynamicOp(op);
            listing.add(op.results() + " = " + op.name() + " (generated scalar code)");
            return;
        }
        int scope = g.local(Object.class);
        g.callStatic(dev.kiln.runtime.MemoryScope.class, "open");
        g.mv.visitVarInsn(ASTORE, scope);
        Label start = new Label(), end = new Label(), handler = new Label(), done = new Label();
        g.mv.visitTryCatchBlock(start, end, handler, null);
        g.mv.visitLabel(start);
        dynamicOp(op);
        for (Value r : op.results()) {
            if (!(r.type() instanceof TensorType)) continue;
            NDArray s = slot(r);
            g.mv.visitVarInsn(ALOAD, locals.get(r));
            g.constant(s, NDArray.class);
            g.callStatic(Steps.class, "settle", Object.class, NDArray.class);
            refs.put(r, TensorRef.of(s));
            locals.remove(r);
        }
        g.mv.visitLabel(end);
        g.mv.visitVarInsn(ALOAD, scope);
        g.callVirtual(dev.kiln.runtime.MemoryScope.class, "close");
        g.mv.visitJumpInsn(GOTO, done);
        g.mv.visitLabel(handler);
        int thrown = g.local(Object.class);
        g.mv.visitVarInsn(ASTORE, thrown);
        g.mv.visitVarInsn(ALOAD, scope);
        g.callVirtual(dev.kiln.runtime.MemoryScope.class, "close");
        g.mv.visitVarInsn(ALOAD, thrown);
        g.mv.visitInsn(ATHROW);
        g.mv.visitLabel(done);
        String what = op.name() + " -> generated control flow, reference kernels inside";
        listing.add(op.results() + " = " + what);
        kernels.add(what);
    }

    /** Pushes the value of {@code v} as an Object (a local, or a top-level tensor's array). */
    private void pushDynamic(Value v) {
        Integer local = locals.get(v);
        if (local != null) {
            g.mv.visitVarInsn(ALOAD, local);
            return;
        }
        loadArray(tensorRef(v));
    }

    private void store(Value v) {
        int local = g.local(Object.class);
        g.mv.visitVarInsn(ASTORE, local);
        locals.put(v, local);
    }

    private void pushOperandArray(Op op) {
        g.pushInt(op.operandCount());
        g.mv.visitTypeInsn(ANEWARRAY, "java/lang/Object");
        for (int i = 0; i < op.operandCount(); i++) {
            g.mv.visitInsn(DUP);
            g.pushInt(i);
            pushDynamic(op.operand(i));
            g.mv.visitInsn(AASTORE);
        }
    }

    /** Emits {@code op} over JVM locals (results stored in new locals). */
    private void dynamicOp(Op op) {
        switch (op.name()) {
            case "constant" -> {
                Attribute value = op.attr("value");
                Object c = switch (value) {
                    case Attribute.Tensor t -> Interpreter.fromBytes(t.type(), t.data());
                    case Attribute.Int i -> i.value();
                    case Attribute.Float f -> f.value();
                    case Attribute.Bool b -> b.value();
                    default -> throw new KilnException("constant: unsupported value " + value);
                };
                g.constant(c, Object.class);
                store(op.result());
            }
            case "item" -> {
                pushDynamic(op.operand(0));
                g.callStatic(Steps.class, "item", Object.class);
                store(op.result());
            }
            case "if" -> dynamicIf(op);
            case "loop" -> dynamicLoop(op);
            case "fused_elementwise" -> {
                Block body = op.region(0);
                for (int i = 0; i < op.operandCount(); i++) {
                    pushDynamic(op.operand(i));
                    store(body.argument(i));
                }
                List<Value> yielded = dynamicBlock(body);
                g.mv.visitVarInsn(ALOAD, locals.get(yielded.get(0)));
                store(op.result());
            }
            default -> {
                if (ScalarOpsEval.handles(op.name())) {
                    g.constant(op, Op.class);
                    pushOperandArray(op);
                    g.callStatic(Steps.class, "scalar", Op.class, Object[].class);
                    store(op.result());
                    return;
                }
                Steps.KernelCall call = new Steps.KernelCall(op, OpKernels.get(op.name()), new OpAttributes(op.schema(), resolvedAttributes(op)));
                g.constant(call, Steps.KernelCall.class);
                pushOperandArray(op);
                g.callStatic(Steps.class, "kernel", Steps.KernelCall.class, Object[].class);
                if (op.results().size() == 1) {
                    store(op.result());
                } else {
                    int all = g.local(Object.class);
                    g.mv.visitVarInsn(ASTORE, all);
                    for (int i = 0; i < op.results().size(); i++) {
                        g.mv.visitVarInsn(ALOAD, all);
                        g.pushInt(i);
                        g.callStatic(Steps.class, "result", Object.class, int.class);
                        store(op.results().get(i));
                    }
                }
            }
        }
    }

    /** Emits a block's ops (arguments already in locals); returns the values its terminator yields. */
    private List<Value> dynamicBlock(Block block) {
        for (Op op : block.ops()) {
            if (op.name().equals("yield") || op.name().equals("return")) return op.operands();
            dynamicOp(op);
        }
        throw new IllegalStateException("block in graph " + graph.name() + " has no terminator");
    }

    private void dynamicIf(Op op) {
        int[] results = new int[op.results().size()];
        for (int i = 0; i < results.length; i++) {
            results[i] = g.local(Object.class);
            g.mv.visitInsn(ACONST_NULL);
            g.mv.visitVarInsn(ASTORE, results[i]);
        }
        pushDynamic(op.operand(0));
        g.callStatic(Steps.class, "truth", Object.class);
        Label otherwise = new Label(), join = new Label();
        g.mv.visitJumpInsn(IFEQ, otherwise);
        yieldInto(dynamicBlock(op.region(0)), results);
        g.mv.visitJumpInsn(GOTO, join);
        g.mv.visitLabel(otherwise);
        yieldInto(dynamicBlock(op.region(1)), results);
        g.mv.visitLabel(join);
        for (int i = 0; i < results.length; i++) locals.put(op.results().get(i), results[i]);
    }

    private void yieldInto(List<Value> yielded, int[] targets) {
        for (int i = 0; i < targets.length; i++) pushDynamic(yielded.get(i));
        for (int i = targets.length - 1; i >= 0; i--) g.mv.visitVarInsn(ASTORE, targets[i]);
    }

    private void dynamicLoop(Op op) {
        int trip = g.local(long.class), index = g.local(long.class), cond = g.local(int.class);
        pushDynamic(op.operand(0));
        g.callStatic(Steps.class, "longValue", Object.class);
        g.mv.visitVarInsn(LSTORE, trip);
        pushDynamic(op.operand(1));
        g.callStatic(Steps.class, "truth", Object.class);
        g.mv.visitVarInsn(ISTORE, cond);
        int carriedCount = op.operandCount() - 2;
        int[] carried = new int[carriedCount];
        for (int k = 0; k < carriedCount; k++) {
            carried[k] = g.local(Object.class);
            pushDynamic(op.operand(k + 2));
            g.mv.visitVarInsn(ASTORE, carried[k]);
        }
        g.pushLong(0);
        g.mv.visitVarInsn(LSTORE, index);
        Label test = new Label(), end = new Label();
        g.mv.visitLabel(test);
        g.mv.visitVarInsn(ILOAD, cond);
        g.mv.visitJumpInsn(IFEQ, end);
        g.mv.visitVarInsn(LLOAD, index);
        g.mv.visitVarInsn(LLOAD, trip);
        g.mv.visitInsn(LCMP);
        g.mv.visitJumpInsn(IFGE, end);
        Block body = op.region(0);
        g.mv.visitVarInsn(LLOAD, index);
        g.callStatic(Steps.class, "boxLong", long.class);
        store(body.argument(0));
        for (int k = 0; k < carriedCount; k++) {
            g.mv.visitVarInsn(ALOAD, carried[k]);
            store(body.argument(k + 1));
        }
        List<Value> yielded = dynamicBlock(body);
        pushDynamic(yielded.get(0));
        g.callStatic(Steps.class, "truth", Object.class);
        g.mv.visitVarInsn(ISTORE, cond);
        for (int k = 0; k < carriedCount; k++) pushDynamic(yielded.get(k + 1));
        for (int k = carriedCount - 1; k >= 0; k--) g.mv.visitVarInsn(ASTORE, carried[k]);
        g.mv.visitVarInsn(LLOAD, index);
        g.mv.visitInsn(LCONST_1);
        g.mv.visitInsn(LADD);
        g.mv.visitVarInsn(LSTORE, index);
        g.mv.visitJumpInsn(GOTO, test);
        g.mv.visitLabel(end);
        for (int k = 0; k < carriedCount; k++) locals.put(op.results().get(k), carried[k]);
    }
}
