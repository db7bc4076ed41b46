package dev.kiln.ir.testing;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Locates files in the project's {@code ../shared} folder (passed to tests as the {@code kiln.shared}
 * system property). A missing file fails the test when {@code CI=true}, and skips it with a message
 * saying what is missing otherwise.
 */
public final class SharedData {

    private SharedData() {}

    /** The path of {@code relative} inside shared/, which exists when this returns. */
    public static Path require(String relative) {
        String root = System.getProperty("kiln.shared", "../shared");
        Path p = Path.of(root, relative);
        if (!Files.exists(p)) {
            String message = "shared/" + relative + " is missing (looked for " + p.toAbsolutePath().normalize() + ")";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) fail(message);
            Assumptions.abort(message + "; test skipped");
        }
        return p;
    }
}
