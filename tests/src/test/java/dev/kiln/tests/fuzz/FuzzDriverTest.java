package dev.kiln.tests.fuzz;

import dev.kiln.onnx.OnnxImportException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The driver itself: each outcome is told apart (hangs and OOM included), cases are reproducible, bad ones saved. */
class FuzzDriverTest {

    /** A target whose case's first byte says what to do. */
    static final class Scripted implements FuzzTarget {
        @Override public String name() { return "scripted"; }

        @Override public String extension() { return "bin"; }

        @Override public List<byte[]> seeds() { return List.of(new byte[] {0}, new byte[] {1}, new byte[] {2}, new byte[] {3}, new byte[] {4}); }

        @Override
        public byte[] mutate(byte[] seed, byte[] other, SplittableRandom r) {
            return new byte[] {seed[0], (byte) r.nextInt(256)};
        }

        @Override
        public void execute(byte[] input, Path work) {
            switch (input[0]) {
                case 0 -> { }
                case 1 -> throw new OnnxImportException("a clear Kiln error");
                case 2 -> throw new NullPointerException("a raw JDK exception");
                case 3 -> throw new OutOfMemoryError("Java heap space (simulated)");
                default -> {
                    long x = 0;
                    while (!Thread.currentThread().isInterrupted()) x += System.nanoTime() & 1;     // spins until abandoned
                    if (x == 42) throw new AssertionError();
                }
            }
        }
    }

    @TempDir Path dir;

    @Test
    void everyOutcomeIsToldApartAndBadCasesAreSaved() throws IOException {
        FuzzDriver.Report r = FuzzDriver.run(new Scripted(), 40, 7, Duration.ofMinutes(1), dir, 2, Duration.ofMillis(200));
        long hangs = r.counts().get(Outcome.HANG);
        assertTrue(hangs >= 1, r.counts().toString());
        assertTrue(r.counts().get(Outcome.OK) > 0 && r.counts().get(Outcome.KILN_ERROR) > 0 && r.counts().get(Outcome.OTHER_EXCEPTION) > 0
                && r.counts().get(Outcome.OOM) > 0, r.counts().toString());
        assertEquals(r.counts().get(Outcome.OTHER_EXCEPTION) + hangs + r.counts().get(Outcome.OOM), r.badCount());
        assertEquals(r.badCount(), r.bad().size());
        assertTrue(r.signatures().keySet().stream().anyMatch(s -> s.startsWith("java.lang.NullPointerException at FuzzDriverTest$Scripted.execute:")),
                r.signatures().toString());
        assertTrue(r.signatures().keySet().stream().anyMatch(s -> s.startsWith("hang at ")), r.signatures().toString());
        // at most two saved per bug, each with its description
        try (Stream<Path> files = Files.list(dir.resolve("scripted"))) {
            List<Path> saved = files.filter(f -> f.toString().endsWith(".bin")).toList();
            assertEquals(r.signatures().values().stream().mapToLong(n -> Math.min(n, 2)).sum(), saved.size());
            for (Path f : saved) {
                String text = Files.readString(Path.of(f.toString().replace(".bin", ".txt")));
                assertTrue(text.startsWith("format scripted, seed 7, case "), text);
                byte[] bytes = Files.readAllBytes(f);
                if (bytes[0] != 4) assertTrue(FuzzDriver.replay(new Scripted(), bytes).outcome().isBad(), "a saved case fails again when replayed");
            }
        }
    }

    @Test
    void aCaseIsAPureFunctionOfFormatSeedAndIndex() {
        Scripted t = new Scripted();
        for (long i = 0; i < 50; i++) assertArrayEquals(FuzzDriver.caseInput(t, t.seeds(), 3, i), FuzzDriver.caseInput(t, t.seeds(), 3, i));
        assertFalse(Arrays.equals(FuzzDriver.caseInput(t, t.seeds(), 3, 0), FuzzDriver.caseInput(t, t.seeds(), 4, 0))
                && Arrays.equals(FuzzDriver.caseInput(t, t.seeds(), 3, 1), FuzzDriver.caseInput(t, t.seeds(), 4, 1)));
    }

    @Test
    void onlyKilnExceptionsAreKilnErrors() {
        assertEquals(Outcome.KILN_ERROR, Outcome.of(new OnnxImportException("x")));
        assertEquals(Outcome.KILN_ERROR, Outcome.of(new dev.kiln.runtime.io.WriteTargetException(
                dev.kiln.runtime.io.WriteTargetException.Reason.TARGET_IS_LINK, "x")));
        assertEquals(Outcome.OTHER_EXCEPTION, Outcome.of(new IllegalArgumentException("a plain one")));
        assertEquals(Outcome.OTHER_EXCEPTION, Outcome.of(new StackOverflowError()));
        assertEquals(Outcome.OOM, Outcome.of(new OutOfMemoryError()));
    }
}
