package dev.kiln.codegen;

/**
 * Whether generated loops use the Vector API, decided once per JVM by the runtime's {@code VectorApi} (the module
 * present, {@code kiln.vector} not {@code false}); the species is then the machine's
 * preferred float species, chosen at run time. Otherwise loops are scalar and {@link VecOps} is never loaded.
 */
final class VectorSupport {
    private VectorSupport() {}

    private static final class Holder {
        static final Object SPECIES = select();
    }

    private static Object select() {
        if (!dev.kiln.runtime.kernels.VectorApi.enabled()) return null;
        try {
            return VecOps.species();
        } catch (LinkageError e) {
            return null;
        }
    }

    /** The {@code VectorSpecies<Float>} of generated loops, or null when they are scalar. */
    static Object species() { return Holder.SPECIES; }

    /** Whether generated code may call the Vector API ({@link VecOps}, {@link VecKernels}). */
    static boolean available() { return Holder.SPECIES != null; }

    /** Floats per vector, or 0 when generated loops are scalar. */
    static int lanes() {
        Object s = Holder.SPECIES;
        return s == null ? 0 : ((jdk.incubator.vector.VectorSpecies<?>) s).length();
    }
}
