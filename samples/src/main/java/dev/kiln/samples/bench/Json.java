package dev.kiln.samples.bench;

import java.util.Map;

/**
 * A small JSON writer for the benchmarks' machine-readable output: objects and arrays built in order,
 * strings escaped per RFC 8259, and numbers that are not finite written as {@code null} (JSON has no NaN
 * or infinity).
 */
public final class Json {

    private final StringBuilder sb = new StringBuilder();
    /** Whether the current container already has an element, one flag per nesting level. */
    private final java.util.ArrayDeque<boolean[]> levels = new java.util.ArrayDeque<>();

    public Json beginObject() { return open('{'); }

    public Json endObject() { return close('}'); }

    public Json beginArray() { return open('['); }

    public Json endArray() { return close(']'); }

    /** The key of the next object member. */
    public Json key(String name) {
        separator();
        sb.append(quote(name)).append(':');
        levels.peek()[0] = false; // the value that follows needs no comma
        return this;
    }

    public Json value(String s) {
        separator();
        sb.append(s == null ? "null" : quote(s));
        return this;
    }

    public Json value(long n) {
        separator();
        sb.append(n);
        return this;
    }

    public Json value(double d) {
        separator();
        sb.append(Double.isFinite(d) ? Double.toString(d) : "null");
        return this;
    }

    /** Null, e.g. for a number that was not measured. */
    public Json nullValue() {
        separator();
        sb.append("null");
        return this;
    }

    /** An object of integer members, in the map's order. */
    public Json value(Map<String, Long> members) {
        beginObject();
        members.forEach((k, v) -> key(k).value(v));
        return endObject();
    }

    @Override
    public String toString() {
        if (!levels.isEmpty()) throw new IllegalStateException("unclosed JSON object or array");
        return sb.toString();
    }

    private Json open(char c) {
        separator();
        sb.append(c);
        levels.push(new boolean[] {false});
        return this;
    }

    private Json close(char c) {
        if (levels.isEmpty()) throw new IllegalStateException("nothing to close");
        levels.pop();
        sb.append(c);
        if (!levels.isEmpty()) levels.peek()[0] = true;
        return this;
    }

    private void separator() {
        if (levels.isEmpty()) return;
        boolean[] level = levels.peek();
        if (level[0]) sb.append(',');
        level[0] = true;
    }

    /** {@code s} as a JSON string literal: quotes, backslashes and control characters escaped. */
    public static String quote(String s) {
        StringBuilder out = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20 || c == 0x2028 || c == 0x2029) out.append(String.format("\\u%04x", (int) c));
                    else out.append(c);
                }
            }
        }
        return out.append('"').toString();
    }
}
