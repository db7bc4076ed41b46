package dev.kiln.runtime.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Zero-copy FFM binding to the CBLAS entry points of OpenBLAS. The library file comes from the JavaCPP
 * {@code org.bytedeco:openblas} preset (which extracts it and its Fortran runtime and loads them), or from the
 * path in system property {@code kiln.openblas.library}. Loading happens once, on first use; a failure is
 * remembered and reported as an {@link IllegalStateException} that says what is missing.
 */
final class OpenBlas {
    static final int ROW_MAJOR = 101;
    static final int NO_TRANS = 111;
    static final int TRANS = 112;

    /**
     * The bound entry points; blasint is 32-bit in the preset's build. {@code sgemmCritical} and
     * {@code dgemmCritical} are the same CBLAS functions bound with {@link Linker.Option#critical(boolean)
     * Linker.Option.critical(false)}: no Java-thread state transition around the call (cheaper for the short
     * calls of {@link DirectGemm}), which means native segments only, and no upcalls or long blocking inside.
     */
    record Binding(Path library, MethodHandle sgemm, MethodHandle dgemm, MethodHandle sgemmCritical,
                   MethodHandle dgemmCritical, MethodHandle setThreads, MethodHandle getThreads,
                   MethodHandle corename) {}

    /** Outcome of the one load attempt: a binding, or the error explaining why there is none. */
    private record Loaded(Binding binding, IllegalStateException failure) {}

    /** Loaded on first use; a static final record lets the JIT treat the method handles as constants. */
    private static final class Holder {
        static final Loaded LOADED = load();
    }

    private OpenBlas() {}

    /** The binding, loading the library on first call; throws the (remembered) load failure otherwise. */
    static Binding get() {
        Loaded loaded = Holder.LOADED;
        if (loaded.binding() != null) return loaded.binding();
        throw new IllegalStateException(loaded.failure().getMessage(), loaded.failure().getCause());
    }

    private static Loaded load() {
        try {
            Binding b = bind(locate());
            // Kiln's one intra-op pool (Parallel, sized by kiln.threads) does the parallel work: OpenBLAS threads would
            // stack on it and spin while the machine is busy with other work
            b.setThreads().invokeExact(1);
            return new Loaded(b, null);
        } catch (IllegalStateException e) {
            return new Loaded(null, e);
        } catch (Throwable e) {
            return new Loaded(null, new IllegalStateException("OpenBLAS could not be initialised: " + e, e));
        }
    }

    /** Finds the OpenBLAS shared library: the override property, else the one JavaCPP's preset loads. */
    private static Path locate() {
        String override = System.getProperty("kiln.openblas.library");
        if (override != null && !override.isBlank()) return Path.of(override);
        try {
            org.bytedeco.javacpp.Loader.load(org.bytedeco.openblas.global.openblas_nolapack.class);
        } catch (NoClassDefFoundError e) {
            throw new IllegalStateException("OpenBLAS is not on the class path: Kiln needs the JavaCPP preset "
                    + "org.bytedeco:openblas:0.3.28-1.5.11 (and org.bytedeco:javacpp) for GEMM (missing class "
                    + e.getMessage() + ")", e);
        } catch (UnsatisfiedLinkError e) {
            throw new IllegalStateException("OpenBLAS native library could not be loaded: add the native jar "
                    + "org.bytedeco:openblas:0.3.28-1.5.11 with the classifier for this platform ("
                    + org.bytedeco.javacpp.Loader.getPlatform() + ") to the class path, or point system property "
                    + "kiln.openblas.library at a libopenblas (" + e.getMessage() + ")", e);
        }
        for (Map.Entry<String, String> lib : org.bytedeco.javacpp.Loader.getLoadedLibraries().entrySet()) {
            if (lib.getKey().startsWith("openblas") && lib.getValue() != null) return Path.of(lib.getValue());
        }
        throw new IllegalStateException("JavaCPP loaded the OpenBLAS preset but reported no libopenblas file; "
                + "loaded libraries: " + org.bytedeco.javacpp.Loader.getLoadedLibraries().keySet());
    }

    /** Binds the CBLAS functions of the OpenBLAS library at {@code library}. */
    @SuppressWarnings("restricted")
    static Binding bind(Path library) {
        if (!Files.isRegularFile(library)) {
            throw new IllegalStateException("OpenBLAS library file not found: " + library);
        }
        SymbolLookup lookup;
        try {
            lookup = SymbolLookup.libraryLookup(library, Arena.global());
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("OpenBLAS library " + library + " could not be opened: "
                    + e.getMessage(), e);
        }
        Linker linker = Linker.nativeLinker();
        FunctionDescriptor sgemm = FunctionDescriptor.ofVoid(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_FLOAT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_FLOAT, ADDRESS, JAVA_INT);
        FunctionDescriptor dgemm = FunctionDescriptor.ofVoid(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_DOUBLE, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_DOUBLE, ADDRESS, JAVA_INT);
        MemorySegment sgemmSymbol = symbol(lookup, library, "cblas_sgemm");
        MemorySegment dgemmSymbol = symbol(lookup, library, "cblas_dgemm");
        Linker.Option critical = Linker.Option.critical(false);
        return new Binding(library,
                linker.downcallHandle(sgemmSymbol, sgemm),
                linker.downcallHandle(dgemmSymbol, dgemm),
                linker.downcallHandle(sgemmSymbol, sgemm, critical),
                linker.downcallHandle(dgemmSymbol, dgemm, critical),
                linker.downcallHandle(symbol(lookup, library, "openblas_set_num_threads"),
                        FunctionDescriptor.ofVoid(JAVA_INT)),
                linker.downcallHandle(symbol(lookup, library, "openblas_get_num_threads"),
                        FunctionDescriptor.of(JAVA_INT)),
                linker.downcallHandle(symbol(lookup, library, "openblas_get_corename"),
                        FunctionDescriptor.of(ADDRESS)));
    }

    private static MemorySegment symbol(SymbolLookup lookup, Path library, String name) {
        return lookup.find(name).orElseThrow(() -> new IllegalStateException(
                "OpenBLAS library " + library + " has no symbol " + name + "; is it really OpenBLAS?"));
    }
}
