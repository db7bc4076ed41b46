package dev.kiln.tracer.capture;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;

/**
 * A field read during capture whose value the compiled graph depends on: a configuration constant,
 * or the module/parameter object a call went to. It holds while the field still has that value
 * (equal for numbers, strings and booleans; the same object otherwise).
 */
public record FieldGuard(Object target, Field field, Object value) {

    /** Whether the field still has the captured value. */
    public boolean holds() {
        Object now = read();
        if (value == null || now == null) return value == now;
        boolean byValue = value instanceof Number || value instanceof String || value instanceof Boolean || value instanceof Character;
        return byValue ? value.equals(now) : value == now;
    }

    /** {@code Owner.field} with the captured and current values, for recompilation messages. */
    public String describe() {
        return field.getDeclaringClass().getSimpleName() + "." + field.getName() + " was " + show(value) + ", is " + show(read());
    }

    private Object read() {
        try {
            return field.get(Modifier.isStatic(field.getModifiers()) ? null : target);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot re-read " + field + " to check a guard", e);
        }
    }

    private static String show(Object v) {
        return v == null ? "null" : v instanceof Number || v instanceof String || v instanceof Boolean ? v.toString()
                : v.getClass().getSimpleName() + "@" + Integer.toHexString(System.identityHashCode(v));
    }
}
