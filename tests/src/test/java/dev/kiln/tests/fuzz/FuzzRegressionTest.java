package dev.kiln.tests.fuzz;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * Replays every saved bad case under {@code src/test/resources/fuzz-regressions/<format>/} (written by the fuzz
 * campaign, each with a {@code .txt} saying what it did when found): each must now import and run, or fail with
 * a Kiln error, within the watchdog's limits.
 */
class FuzzRegressionTest {

    @TestFactory
    Stream<DynamicTest> savedCasesEndCleanly() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (String format : FuzzTargets.NAMES) {
            Path dir = FuzzTargets.regressionDir().resolve(format);
            if (!Files.isDirectory(dir)) continue;
            FuzzTarget[] target = {null};
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : files.sorted().toList()) {
                    if (f.getFileName().toString().endsWith(".txt")) continue;
                    tests.add(DynamicTest.dynamicTest(format + "/" + f.getFileName(), () -> {
                        if (target[0] == null) target[0] = FuzzTargets.of(format);
                        FuzzDriver.Result r = FuzzDriver.replay(target[0], Files.readAllBytes(f));
                        assertFalse(r.outcome().isBad(), () -> f + " still fails: " + r.describe());
                    }));
                }
            }
        }
        return tests.stream();
    }
}
