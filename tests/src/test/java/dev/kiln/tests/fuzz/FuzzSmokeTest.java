package dev.kiln.tests.fuzz;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The default build's fuzz pass: a fixed seed, a few hundred to a thousand cases per format through the same
 * driver as the {@code fuzz} profile. Every case must end as OK or a Kiln error: a raw exception, a hang or an
 * out-of-memory error fails the test, listing each bug with the seed and case index that reproduce it (bad
 * cases are also written to {@code target/fuzz-smoke-findings}).
 */
class FuzzSmokeTest {

    static final long SEED = 20261207;

    @Test
    void onnx() { smoke("onnx", 2500); }

    @Test
    void netdef() { smoke("netdef", 1500); }

    @Test
    void safetensors() { smoke("safetensors", 3000); }

    private static void smoke(String format, int cases) {
        FuzzTarget target = FuzzTargets.of(format);
        FuzzDriver.Report report = FuzzDriver.run(target, cases, SEED, Duration.ofSeconds(20), Path.of("target/fuzz-smoke-findings"), 3);
        System.out.println(FuzzDriver.Report.header() + "\n" + report.row());
        List<String> lines = new ArrayList<>();
        for (FuzzDriver.BadCase b : report.bad()) lines.add("case " + b.index() + ": " + b.signature());
        assertEquals(0, report.badCount(), format + ": " + report.badCount() + " bad cases from seed " + SEED + "\n" + report.bugs()
                + "\nfirst cases:\n  " + String.join("\n  ", lines.subList(0, Math.min(20, lines.size()))));
        assertTrue(report.cases() >= Math.min(cases, 200), format + ": only " + report.cases() + " cases ran (" + report.stoppedEarly() + ")");
    }
}
