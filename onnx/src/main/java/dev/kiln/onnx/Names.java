package dev.kiln.onnx;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Hands out the value names of one model. ONNX needs every value name unique across the main graph
 * and all its subgraphs; names come from hints (made identifier-safe) with a numeric suffix on
 * clashes, so the same graph always exports with the same names. The NetDef exporter uses it for blob
 * names too.
 */
public final class Names {

    private static final Pattern UNSAFE = Pattern.compile("[^A-Za-z0-9_.]");

    private final Set<String> taken = new HashSet<>();
    private final Map<String, Integer> nextSuffix = new HashMap<>();
    private int nextAnonymous;

    /** Claims an exact name (user-chosen input/output names, weight names); false if it is already taken. */
    public boolean claim(String name) { return taken.add(name); }

    /** A fresh name derived from {@code hint}, or {@code v<N>} when there is no usable hint. */
    public String fresh(String hint) {
        String base = hint == null ? "" : UNSAFE.matcher(hint).replaceAll("_");
        if (base.isEmpty()) {
            String n;
            do { n = "v" + nextAnonymous++; } while (!taken.add(n));
            return n;
        }
        if (Character.isDigit(base.charAt(0))) base = "v" + base;
        if (taken.add(base)) return base;
        int k = nextSuffix.getOrDefault(base, 1);
        String n;
        do { n = base + "_" + k++; } while (!taken.add(n));
        nextSuffix.put(base, k);
        return n;
    }
}
