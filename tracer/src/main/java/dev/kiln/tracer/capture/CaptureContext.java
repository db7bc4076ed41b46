package dev.kiln.tracer.capture;

import dev.kiln.frontend.Tensor;
import dev.kiln.ir.Block;
import dev.kiln.ir.Builder;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Op;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;
import org.objectweb.asm.tree.ClassNode;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Shared state of one capture: the graph and its recorder, the stack of inlined frames (for error
 * locations and the recursion limit), the regions being filled, and the fields read.
 */
final class CaptureContext {

    static final int MAX_DEPTH = 32;
    static final int MAX_ITERATIONS = 10_000;

    final Graph graph;
    final CaptureRecorder recorder;
    final Map<Class<?>, ClassNode> classes = new HashMap<>();
    /** IR types of the tensors the scratch run of a region left behind (see Regions). */
    final Map<Tensor, dev.kiln.ir.Type> irTypes = new IdentityHashMap<>();
    /** One guard per (object, field) read, in first-read order. */
    final Map<List<Object>, FieldGuard> guards = new java.util.LinkedHashMap<>();
    private final Deque<Frame> frames = new ArrayDeque<>();
    private final Deque<Set<Object>> regionObjects = new ArrayDeque<>();
    private final Graph scratch = new Graph("scratch");

    CaptureContext(Graph graph, Map<String, ? extends Tensor> parameters) {
        this.graph = graph;
        this.recorder = new CaptureRecorder(graph, parameters, this::where);
    }

    void guard(FieldGuard g) {
        guards.putIfAbsent(List.of(new Identity(g.target()), g.field()), g);
    }

    /** Identity key for a field's target object (null for static fields). */
    private record Identity(Object target) {
        @Override public boolean equals(Object o) { return o instanceof Identity i && i.target == target; }
        @Override public int hashCode() { return System.identityHashCode(target); }
    }

    /** Where the capture is: the innermost frame's {@code Class.method (File:line)}, then the frames that inlined it. */
    String where() {
        if (frames.isEmpty()) return "capture";
        List<String> all = frames.stream().map(Frame::where).toList();
        return all.size() == 1 ? all.get(0) : all.get(0) + " [inlined from " + String.join(", ", all.subList(1, all.size())) + "]";
    }

    CaptureException error(String what) { return new CaptureException(where() + ": " + what); }

    /** Runs {@code code} as an inlined call with the given receiver (null for static) and JVM-form arguments. */
    Object inline(MethodCode code, Object receiver, List<Object> args) {
        if (frames.size() >= MAX_DEPTH) {
            throw error("recursion too deep: more than " + MAX_DEPTH + " nested calls to inline ("
                    + code.owner.getSimpleName() + "." + code.node.name + ")");
        }
        Frame frame = new Frame(this, code);
        frames.push(frame);
        try {
            return frame.invoke(receiver, args);
        } finally {
            frames.pop();
        }
    }

    /** Starts filling a region; objects created from now on belong to it. */
    void enterRegion(Block block) {
        recorder.enter(block);
        regionObjects.push(Collections.newSetFromMap(new IdentityHashMap<>()));
    }

    void exitRegion() {
        recorder.exit();
        regionObjects.pop();
    }

    /** Notes an object (array, list) created by the captured code, so the current region may mutate it. */
    void created(Object o) {
        if (!regionObjects.isEmpty()) regionObjects.peek().add(o);
    }

    /** Rejects mutating an object made outside the current data-dependent region (only one arm would change it). */
    void checkMutable(Object o, String what) {
        if (!regionObjects.isEmpty() && !regionObjects.peek().contains(o)) {
            throw error(what + " on an object created outside a data-dependent branch or loop is not supported in @Compile methods");
        }
    }

    /** An {@code if} op outside the graph, whose regions take a dry run of both arms; discard it with {@link #discard}. */
    Op scratchIf(Value cond) { return Builder.atEnd(scratch.body()).ifOp(cond, List.of()); }

    void discard(Op scratchOp) { scratch.body().erase(scratchOp); }

    /** The example size every symbolic input dim has in this capture. */
    long symbolicSize = 2;

    /** A new example tensor of {@code type} (symbolic dims at the example size), bound to {@code value} in the current scope. */
    Tensor exampleFor(Value value) {
        TensorType type = value.tensorType();
        long[] shape = new long[type.rank()];
        for (int i = 0; i < shape.length; i++) {
            dev.kiln.ir.Dim d = type.shape().dims().get(i);
            if (d instanceof dev.kiln.ir.Dim.Unknown) throw error("a value of type " + type + " with an unknown dim crosses a data-dependent branch or loop");
            shape[i] = d.isStatic() ? d.size() : symbolicSize;
        }
        Tensor t = Tensor.zeros(type.dtype(), shape);
        recorder.bind(t, value);
        return t;
    }
}
