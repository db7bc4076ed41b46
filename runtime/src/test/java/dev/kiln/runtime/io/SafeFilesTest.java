package dev.kiln.runtime.io;

import dev.kiln.runtime.io.WriteTargetException.Reason;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Both routes (secure directory stream and path-based) against planted links, refusals and failing writes. */
class SafeFilesTest {

    @TempDir Path root;
    private Path dir, outside, secret, file;

    @BeforeEach
    void setUp() throws IOException {
        dir = Files.createDirectory(root.resolve("out"));
        outside = Files.createDirectory(root.resolve("outside"));
        secret = Files.writeString(outside.resolve("secret.txt"), "secret");
        file = dir.resolve("model.bin");
    }

    @ParameterizedTest(name = "secure route: {0}")
    @ValueSource(booleans = {true, false})
    void writesNewFilesAndReplacesOnlyWhenAllowed(boolean secure) throws IOException {
        write(secure, file, false, "one");
        assertEquals("one", Files.readString(file));
        WriteTargetException e = assertThrows(WriteTargetException.class, () -> write(secure, file, false, "two"));
        assertEquals(Reason.TARGET_EXISTS, e.reason());
        assertEquals("the test file " + file + " already exists", e.getMessage());
        assertEquals("one", Files.readString(file));
        write(secure, file, true, "two");
        assertEquals("two", Files.readString(file));
        assertEquals(Set.of("model.bin"), names(dir));
    }

    @ParameterizedTest(name = "secure route: {0}")
    @ValueSource(booleans = {true, false})
    void aLinkAtTheTargetIsNeverFollowedNorReplaced(boolean secure) throws IOException {
        symlink(file, secret);
        for (boolean overwrite : new boolean[] {false, true}) {
            WriteTargetException e = assertThrows(WriteTargetException.class, () -> write(secure, file, overwrite, "evil"));
            assertEquals(Reason.TARGET_IS_LINK, e.reason());
            assertEquals("the test file " + file + " is a symbolic link; Kiln never writes through or replaces links, even with"
                    + " overwrite allowed (remove the link first)", e.getMessage());
        }
        assertEquals("secret", Files.readString(secret));
        assertEquals(secret, Files.readSymbolicLink(file));
        assertEquals(Set.of("model.bin"), names(dir));
        Path dangling = symlink(dir.resolve("new.bin"), outside.resolve("created-by-kiln"));
        assertEquals(Reason.TARGET_IS_LINK, assertThrows(WriteTargetException.class, () -> write(secure, dangling, true, "x")).reason());
        assertEquals(Set.of("secret.txt"), names(outside), "a dangling link does not make Kiln create its target");
    }

    @ParameterizedTest(name = "secure route: {0}")
    @ValueSource(booleans = {true, false})
    void linksAtTheTemporaryNamesAreSkippedNeverFollowed(boolean secure) throws IOException {
        long seed = 42;
        Random predict = new Random(seed);
        for (int attempt = 0; attempt < 3; attempt++) symlink(dir.resolve(SafeFiles.tempName("model.bin", attempt, predict)), secret);
        try (SafeFiles.Batch b = new SafeFiles.Batch(secure, new Random(seed))) {
            b.stage(file, "test file", false, content("fresh"));
            b.commit();
        }
        assertEquals("fresh", Files.readString(file));
        assertEquals("secret", Files.readString(secret));
        assertEquals(4, names(dir).size(), "the three planted links stay, no temporary file is left: " + names(dir));
    }

    @ParameterizedTest(name = "secure route: {0}")
    @ValueSource(booleans = {true, false})
    void aDirectoryThatIsALinkIsRefused(boolean secure) throws IOException {
        Path linkedDir = symlink(root.resolve("linked"), outside);
        WriteTargetException e = assertThrows(WriteTargetException.class, () -> write(secure, linkedDir.resolve("x.bin"), true, "evil"));
        assertEquals(Reason.DIRECTORY_IS_LINK, e.reason());
        assertEquals("the directory " + linkedDir + " of the test file " + linkedDir.resolve("x.bin") + " is a symbolic link; Kiln writes"
                + " only into real directories (pass the directory's real path, Path.toRealPath(), if the link is meant)", e.getMessage());
        assertEquals(Set.of("secret.txt"), names(outside));
        write(secure, linkedDir.toRealPath().resolve("x.bin"), false, "meant");
        assertEquals("meant", Files.readString(outside.resolve("x.bin")));
    }

    @ParameterizedTest(name = "secure route: {0}")
    @ValueSource(booleans = {true, false})
    void missingDirectoriesAndNonFilesAreRefused(boolean secure) throws IOException {
        WriteTargetException missing = assertThrows(WriteTargetException.class, () -> write(secure, root.resolve("none/x.bin"), true, "x"));
        assertEquals(Reason.NO_DIRECTORY, missing.reason());
        assertEquals("the directory " + root.resolve("none") + " of the test file " + root.resolve("none/x.bin") + " does not exist",
                missing.getMessage());
        Files.createDirectory(file);
        WriteTargetException notFile = assertThrows(WriteTargetException.class, () -> write(secure, file, true, "x"));
        assertEquals(Reason.TARGET_NOT_REGULAR, notFile.reason());
        assertTrue(Files.isDirectory(file));
        assertThrows(IllegalArgumentException.class, () -> write(secure, dir.resolve(".."), true, "x"));
    }

    @ParameterizedTest(name = "secure route: {0}")
    @ValueSource(booleans = {true, false})
    void aFailingWriteLeavesTheOldFileAndNoPartialFile(boolean secure) throws IOException {
        write(secure, file, false, "old");
        IOException e = assertThrows(IOException.class, () -> {
            try (SafeFiles.Batch b = new SafeFiles.Batch(secure, new Random(1))) {
                b.stage(file, "test file", true, ch -> {
                    ch.write(ByteBuffer.wrap("partial new bytes".getBytes(StandardCharsets.UTF_8)));
                    throw new IOException("disk full (simulated)");
                });
                b.commit();
            }
        });
        assertEquals("disk full (simulated)", e.getMessage());
        assertEquals("old", Files.readString(file));
        assertEquals(Set.of("model.bin"), names(dir));
        assertThrows(UncheckedIOException.class, () -> SafeFiles.write(file, "test file", true, ch -> {
            throw new UncheckedIOException(new IOException("unchecked failure"));
        }));
        assertEquals(Set.of("model.bin"), names(dir));
    }

    @Test
    void aBatchRenamesNothingWhenALaterFileFails() throws IOException {
        Path data = dir.resolve("model.data");
        write(true, file, false, "old model");
        write(true, data, false, "old data");
        assertThrows(IOException.class, () -> {
            try (SafeFiles.Batch b = SafeFiles.batch()) {
                b.stage(data, "data file", true, content("new data"));
                b.stage(file, "model file", true, ch -> { throw new IOException("failed"); });
                b.commit();
            }
        });
        assertEquals("old model", Files.readString(file));
        assertEquals("old data", Files.readString(data));
        assertEquals(Set.of("model.bin", "model.data"), names(dir));
        try (SafeFiles.Batch b = SafeFiles.batch()) {
            b.stage(data, "data file", true, content("new data"));
            b.stage(file, "model file", true, content("new model"));
            b.commit();
        }
        assertEquals("new model", Files.readString(file));
        assertEquals("new data", Files.readString(data));
    }

    @Test
    void aLinkPlantedAfterStagingIsCaughtAtCommit() throws IOException {
        try (SafeFiles.Batch b = SafeFiles.batch()) {
            b.stage(file, "test file", true, content("x"));
            symlink(file, secret);
            assertEquals(Reason.TARGET_IS_LINK, assertThrows(WriteTargetException.class, b::commit).reason());
        }
        assertEquals("secret", Files.readString(secret));
        assertEquals(Set.of("model.bin"), names(dir));
    }

    @Test
    void newFilesGetTheUsualPermissionsNotOwnerOnly() throws IOException {
        assumeTrue(root.getFileSystem().supportedFileAttributeViews().contains("posix"));
        SafeFiles.write(file, "test file", false, content("x"));
        Path plain = Files.writeString(dir.resolve("plain"), "x");
        assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(file));
    }

    // ---------------------------------------------------------------- helpers

    private static void write(boolean secure, Path file, boolean overwrite, String text) throws IOException {
        try (SafeFiles.Batch b = new SafeFiles.Batch(secure, new Random(7))) {
            b.stage(file, "test file", overwrite, content(text));
            b.commit();
        }
    }

    private static SafeFiles.Content content(String text) {
        return ch -> {
            ByteBuffer buf = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
            while (buf.hasRemaining()) ch.write(buf);
        };
    }

    static Path symlink(Path link, Path target) throws IOException {
        try {
            return Files.createSymbolicLink(link, target);
        } catch (UnsupportedOperationException | IOException e) {
            assumeTrue(false, "symbolic links cannot be made here: " + e);
            return link;
        }
    }

    static Set<String> names(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            Set<String> out = new TreeSet<>();
            s.forEach(p -> out.add(p.getFileName().toString()));
            return out;
        }
    }
}
