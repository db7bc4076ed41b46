package dev.kiln.onnx;

import com.google.protobuf.ByteString;
import dev.kiln.onnx.proto.OnnxProtos.StringStringEntryProto;
import dev.kiln.onnx.proto.OnnxProtos.TensorProto;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Reading external tensor data: the bytes come back exactly, and every attack on the reader (paths
 * out of the model's directory, links, sizes the file cannot back) is rejected with a message naming
 * the tensor, the location and the rule, before anything is allocated.
 */
class ExternalDataTest {

    private static final int FLOAT = TensorProto.DataType.FLOAT_VALUE;

    @TempDir
    Path root;
    /** The model's directory; {@link #outside} is its sibling holding a file an attacker wants read. */
    Path dir, outside, secret;

    @BeforeEach
    void layout() throws IOException {
        dir = Files.createDirectory(root.resolve("model"));
        outside = Files.createDirectory(root.resolve("outside"));
        secret = Files.write(outside.resolve("secret.bin"), bytes(64, 99));
    }

    // ---------------------------------------------------------------- reading

    @Test
    void readsTheTensorsBytesAtItsOffsetWithOrWithoutLength() throws IOException {
        byte[] file = bytes(300, 1);
        Files.write(dir.resolve("w.bin"), file);
        for (TensorProto t : List.of(
                tensor("w", FLOAT, new long[] {4, 5}, "location", "w.bin", "offset", "100"),
                tensor("w", FLOAT, new long[] {4, 5}, "location", "./w.bin", "offset", "100", "length", "80", "checksum", "ignored"))) {
            MemorySegment seg = ExternalData.read(t, dir, 80);
            assertEquals(80, seg.byteSize());
            assertArrayEquals(slice(file, 100, 80), seg.toArray(ValueLayout.JAVA_BYTE));
            assertTrue(seg.isReadOnly());
            assertFalse(seg.isMapped(), "small tensors are copied");
            assertThrows(IllegalArgumentException.class, () -> seg.set(ValueLayout.JAVA_BYTE, 0, (byte) 0));
        }
        TensorProto atStart = tensor("w", FLOAT, new long[] {3}, "location", "w.bin");
        assertArrayEquals(slice(file, 0, 12), ExternalData.read(atStart, dir, 12).toArray(ValueLayout.JAVA_BYTE));
    }

    @Test
    void largeTensorsAreMappedAndAnArenaGetsAWritableCopy() throws IOException {
        int n = (int) ExternalData.MAP_THRESHOLD * 2;
        byte[] file = bytes(4096 + n, 2);
        Files.write(dir.resolve("big.bin"), file);
        TensorProto t = tensor("big", TensorProto.DataType.UINT8_VALUE, new long[] {n}, "location", "big.bin", "offset", "4096");
        MemorySegment mapped = ExternalData.read(t, dir, n);
        assertTrue(mapped.isMapped() && mapped.isReadOnly());
        assertEquals(-1, mapped.mismatch(MemorySegment.ofArray(slice(file, 4096, n))));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment copy = ExternalData.read(t, dir, n, arena);
            assertFalse(copy.isReadOnly());
            assertEquals(-1, copy.mismatch(mapped));
            copy.set(ValueLayout.JAVA_BYTE, 0, (byte) 7);
        }
        assertArrayEquals(file, Files.readAllBytes(dir.resolve("big.bin")), "the file is never written");
    }

    @Test
    void locationsMayNameFilesInSubdirectories() throws IOException {
        Files.createDirectories(dir.resolve("a/b"));
        Files.write(dir.resolve("a/b/w.bin"), bytes(8, 3));
        TensorProto t = tensor("w", TensorProto.DataType.INT64_VALUE, new long[] {}, "location", "a/b/w.bin");
        assertArrayEquals(bytes(8, 3), ExternalData.read(t, dir, 8).toArray(ValueLayout.JAVA_BYTE));
    }

    @Test
    void subByteAndEmptyTensorsHaveTheirPackedSizes() throws IOException {
        Files.write(dir.resolve("w.bin"), bytes(3, 4));
        assertEquals(3, ExternalData.read(tensor("w", TensorProto.DataType.INT4_VALUE, new long[] {5}, "location", "w.bin"), dir, 3).byteSize());
        assertEquals(0, ExternalData.read(tensor("e", FLOAT, new long[] {0, 7}, "location", "w.bin"), dir, 0).byteSize());
    }

    @Test
    void noFileHandleOutlivesACall() throws IOException {
        Path fds = Path.of("/proc/self/fd");
        assumeTrue(Files.isDirectory(fds), "needs /proc/self/fd to count open files");
        Files.write(dir.resolve("w.bin"), bytes(64, 5));
        Files.write(dir.resolve("big.bin"), bytes((int) ExternalData.MAP_THRESHOLD, 6));
        TensorProto ok = tensor("w", FLOAT, new long[] {16}, "location", "w.bin");
        TensorProto big = tensor("big", TensorProto.DataType.UINT8_VALUE, new long[] {ExternalData.MAP_THRESHOLD}, "location", "big.bin");
        TensorProto tooShort = tensor("w", FLOAT, new long[] {17}, "location", "w.bin");
        Runnable round = () -> {
            ExternalData.read(ok, dir, 64);
            ExternalData.read(big, dir, ExternalData.MAP_THRESHOLD);
            try (Arena arena = Arena.ofConfined()) { ExternalData.read(ok, dir, 64, arena); }
            assertThrows(OnnxImportException.class, () -> ExternalData.read(tooShort, dir, 68));
        };
        round.run();    // loads classes and opens whatever the JDK keeps open for good
        long before = count(fds);
        for (int i = 0; i < 50; i++) round.run();
        assertEquals(before, count(fds), "open file descriptors before and after 50 rounds of reads");
    }

    // ---------------------------------------------------------------- attacks on the location

    @Test
    void absoluteLocationIsRejected() {
        TensorProto t = tensor("w", FLOAT, new long[] {16}, "location", secret.toString());
        assertRejected(t, 64, "external data of tensor 'w' at location '" + secret + "': the location is an absolute path;"
                + " it must be relative to the model's directory");
    }

    @Test
    void dotDotTraversalIsRejected() {
        assertRejected(tensor("w", FLOAT, new long[] {16}, "location", "../outside/secret.bin"), 64,
                "external data of tensor 'w' at location '../outside/secret.bin': the location contains a '..' segment;"
                        + " it must stay inside the model's directory");
    }

    @Test
    void dotDotAfterARealDirectoryIsRejected() throws IOException {
        Files.createDirectory(dir.resolve("a"));
        assertRejected(tensor("w", FLOAT, new long[] {16}, "location", "a/../../outside/secret.bin"), 64,
                "at location 'a/../../outside/secret.bin': the location contains a '..' segment");
        assertRejected(tensor("w", FLOAT, new long[] {16}, "location", "a/.."), 64, "'..' segment");
    }

    @Test
    void symbolicLinkToAFileOutsideIsRejected() throws IOException {
        symlink(dir.resolve("link.bin"), secret);
        assertRejected(tensor("w", FLOAT, new long[] {16}, "location", "link.bin"), 64,
                "external data of tensor 'w' at location 'link.bin': the file " + dir.toRealPath().resolve("link.bin")
                        + " is a symbolic link; external data must not go through links");
    }

    @Test
    void symbolicLinkEvenToAFileInsideIsRejected() throws IOException {
        Files.write(dir.resolve("w.bin"), bytes(64, 7));
        symlink(dir.resolve("alias.bin"), dir.resolve("w.bin"));
        assertRejected(tensor("w", FLOAT, new long[] {16}, "location", "alias.bin"), 64, "is a symbolic link");
    }

    @Test
    void symbolicallyLinkedParentDirectoryIsRejected() throws IOException {
        symlink(dir.resolve("sub"), outside);
        assertRejected(tensor("w", FLOAT, new long[] {16}, "location", "sub/secret.bin"), 64,
                "at location 'sub/secret.bin': the directory " + dir.toRealPath().resolve("sub")
                        + " is a symbolic link; external data must not go through links");
    }

    @Test
    void aHardLinkToAFileOutsideIsRejected() throws IOException {
        Path link = hardLink(dir.resolve("w.bin"), secret);
        assertRejected(tensor("w", FLOAT, new long[] {16}, "location", "w.bin"), 64,
                "external data of tensor 'w' at location 'w.bin': the file " + dir.toRealPath().resolve("w.bin") + " has 2 hard links;"
                        + " external data must be a file with a single link, because another link may be a file outside the model's"
                        + " directory (replace it with a copy)");
        assertRejected(tensor("w", FLOAT, new long[] {16}, "location", "w.bin"), 64, dir, "has 2 hard links");
        // Even two names inside the directory: nothing tells which one is the original.
        Files.delete(link);
        Files.write(dir.resolve("w.bin"), bytes(64, 7));
        hardLink(dir.resolve("alias.bin"), dir.resolve("w.bin"));
        assertRejected(tensor("w", FLOAT, new long[] {16}, "location", "w.bin"), 64, "has 2 hard links");
        Files.delete(dir.resolve("alias.bin"));
        assertEquals(64, ExternalData.read(tensor("w", FLOAT, new long[] {16}, "location", "w.bin"), dir, 64).byteSize(),
                "a plain single-link file is read");
    }

    private static Path hardLink(Path link, Path existing) throws IOException {
        try {
            return Files.createLink(link, existing);
        } catch (UnsupportedOperationException | IOException e) {
            assumeTrue(false, "hard links cannot be made here: " + e);
            return link;
        }
    }

    @Test
    void nulInTheLocationIsRejectedAndEscapedInTheMessage() {
        assertRejected(tensor("w", FLOAT, new long[] {16}, "location", "w.bin\0../../outside/secret.bin"), 64,
                "at location 'w.bin\\0../../outside/secret.bin': the location contains a NUL character");
    }

    @Test
    void windowsDriveUncAndBackslashFormsAreRejected() {
        for (String loc : List.of("C:/outside/secret.bin", "C:secret.bin", "w.bin:stream")) {
            assertRejected(tensor("w", FLOAT, new long[] {16}, "location", loc), 64, "contains ':'; drive letters and alternate data streams");
        }
        for (String loc : List.of("\\\\server\\share\\secret.bin", "..\\outside\\secret.bin", "sub\\w.bin")) {
            assertRejected(tensor("w", FLOAT, new long[] {16}, "location", loc), 64, "contains a backslash");
        }
        assertRejected(tensor("w", FLOAT, new long[] {16}, "location", "//server/share/secret.bin"), 64, "is an absolute path");
    }

    @Test
    void emptyNamesAndEmptySegmentsAreRejected() {
        assertRejected(tensor("w", FLOAT, new long[] {16}, "location", ""), 64, "at location '': the location is empty");
        assertRejected(tensor("w", FLOAT, new long[] {16}, "location", "a//w.bin"), 64, "has an empty path segment");
        assertRejected(tensor("w", FLOAT, new long[] {16}, "location", "a/"), 64, "has an empty path segment");
        assertRejected(tensor("w", FLOAT, new long[] {16}, "location", "."), 64, "the location names no file");
        assertRejected(tensor("w", FLOAT, new long[] {16}, "location", "w\n.bin"), 64, "'w\\u000a.bin': the location contains a control character");
    }

    @Test
    void missingFilesDirectoriesAndNonFilesAreRejected() throws IOException {
        assertRejected(tensor("w", FLOAT, new long[] {16}, "location", "none.bin"), 64,
                "the file " + dir.toRealPath().resolve("none.bin") + " does not exist");
        assertRejected(tensor("w", FLOAT, new long[] {16}, "location", "none/w.bin"), 64, "the directory " + dir.toRealPath().resolve("none") + " does not exist");
        Files.createDirectory(dir.resolve("d"));
        assertRejected(tensor("w", FLOAT, new long[] {16}, "location", "d"), 64, "d is not a regular file");
        Files.write(dir.resolve("f"), bytes(64, 1));
        assertRejected(tensor("w", FLOAT, new long[] {16}, "location", "f/w.bin"), 64, "f is not a directory");
    }

    // ---------------------------------------------------------------- attacks on sizes

    @Test
    void hugeDeclaredTensorWithATinyFileIsRejectedBeforeAnyAllocation() throws IOException {
        Files.write(dir.resolve("tiny.bin"), bytes(16, 8));
        long elements = 1L << 40, bytes = elements * 4;   // 4 TiB
        TensorProto t = tensor("huge", FLOAT, new long[] {elements}, "location", "tiny.bin");
        String message = "external data of tensor 'huge' at location 'tiny.bin': the tensor needs " + bytes
                + " bytes from offset 0, but the file has only 16 bytes";
        assertRejected(t, bytes, message);
        RecordingArena arena = new RecordingArena();
        OnnxImportException e = assertThrows(OnnxImportException.class, () -> ExternalData.read(t, dir, bytes, arena));
        assertEquals(message, e.getMessage());
        assertEquals(List.of(), arena.requests, "nothing may be allocated for a tensor the file cannot back");
        TensorProto withLength = tensor("huge", FLOAT, new long[] {elements}, "location", "tiny.bin", "length", Long.toString(bytes));
        assertRejected(withLength, bytes, message);
    }

    @Test
    void declaredSizesThatOverflowAreRejected() {
        assertRejected(tensor("w", FLOAT, new long[] {1L << 40, 1L << 40}, "location", "w.bin"), 0,
                "tensor 'w' with dims [1099511627776, 1099511627776] and data type FLOAT has a size in bytes that overflows 64 bits");
        assertRejected(tensor("w", FLOAT, new long[] {16}, "location", "w.bin", "offset", Long.toString(Long.MAX_VALUE - 8)), 64,
                "offset 9223372036854775799 plus size 64 overflows 64 bits");
        assertRejected(tensor("w", FLOAT, new long[] {4, -4}, "location", "w.bin"), 64, "tensor 'w' has a negative dim -4 in [4, -4]");
    }

    @Test
    void offsetBeyondTheEndOfTheFileIsRejected() throws IOException {
        Files.write(dir.resolve("w.bin"), bytes(16, 9));
        assertRejected(tensor("w", FLOAT, new long[] {4}, "location", "w.bin", "offset", "1000"), 16,
                "external data of tensor 'w' at location 'w.bin': offset 1000 is beyond the end of the file (16 bytes)");
        assertRejected(tensor("w", FLOAT, new long[] {4}, "location", "w.bin", "offset", "8"), 16,
                "the tensor needs 16 bytes from offset 8, but the file has only 16 bytes");
    }

    @Test
    void lengthThatDisagreesWithTheTensorIsRejected() throws IOException {
        Files.write(dir.resolve("w.bin"), bytes(64, 10));
        assertRejected(tensor("w", FLOAT, new long[] {4}, "location", "w.bin", "length", "8"), 16,
                "external data of tensor 'w' at location 'w.bin': length 8 does not match the tensor's size of 16 bytes (dims [4], FLOAT)");
        assertRejected(tensor("w", FLOAT, new long[] {4}, "location", "w.bin", "length", "64"), 16, "length 64 does not match");
    }

    @Test
    void negativeOffsetOrLengthIsRejected() {
        assertRejected(tensor("w", FLOAT, new long[] {4}, "location", "w.bin", "offset", "-4"), 16,
                "external data of tensor 'w' at location 'w.bin': offset -4 is negative");
        assertRejected(tensor("w", FLOAT, new long[] {4}, "location", "w.bin", "length", "-16"), 16, "length -16 is negative");
    }

    @Test
    void malformedNumbersAreRejected() {
        assertRejected(tensor("w", FLOAT, new long[] {4}, "location", "w.bin", "offset", "12abc"), 16, "offset '12abc' is not a decimal integer");
        assertRejected(tensor("w", FLOAT, new long[] {4}, "location", "w.bin", "offset", "99999999999999999999"), 16, "is not a decimal integer below 2^63");
        assertRejected(tensor("w", FLOAT, new long[] {4}, "location", "w.bin", "length", "+16"), 16, "length '+16' is not a plain decimal integer");
    }

    @Test
    void expectedSizeMustAgreeWithDimsAndDataType() {
        assertRejected(tensor("w", FLOAT, new long[] {4}, "location", "w.bin"), 12,
                "external data of tensor 'w' at location 'w.bin': dims [4] of FLOAT make 16 bytes, but 12 were expected");
        assertRejected(tensor("w", FLOAT, new long[] {4}, "location", "w.bin"), -1, "the expected size -1 is negative");
    }

    // ---------------------------------------------------------------- malformed entries and tensors

    @Test
    void unknownRepeatedOrMissingKeysAreRejected() {
        assertRejected(tensor("w", FLOAT, new long[] {4}, "location", "w.bin", "basepath", "/etc", "Offset", "0"), 16,
                "unknown external_data keys 'basepath', 'Offset'; known keys are location, offset, length and checksum");
        assertRejected(tensor("w", FLOAT, new long[] {4}, "location", "w.bin", "location", "../x"), 16, "key 'location' is given more than once");
        assertRejected(tensor("w", FLOAT, new long[] {4}, "offset", "0"), 16, "external data of tensor 'w': it has no 'location' entry");
    }

    @Test
    void externalTensorsCarryNoOtherDataAndAreNotStrings() {
        TensorProto withRaw = tensor("w", FLOAT, new long[] {4}, "location", "w.bin").toBuilder().setRawData(ByteString.copyFrom(new byte[16])).build();
        assertRejected(withRaw, 16, "the tensor also carries raw_data; external tensors must not");
        TensorProto withFloats = tensor("w", FLOAT, new long[] {1}, "location", "w.bin").toBuilder().addFloatData(1).build();
        assertRejected(withFloats, 4, "the tensor also carries float_data; external tensors must not");
        assertRejected(tensor("s", TensorProto.DataType.STRING_VALUE, new long[] {1}, "location", "w.bin"), 1,
                "tensor 's' has data type STRING, which has no fixed element size");
        assertRejected(tensor("u", 99, new long[] {1}, "location", "w.bin"), 1, "has data type unknown data type 99");
        TensorProto inline = TensorProto.newBuilder().setName("w").setDataType(FLOAT).addDims(1).setRawData(ByteString.copyFrom(new byte[4])).build();
        assertRejected(inline, 4, "tensor 'w' is not stored as external data (data_location is DEFAULT)");
    }

    @Test
    void aMissingModelDirectoryIsReported() {
        assertRejected(tensor("w", FLOAT, new long[] {4}, "location", "w.bin"), 16, root.resolve("nowhere"),
                "the model directory " + root.resolve("nowhere") + " cannot be resolved");
    }

    // ---------------------------------------------------------------- helpers

    static TensorProto tensor(String name, int dataType, long[] dims, String... keyValues) {
        TensorProto.Builder b = TensorProto.newBuilder().setName(name).setDataType(dataType)
                .setDataLocation(TensorProto.DataLocation.EXTERNAL);
        for (long d : dims) b.addDims(d);
        for (int i = 0; i < keyValues.length; i += 2) {
            b.addExternalData(StringStringEntryProto.newBuilder().setKey(keyValues[i]).setValue(keyValues[i + 1]));
        }
        return b.build();
    }

    private void assertRejected(TensorProto t, long expectedBytes, String message) {
        assertRejected(t, expectedBytes, dir, message);
    }

    private static void assertRejected(TensorProto t, long expectedBytes, Path base, String message) {
        OnnxImportException e = assertThrows(OnnxImportException.class, () -> ExternalData.read(t, base, expectedBytes));
        assertTrue(e.getMessage().contains(message), "message: " + e.getMessage() + "\nexpected to contain: " + message);
    }

    static byte[] bytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static byte[] slice(byte[] b, int from, int n) { return java.util.Arrays.copyOfRange(b, from, from + n); }

    static Path symlink(Path link, Path target) throws IOException {
        try {
            return Files.createSymbolicLink(link, target);
        } catch (UnsupportedOperationException | IOException e) {
            assumeTrue(false, "symbolic links cannot be made here: " + e);
            throw e;
        }
    }

    private static long count(Path fds) throws IOException {
        try (Stream<Path> s = Files.list(fds)) {
            return s.count();
        }
    }

    /** An arena that records every allocation request and serves it from a confined arena. */
    private static final class RecordingArena implements Arena {
        final List<Long> requests = new ArrayList<>();
        private final Arena inner = Arena.ofConfined();

        @Override
        public MemorySegment allocate(long byteSize, long byteAlignment) {
            requests.add(byteSize);
            return inner.allocate(byteSize, byteAlignment);
        }

        @Override public MemorySegment.Scope scope() { return inner.scope(); }

        @Override public void close() { inner.close(); }
    }
}
