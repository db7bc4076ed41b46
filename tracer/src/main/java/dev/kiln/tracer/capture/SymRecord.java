package dev.kiln.tracer.capture;

import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;

/**
 * A record instance built by the captured code ({@code new Pair(a, b)}), kept symbolic: its component
 * values in component order, which may be tensors or any other value capture handles. Its canonical
 * constructor is checked to do nothing but assign the fields, then not executed; field reads
 * ({@code getfield}, as in the accessors, which are inlined) return the components. Immutable, with
 * identity equality like the object it stands for.
 */
final class SymRecord {

    final Class<?> type;
    private final RecordComponent[] components;
    private final List<Object> values;
    /** Where the captured code made it ({@code Class.method (File:line)}), for error messages. */
    final String made;

    SymRecord(Class<?> type, List<Object> values, String made) {
        this.type = type;
        this.made = made;
        this.components = type.getRecordComponents();
        if (components.length != values.size()) throw new IllegalArgumentException(type + ": " + values.size() + " values");
        this.values = java.util.Collections.unmodifiableList(new ArrayList<>(values));   // components may be null
    }

    private SymRecord(Class<?> type, RecordComponent[] components, List<Object> values, String made) {
        this.type = type;
        this.made = made;
        this.components = components;
        this.values = values;
    }

    int size() { return components.length; }

    Object value(int i) { return values.get(i); }

    List<Object> values() { return values; }

    String componentName(int i) { return components[i].getName(); }

    Class<?> componentType(int i) { return components[i].getType(); }

    /** The index of the component whose field is {@code field}, or -1. */
    int indexOf(String field) {
        for (int i = 0; i < components.length; i++) if (components[i].getName().equals(field)) return i;
        return -1;
    }

    /** A copy with component {@code i} replaced. */
    SymRecord with(int i, Object v) {
        List<Object> copy = new ArrayList<>(values);
        copy.set(i, v);
        return new SymRecord(type, components, java.util.Collections.unmodifiableList(copy), made);
    }

    @Override
    public String toString() { return "record " + type.getSimpleName(); }
}
