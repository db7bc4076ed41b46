package dev.kiln.tests.fuzz;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The {@code fuzz} profile's campaign (README, "Fuzzing"): {@code kiln.fuzz.cases} cases per format
 * ({@code kiln.fuzz.formats}, comma-separated) from {@code kiln.fuzz.seed}, each format stopping after
 * {@code kiln.fuzz.minutes}. Bad cases are saved as regression files under
 * {@code src/test/resources/fuzz-regressions/<format>/} (at most {@code kiln.fuzz.savePerBug} per distinct bug);
 * the table goes to the output and to {@code target/fuzz-report.md}. Fails if any case was bad.
 */
@EnabledIfSystemProperty(named = "kiln.fuzz.campaign", matches = "true")
class FuzzCampaignTest {

    @Test
    void campaign() throws IOException {
        long cases = Long.getLong("kiln.fuzz.cases", 100_000);
        long seed = Long.getLong("kiln.fuzz.seed", 1);
        Duration limit = Duration.ofMinutes(Long.getLong("kiln.fuzz.minutes", 60));
        int perBug = Integer.getInteger("kiln.fuzz.savePerBug", 5);
        List<String> formats = List.of(System.getProperty("kiln.fuzz.formats", String.join(",", FuzzTargets.NAMES)).split(","));
        StringBuilder report = new StringBuilder("Fuzz campaign, seed " + seed + ", up to " + cases + " cases per format\n\n"
                + FuzzDriver.Report.header() + "\n");
        StringBuilder bugs = new StringBuilder();
        long bad = 0;
        List<FuzzDriver.Report> reports = new ArrayList<>();
        for (String format : formats) {
            FuzzTarget target = FuzzTargets.of(format.trim());
            if (target instanceof OnnxFuzzTarget onnx && !onnx.unreadableInputs.isEmpty()) {
                bugs.append("\nbackend input files OnnxTensors.read failed on without a Kiln error:\n  ")
                        .append(String.join("\n  ", onnx.unreadableInputs)).append('\n');
            }
            FuzzDriver.Report r = FuzzDriver.run(target, cases, seed, limit, FuzzTargets.regressionDir(), perBug);
            reports.add(r);
            report.append(r.row()).append('\n');
            System.out.println(r.row() + (r.stoppedEarly() == null ? "" : " (stopped: " + r.stoppedEarly() + ")"));
            if (r.badCount() > 0) bugs.append("\n").append(r.format()).append(": ").append(r.badCount()).append(" bad cases\n").append(r.bugs()).append('\n');
            bad += r.badCount();
        }
        for (FuzzDriver.Report r : reports) {
            if (r.stoppedEarly() != null) report.append("\n").append(r.format()).append(" stopped early: ").append(r.stoppedEarly());
        }
        report.append(bugs);
        Files.createDirectories(Path.of("target"));
        Files.writeString(Path.of("target/fuzz-report.md"), report, StandardCharsets.UTF_8);
        System.out.println(report);
        assertEquals(0, bad, "bad fuzz cases (saved under " + FuzzTargets.regressionDir() + "):\n" + bugs);
    }
}
