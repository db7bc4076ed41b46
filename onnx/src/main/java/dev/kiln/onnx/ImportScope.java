package dev.kiln.onnx;

import dev.kiln.ir.Value;

import java.util.HashMap;
import java.util.Map;

/**
 * ONNX value names to Kiln values for one graph; a subgraph's scope sees its enclosing graphs'
 * names (ONNX outer-scope references) unless it shadows them.
 */
final class ImportScope {

    private final ImportScope parent;
    private final Map<String, Value> values = new HashMap<>();

    ImportScope(ImportScope parent) { this.parent = parent; }

    void put(String name, Value v) { values.put(name, v); }

    /** The value named {@code name} here or in an enclosing scope; null when none. */
    Value get(String name) {
        for (ImportScope s = this; s != null; s = s.parent) {
            Value v = s.values.get(name);
            if (v != null) return v;
        }
        return null;
    }
}
