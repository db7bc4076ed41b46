package dev.kiln.frontend.io;

import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.Linear;
import dev.kiln.frontend.optim.Adam;
import dev.kiln.frontend.optim.Optimizer;
import dev.kiln.runtime.io.WriteTargetException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The three safetensors writers (weights maps, {@code Module.saveWeights}, {@code Optimizer.save}) against planted
 * links at the target, at the temporary name and as the directory, and a hard-linked target.
 */
class SafeTensorsWriteSafetyTest {

    /** A writer under test: writes something to a file. */
    interface Writer {
        void write(Path file) throws IOException;
    }

    static Stream<Arguments> writers() {
        Linear layer = new Linear(3, 2);
        Optimizer adam = new Adam(layer.parameters(), 0.1);
        return Stream.of(
                Arguments.of("SafeTensors.save", (Writer) f -> SafeTensors.save(Map.of("w", Tensor.of(new float[] {1, 2})), f)),
                Arguments.of("Module.saveWeights", (Writer) layer::saveWeights),
                Arguments.of("Optimizer.save", (Writer) adam::save));
    }

    @TempDir Path root;
    private Path dir, outside, secret, file;

    @BeforeEach
    void setUp() throws IOException {
        dir = Files.createDirectory(root.resolve("out"));
        outside = Files.createDirectory(root.resolve("outside"));
        secret = Files.writeString(outside.resolve("secret.txt"), "secret");
        file = dir.resolve("w.safetensors");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("writers")
    void aLinkAtTheTargetIsRefused(String name, Writer writer) throws IOException {
        symlink(file, secret);
        WriteTargetException e = assertThrows(WriteTargetException.class, () -> writer.write(file));
        assertEquals(WriteTargetException.Reason.TARGET_IS_LINK, e.reason());
        assertEquals("the safetensors file " + file + " is a symbolic link; Kiln never writes through or replaces links, even with"
                + " overwrite allowed (remove the link first)", e.getMessage());
        assertEquals("secret", Files.readString(secret));
        assertEquals(Set.of("w.safetensors"), names(dir));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("writers")
    void aLinkAtTheTemporaryNameIsSkipped(String name, Writer writer) throws IOException {
        symlink(dir.resolve(".w.safetensors.kiln-tmp"), secret);
        writer.write(file);
        assertEquals("secret", Files.readString(secret));
        SafeTensors.load(file);     // a complete, valid file
        assertTrue(Files.size(file) > 8);
        assertEquals(Set.of(".w.safetensors.kiln-tmp", "w.safetensors"), names(dir));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("writers")
    void aDirectoryThatIsALinkIsRefused(String name, Writer writer) throws IOException {
        Path linked = symlink(root.resolve("linked"), outside);
        WriteTargetException e = assertThrows(WriteTargetException.class, () -> writer.write(linked.resolve("w.safetensors")));
        assertEquals(WriteTargetException.Reason.DIRECTORY_IS_LINK, e.reason());
        assertEquals(Set.of("secret.txt"), names(outside));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("writers")
    void aHardLinkedTargetIsReplacedNotWrittenThrough(String name, Writer writer) throws IOException {
        try {
            Files.createLink(file, secret);
        } catch (UnsupportedOperationException | IOException e) {
            assumeTrue(false, "hard links cannot be made here: " + e);
        }
        writer.write(file);
        assertEquals("secret", Files.readString(secret));
        SafeTensors.load(file);     // a complete, valid file
        assertTrue(Files.size(file) > 8);
    }

    private static Path symlink(Path link, Path target) throws IOException {
        try {
            return Files.createSymbolicLink(link, target);
        } catch (UnsupportedOperationException | IOException e) {
            assumeTrue(false, "symbolic links cannot be made here: " + e);
            return link;
        }
    }

    private static Set<String> names(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            Set<String> out = new TreeSet<>();
            s.forEach(p -> out.add(p.getFileName().toString()));
            return out;
        }
    }
}
