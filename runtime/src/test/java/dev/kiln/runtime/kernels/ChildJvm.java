package dev.kiln.runtime.kernels;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs a main class in a fresh JVM with the test class path, for behaviour that depends on JVM flags. */
final class ChildJvm {
    private ChildJvm() {}

    /** Exit code and combined output of {@code main} run with {@code jvmArgs}. */
    record Result(int exitCode, String output) {}

    static Result run(Class<?> main, String... jvmArgs) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of(jvmArgs));
        command.add("-cp");
        command.add(System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
        command.add(main.getName());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "child JVM timed out");
        return new Result(process.exitValue(), output);
    }
}
