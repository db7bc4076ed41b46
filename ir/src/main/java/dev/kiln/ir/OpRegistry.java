package dev.kiln.ir;

import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** Every op Kiln knows, each declared once; lookups by name. */
public final class OpRegistry {

    private static final Map<String, OpSchema> OPS = new java.util.concurrent.ConcurrentHashMap<>();

    static {
        Stream.of(ElementwiseOps.all(), ReductionOps.all(), NnOps.all(), ShapeOps.all(), StructureOps.all(), ScalarOps.all(), FusionOps.all())
                .flatMap(List::stream)
                .forEach(s -> {
                    if (OPS.putIfAbsent(s.name(), s) != null) throw new IllegalStateException("op declared twice: " + s.name());
                });
    }

    private OpRegistry() {}

    /** The schema of {@code name}; an unknown name is an {@link IrException} listing nothing but the name. */
    public static OpSchema get(String name) {
        OpSchema s = OPS.get(name);
        if (s == null) throw new IrException("unknown op '" + name + "'");
        return s;
    }

    /**
     * Registers a user-defined op (a custom op). Its name must not clash with a known op. Consumers
     * that have no rule for it (an exporter, the interpreter) reject it with an error naming it.
     */
    public static synchronized void register(OpSchema schema) {
        if (OPS.putIfAbsent(schema.name(), schema) != null) {
            throw new IrException("op '" + schema.name() + "' is already registered");
        }
    }

    public static boolean contains(String name) { return OPS.containsKey(name); }

    /** All schemas (built-in and registered). */
    public static Collection<OpSchema> all() { return Collections.unmodifiableCollection(OPS.values()); }
}
