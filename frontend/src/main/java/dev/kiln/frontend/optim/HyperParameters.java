package dev.kiln.frontend.optim;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** Checks and reads the hyper-parameter maps that optimizer states carry. */
final class HyperParameters {
    private HyperParameters() {}

    /** Fails unless {@code values} has exactly {@code expected}'s keys. */
    static void requireKeys(String optimizer, Map<String, Double> values, Set<String> expected) {
        if (!values.keySet().equals(expected)) {
            Set<String> missing = new TreeSet<>(expected), unexpected = new TreeSet<>(values.keySet());
            missing.removeAll(values.keySet());
            unexpected.removeAll(expected);
            throw new IllegalArgumentException(optimizer + ": hyper-parameters do not match: missing " + missing
                    + ", unexpected " + unexpected);
        }
    }

    static double get(Map<String, Double> values, String key) {
        Double v = values.get(key);
        if (v == null) throw new IllegalArgumentException("missing hyper-parameter '" + key + "'");
        return v;
    }

    /** A boolean hyper-parameter, stored as 0 or 1. */
    static boolean flag(Map<String, Double> values, String key) {
        double v = get(values, key);
        if (v != 0 && v != 1) throw new IllegalArgumentException("hyper-parameter '" + key + "' must be 0 or 1, got " + v);
        return v == 1;
    }

    static double flag(boolean b) { return b ? 1 : 0; }

    /** An insertion-ordered map from alternating keys and values. */
    static Map<String, Double> of(Object... kv) {
        Map<String, Double> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], ((Number) kv[i + 1]).doubleValue());
        return m;
    }

    /** Fails unless {@code value} is finite and at least {@code min}, naming the optimizer and parameter. */
    static double atLeast(String optimizer, String name, double value, double min) {
        if (!(value >= min) || Double.isInfinite(value)) {
            String bound = min == Math.rint(min) ? Long.toString((long) min) : Double.toString(min);
            throw new IllegalArgumentException(optimizer + ": " + name + " must be a finite number >= " + bound + ", got " + value);
        }
        return value;
    }

    /** Fails unless {@code value} is in {@code [0, 1)}. */
    static double unitInterval(String optimizer, String name, double value) {
        if (!(value >= 0 && value < 1)) {
            throw new IllegalArgumentException(optimizer + ": " + name + " must be in [0, 1), got " + value);
        }
        return value;
    }
}
