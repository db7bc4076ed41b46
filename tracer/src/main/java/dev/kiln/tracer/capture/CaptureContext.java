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
    final List<CompiledFunction.FieldRead> fieldReads = new ArrayList<>();
    private final Deque<Frame> frames = new ArrayDeque<>();
    private final Deque<Set<Object>> regionObjects = new ArrayDeque<>();
    private final Graph scratch = new Graph("scratch");

    CaptureContext(Graph graph, Map<String, ? extends Tensor> parameters) {
        this.graph = graph;
        this.recorder = new CaptureRecorder(graph, parameters, this::where);
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

    /** A new example tensor of {@code type}, bound to {@code value} in the current scope. */
    Tensor exampleFor(Value value) {
        TensorType type = value.tensorType();
        Tensor t = Tensor.zeros(type.dtype(), type.shape().toArray());
        recorder.bind(t, value);
        return t;
    }
}
