package dev.kiln.onnx;

import dev.kiln.ir.Value;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The one table from ONNX op type (default domain) to the converter that builds it from Kiln
 * registry ops. Converters read opset-dependent forms themselves ({@link ImportNode#opset}).
 */
final class ImportConverters {

    /** Builds Kiln ops for one node and returns one value per ONNX output (null for outputs it cannot produce). */
    @FunctionalInterface
    interface Converter {
        List<Value> convert(ImportNode n, ImportScope scope);
    }

    private static final Map<String, Converter> TABLE = new HashMap<>();

    static {
        ImportMath.register(TABLE);
        ImportShape.register(TABLE);
        ImportNn.register(TABLE);
        ImportControl.register(TABLE);
    }

    private ImportConverters() {}

    static boolean supports(String opType) { return TABLE.containsKey(opType); }

    static Converter get(String opType) {
        Converter c = TABLE.get(opType);
        if (c == null) throw new ImportUnsupportedException("op " + opType + " is not supported");
        return c;
    }

    /** The supported op types, sorted. */
    static Set<String> supported() { return new TreeSet<>(TABLE.keySet()); }

    /** A converter with a single output. */
    static Converter one(java.util.function.Function<ImportNode, Value> f) {
        return (n, scope) -> List.of(f.apply(n));
    }
}
