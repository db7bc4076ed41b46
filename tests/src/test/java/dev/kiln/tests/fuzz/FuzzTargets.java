package dev.kiln.tests.fuzz;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** The fuzz targets by name, and where the tests find the shared data and save regression files. */
final class FuzzTargets {

    static final List<String> NAMES = List.of("onnx", "netdef", "safetensors");

    private FuzzTargets() {}

    /** The target for {@code name}; ONNX seeds include the backend tests when the shared folder has them. */
    static FuzzTarget of(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "onnx" -> new OnnxFuzzTarget(shared().resolve("onnx/backend-tests"));
            case "netdef" -> new NetDefFuzzTarget();
            case "safetensors" -> new SafeTensorsFuzzTarget();
            default -> throw new IllegalArgumentException("unknown fuzz format '" + name + "'; known: " + NAMES);
        };
    }

    static Path shared() { return Path.of(System.getProperty("kiln.shared", "../shared")); }

    /** The saved bad cases, one folder per format (test resources, replayed by {@link FuzzRegressionTest}). */
    static Path regressionDir() {
        return Path.of(System.getProperty("kiln.fuzz.regressions", "src/test/resources/fuzz-regressions"));
    }
}
