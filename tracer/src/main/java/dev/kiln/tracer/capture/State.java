package dev.kiln.tracer.capture;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The abstract machine state of one method: local slots and the operand stack. */
final class State {

    /** An unset local slot, or the second slot of a long or double. */
    static final Object TOP = new Object() {
        @Override public String toString() { return "<unset>"; }
    };

    final Object[] locals;
    final List<Object> stack;

    State(int maxLocals) {
        this.locals = new Object[maxLocals];
        Arrays.fill(locals, TOP);
        this.stack = new ArrayList<>();
    }

    private State(Object[] locals, List<Object> stack) {
        this.locals = locals;
        this.stack = stack;
    }

    State copy() { return new State(locals.clone(), new ArrayList<>(stack)); }

    void push(Object v) { stack.add(v); }

    Object pop() { return stack.remove(stack.size() - 1); }

    Object peek() { return stack.get(stack.size() - 1); }

    /** Whether {@code v} takes two JVM slots (a long or a double, concrete or symbolic). */
    static boolean isWide(Object v) { return v instanceof Long || v instanceof Double || v instanceof SymScalar
            || v instanceof HostScalar h && h.jvm() != 'I'; }

    /** Replaces every occurrence of {@code from} (by identity), in locals and on the stack. */
    void replace(Object from, Object to) {
        for (int i = 0; i < locals.length; i++) if (locals[i] == from) locals[i] = to;
        for (int i = 0; i < stack.size(); i++) if (stack.get(i) == from) stack.set(i, to);
    }
}
