package dev.kiln.runtime.kernels;

/**
 * Whether kernels may use the Vector API, decided once per JVM: {@code jdk.incubator.vector} must be in the boot
 * layer and system property {@code kiln.vector} not {@code false}. Vector implementations are only ever loaded by
 * name through {@link #instanceOr}, so nothing fails to link when the module is absent.
 */
public final class VectorApi {
    private static final boolean ENABLED = Boolean.parseBoolean(System.getProperty("kiln.vector", "true"))
            && ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();

    private VectorApi() {}

    /** Whether the Vector API may be used. */
    public static boolean enabled() { return ENABLED; }

    /** A new instance of vector implementation {@code className} when enabled and loadable, else {@code plain}. */
    static <T> T instanceOr(Class<T> type, String className, T plain) {
        if (!ENABLED) return plain;
        try {
            return type.cast(Class.forName(className).getDeclaredConstructor().newInstance());
        } catch (ReflectiveOperationException | LinkageError e) {
            return plain;
        }
    }
}
