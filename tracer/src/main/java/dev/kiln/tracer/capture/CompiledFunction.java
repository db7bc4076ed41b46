package dev.kiln.tracer.capture;

import dev.kiln.ir.Graph;
import dev.kiln.runtime.NDArray;
import dev.kiln.tracer.GraphFunction;

import java.util.List;
import java.util.Map;

/**
 * A captured {@code @Compile} method: its IR graph (control flow included), the weights it reads,
 * and the guards on the fields the capture read as constants. A graph whose guards no longer hold
 * means something else; {@link dev.kiln.tracer.Kiln#compile} recompiles it then.
 */
public final class CompiledFunction extends GraphFunction {

    private final List<FieldGuard> guards;

    CompiledFunction(Graph graph, Map<String, NDArray> weights, List<FieldGuard> guards, String entryPoint) {
        super(graph, weights, entryPoint);
        this.guards = List.copyOf(guards);
    }

    /** One guard per field read during capture, in first-read order. */
    public List<FieldGuard> guards() { return guards; }

    /** The first guard that no longer holds, described, or null when all hold. */
    public String failedGuard() {
        for (FieldGuard g : guards) if (!g.holds()) return g.describe();
        return null;
    }

    @Override
    protected String mismatchAdvice() { return "capture it again for these inputs"; }
}
