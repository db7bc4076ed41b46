package dev.kiln.onnx;

import dev.kiln.onnx.proto.OnnxProtos.StringStringEntryProto;
import dev.kiln.onnx.proto.OnnxProtos.TensorProto;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Reads the bytes of a tensor stored as ONNX external data ({@code data_location = EXTERNAL}), safely:
 * a model file is untrusted input, and its {@code location} entries must not reach files outside the
 * model's directory nor make Kiln allocate more than the file can hold.
 *
 * <p>The rules, each a clear {@link OnnxImportException} naming the tensor, the location and the rule:
 * <ul>
 *   <li>The location is a relative path of {@code /}-separated names: not empty, not absolute, no
 *       {@code ..} segment, no empty segment, no backslash, no {@code :} (drive letters, UNC paths and
 *       alternate data streams), no NUL or other control character.</li>
 *   <li>Resolved inside the model directory, neither the file nor any directory on the way to it
 *       may be a symbolic link, and its real path must stay inside the directory. The file is opened
 *       one directory at a time without following links where the platform allows it
 *       ({@link SecureDirectoryStream}), so a link swapped in after the checks is not followed either.</li>
 *   <li>The file has exactly one hard link (where the platform counts links, {@code unix:nlink}): a
 *       second link can make a file outside the model's directory appear inside it, and nothing in the
 *       directory tells which name is the original. A deduplicated or linked copy must be replaced by a
 *       plain copy. The count is read just before opening; a concurrent local attacker who can create
 *       links in the model directory between the check and the open is outside what Java can prevent.</li>
 *   <li>{@code offset} and {@code length} are non-negative decimal integers; {@code length}, when
 *       given, equals the tensor's size from its dims and data type; {@code offset + size} fits in
 *       the file as opened. All of this is checked before any memory is allocated or mapped.</li>
 *   <li>Only the keys {@code location}, {@code offset}, {@code length} and {@code checksum} are known,
 *       each at most once. The checksum is accepted but not verified (ONNX Runtime does not verify it
 *       either); sizes and bounds always are.</li>
 *   <li>An external tensor carries no {@code raw_data} nor typed data, and is not a string tensor.</li>
 * </ul>
 * No file handle outlives a call. The file must not be truncated while a mapped segment is in use.
 */
public final class ExternalData {

    /** Tensors of at least this many bytes are mapped read-only rather than copied. */
    static final long MAP_THRESHOLD = 1 << 20;
    /** Keys ONNX defines for {@code external_data}. */
    private static final Set<String> KEYS = Set.of("location", "offset", "length", "checksum");
    private static final long ALIGNMENT = 64;

    private ExternalData() {}

    /** Whether {@code tensor} keeps its data in an external file. */
    public static boolean isExternal(TensorProto tensor) {
        return tensor.getDataLocation() == TensorProto.DataLocation.EXTERNAL;
    }

    /**
     * The raw little-endian bytes of an external tensor as a read-only segment of exactly
     * {@code expectedBytes} bytes, memory-mapped for large tensors (at least 1 MiB) and copied for
     * small ones; the memory is released when the segment becomes unreachable.
     *
     * @param baseDir       the directory of the model file; locations resolve only inside it
     * @param expectedBytes the tensor's size computed from its dims and element type; it must agree
     *                      with the tensor's own dims and data type
     * @throws OnnxImportException if any rule in the class description is broken or the file cannot be read
     */
    public static MemorySegment read(TensorProto tensor, Path baseDir, long expectedBytes) {
        Source src = check(tensor, baseDir, expectedBytes);
        try (FileChannel ch = open(src)) {
            checkFileSize(src, ch.size());
            if (expectedBytes >= MAP_THRESHOLD) {
                return ch.map(FileChannel.MapMode.READ_ONLY, src.offset, expectedBytes, Arena.ofAuto());
            }
            MemorySegment seg = Arena.ofAuto().allocate(expectedBytes, ALIGNMENT);
            copy(src, ch, seg);
            return seg.asReadOnly();
        } catch (IOException e) {
            throw src.reject("the file cannot be read: " + e);
        }
    }

    /**
     * Like {@link #read(TensorProto, Path, long)}, but copies the bytes into writable memory of
     * {@code arena}, which the caller owns (for weights that will be updated in place).
     */
    public static MemorySegment read(TensorProto tensor, Path baseDir, long expectedBytes, Arena arena) {
        Source src = check(tensor, baseDir, expectedBytes);
        try (FileChannel ch = open(src)) {
            checkFileSize(src, ch.size());
            MemorySegment seg = arena.allocate(expectedBytes, ALIGNMENT);
            copy(src, ch, seg);
            return seg;
        } catch (IOException e) {
            throw src.reject("the file cannot be read: " + e);
        }
    }

    /**
     * The size in bytes of {@code tensor}'s data from its dims and data type (sub-byte types packed,
     * rounded up to whole bytes).
     *
     * @throws OnnxImportException for a negative dim, a size that overflows 64 bits, or a data type
     *                             without a fixed element size
     */
    static long byteSize(TensorProto tensor) {
        String what = "tensor '" + name(tensor) + "'";
        int bits = elementBits(tensor.getDataType());
        if (bits < 0) {
            throw new OnnxImportException(what + " has data type " + typeName(tensor.getDataType())
                    + ", which has no fixed element size, so it cannot be stored as raw or external data");
        }
        try {
            long n = 1;
            for (long d : tensor.getDimsList()) {
                if (d < 0) throw new OnnxImportException(what + " has a negative dim " + d + " in " + tensor.getDimsList());
                n = Math.multiplyExact(n, d);
            }
            return bits % 8 == 0 ? Math.multiplyExact(n, bits / 8) : Math.ceilDiv(Math.multiplyExact(n, bits), 8);
        } catch (ArithmeticException e) {
            throw new OnnxImportException(what + " with dims " + tensor.getDimsList() + " and data type "
                    + typeName(tensor.getDataType()) + " has a size in bytes that overflows 64 bits");
        }
    }

    // ---------------------------------------------------------------- checks (no allocation)

    /** A checked external reference: where the bytes are, and how to name it in messages. */
    private record Source(String tensor, String location, Path base, List<String> segments, long offset, long bytes) {
        OnnxImportException reject(String rule) { return ExternalData.reject(tensor, location, rule); }
    }

    private static Source check(TensorProto tensor, Path baseDir, long expectedBytes) {
        Objects.requireNonNull(baseDir, "baseDir: the model file's directory, such as file.toAbsolutePath().getParent()");
        String name = name(tensor);
        if (!isExternal(tensor)) {
            throw new OnnxImportException("tensor '" + name + "' is not stored as external data (data_location is "
                    + tensor.getDataLocation() + ")");
        }
        Map<String, String> entries = entries(tensor, name);
        String location = entries.get("location");
        if (location == null) throw reject(name, null, "it has no 'location' entry");
        if (tensor.hasRawData()) throw reject(name, location, "the tensor also carries raw_data; external tensors must not");
        List<String> typed = typedDataFields(tensor);
        if (!typed.isEmpty()) throw reject(name, location, "the tensor also carries " + String.join(", ", typed) + "; external tensors must not");
        if (expectedBytes < 0) throw reject(name, location, "the expected size " + expectedBytes + " is negative");
        long declared = byteSize(tensor);
        if (declared != expectedBytes) {
            throw reject(name, location, "dims " + tensor.getDimsList() + " of " + typeName(tensor.getDataType()) + " make "
                    + declared + " bytes, but " + expectedBytes + " were expected");
        }
        long offset = number(entries, "offset", 0, name, location);
        long length = number(entries, "length", expectedBytes, name, location);
        if (length != expectedBytes) {
            throw reject(name, location, "length " + length + " does not match the tensor's size of " + expectedBytes
                    + " bytes (dims " + tensor.getDimsList() + ", " + typeName(tensor.getDataType()) + ")");
        }
        try {
            Math.addExact(offset, expectedBytes);
        } catch (ArithmeticException e) {
            throw reject(name, location, "offset " + offset + " plus size " + expectedBytes + " overflows 64 bits");
        }
        List<String> segments = segments(name, location);
        Path base = baseDirectory(name, location, baseDir);
        checkInside(name, location, base, segments);
        return new Source(name, location, base, segments, offset, expectedBytes);
    }

    private static Map<String, String> entries(TensorProto tensor, String name) {
        Map<String, String> entries = new LinkedHashMap<>();
        List<String> unknown = new ArrayList<>();
        for (StringStringEntryProto e : tensor.getExternalDataList()) {
            if (!KEYS.contains(e.getKey())) {
                unknown.add("'" + printable(e.getKey()) + "'");
            } else if (entries.put(e.getKey(), e.getValue()) != null) {
                throw reject(name, entries.get("location"), "key '" + e.getKey() + "' is given more than once");
            }
        }
        if (!unknown.isEmpty()) {
            throw reject(name, entries.get("location"), "unknown external_data " + (unknown.size() == 1 ? "key " : "keys ")
                    + String.join(", ", unknown) + "; known keys are location, offset, length and checksum");
        }
        return entries;
    }

    private static long number(Map<String, String> entries, String key, long absent, String name, String location) {
        String s = entries.get(key);
        if (s == null) return absent;
        long v;
        try {
            v = Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw reject(name, location, key + " '" + printable(s) + "' is not a decimal integer below 2^63");
        }
        if (v < 0) throw reject(name, location, key + " " + v + " is negative");
        if (!s.chars().allMatch(c -> c >= '0' && c <= '9')) throw reject(name, location, key + " '" + s + "' is not a plain decimal integer");
        return v;
    }

    /** The location's path segments (without {@code .}), after the syntactic rules of {@link #locationProblem}. */
    private static List<String> segments(String name, String location) {
        String problem = locationProblem(location);
        if (problem != null) throw reject(name, location, problem);
        List<String> segments = new ArrayList<>(List.of(location.split("/")));
        segments.removeIf(s -> s.equals("."));
        return segments;
    }

    /**
     * Why {@code location} is not a safe relative path of {@code /}-separated names, or null if it is;
     * purely syntactic (the writer checks its data file names with the same rules).
     */
    static String locationProblem(String location) {
        if (location.isEmpty()) return "the location is empty";
        for (int i = 0; i < location.length(); i++) {
            char c = location.charAt(i);
            if (c == 0) return "the location contains a NUL character";
            if (c < 0x20 || c == 0x7f) return "the location contains a control character";
        }
        if (location.indexOf('\\') >= 0) {
            return "the location contains a backslash; locations are relative paths with '/' separators "
                    + "(Windows and UNC paths are not allowed)";
        }
        if (location.startsWith("/")) return "the location is an absolute path; it must be relative to the model's directory";
        if (location.indexOf(':') >= 0) return "the location contains ':'; drive letters and alternate data streams are not allowed";
        boolean names = false;
        for (String s : location.split("/", -1)) {
            if (s.isEmpty()) return "the location has an empty path segment";
            if (s.equals("..")) return "the location contains a '..' segment; it must stay inside the model's directory";
            names |= !s.equals(".");
        }
        return names ? null : "the location names no file";
    }

    private static Path baseDirectory(String name, String location, Path baseDir) {
        try {
            Path base = baseDir.toRealPath();
            if (!Files.isDirectory(base)) throw reject(name, location, "the model directory " + baseDir + " is not a directory");
            return base;
        } catch (IOException e) {
            throw reject(name, location, "the model directory " + baseDir + " cannot be resolved: " + e);
        }
    }

    /** Walks the segments under {@code base}: no link anywhere, directories then a regular file, real path inside. */
    private static void checkInside(String name, String location, Path base, List<String> segments) {
        Path p = base;
        for (int i = 0; i < segments.size(); i++) {
            p = p.resolve(segments.get(i));
            boolean last = i == segments.size() - 1;
            BasicFileAttributes a;
            try {
                a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            } catch (NoSuchFileException e) {
                throw reject(name, location, (last ? "the file " : "the directory ") + p + " does not exist");
            } catch (IOException e) {
                throw reject(name, location, p + " cannot be examined: " + e);
            }
            if (a.isSymbolicLink()) {
                throw reject(name, location, (last ? "the file " : "the directory ") + p
                        + " is a symbolic link; external data must not go through links");
            }
            if (!last && !a.isDirectory()) throw reject(name, location, p + " is not a directory");
            if (last && !a.isRegularFile()) throw reject(name, location, p + " is not a regular file");
            if (last) checkSingleLink(name, location, p);
        }
        try {
            if (!p.toRealPath().startsWith(base)) throw reject(name, location, "the file resolves to " + p.toRealPath() + ", outside " + base);
        } catch (IOException e) {
            throw reject(name, location, p + " cannot be resolved: " + e);
        }
    }

    /**
     * The hard-link rule: a file with more than one link is refused, since the other name may be anywhere on
     * the file system (a link to a file outside the model directory looks like any file inside it). Where the
     * platform keeps no link counts ({@code unix:nlink} unsupported, as on Windows) there is nothing to check.
     */
    private static void checkSingleLink(String name, String location, Path file) {
        Object links;
        try {
            links = Files.getAttribute(file, "unix:nlink", LinkOption.NOFOLLOW_LINKS);
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            return;
        } catch (IOException e) {
            throw reject(name, location, file + " cannot be examined: " + e);
        }
        if (links instanceof Integer count && count > 1) {
            throw reject(name, location, "the file " + file + " has " + count + " hard links; external data must be a file with"
                    + " a single link, because another link may be a file outside the model's directory (replace it with a copy)");
        }
    }

    private static void checkFileSize(Source src, long fileSize) {
        if (src.offset > fileSize) {
            throw src.reject("offset " + src.offset + " is beyond the end of the file (" + fileSize + " bytes)");
        }
        if (src.offset + src.bytes > fileSize) {
            throw src.reject("the tensor needs " + src.bytes + " bytes from offset " + src.offset + ", but the file has only "
                    + fileSize + " bytes");
        }
    }

    // ---------------------------------------------------------------- opening and reading

    /** Opens the checked file without following links, one directory at a time where the platform can. */
    private static FileChannel open(Source src) {
        try (DirectoryStream<Path> root = Files.newDirectoryStream(src.base)) {
            if (root instanceof SecureDirectoryStream<Path> dir) return openIn(dir, src.segments, 0);
        } catch (IOException e) {
            throw src.reject("the file cannot be opened safely: " + e);
        }
        Path file = src.base;
        for (String s : src.segments) file = file.resolve(s);
        try {
            return FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            throw src.reject("the file cannot be opened: " + e);
        }
    }

    private static FileChannel openIn(SecureDirectoryStream<Path> dir, List<String> segments, int i) throws IOException {
        Path name = Path.of(segments.get(i));
        if (i == segments.size() - 1) {
            SeekableByteChannel c = dir.newByteChannel(name, Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS));
            if (c instanceof FileChannel fc) return fc;
            c.close();
            throw new IOException("the platform did not open it as a file channel");
        }
        try (SecureDirectoryStream<Path> sub = dir.newDirectoryStream(name, LinkOption.NOFOLLOW_LINKS)) {
            return openIn(sub, segments, i + 1);
        }
    }

    private static void copy(Source src, FileChannel ch, MemorySegment dst) throws IOException {
        long done = 0;
        while (done < src.bytes) {
            long chunk = Math.min(src.bytes - done, 1L << 30);
            ByteBuffer buf = dst.asSlice(done, chunk).asByteBuffer();
            while (buf.hasRemaining()) {
                int n = ch.read(buf, src.offset + done + buf.position());
                if (n < 0) throw src.reject("the file ended after " + (src.offset + done + buf.position()) + " bytes while reading");
            }
            done += chunk;
        }
    }

    // ---------------------------------------------------------------- names and types

    private static OnnxImportException reject(String tensor, String location, String rule) {
        String where = location == null ? "" : " at location '" + printable(location) + "'";
        return new OnnxImportException("external data of tensor '" + tensor + "'" + where + ": " + rule);
    }

    private static String name(TensorProto t) { return t.getName().isEmpty() ? "<unnamed>" : printable(t.getName()); }

    /** {@code s} with control characters escaped, so a hostile name cannot forge message lines. */
    private static String printable(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == 0) b.append("\\0");
            else if (c < 0x20 || c == 0x7f) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.toString();
    }

    private static List<String> typedDataFields(TensorProto t) {
        List<String> out = new ArrayList<>();
        if (t.getFloatDataCount() > 0) out.add("float_data");
        if (t.getInt32DataCount() > 0) out.add("int32_data");
        if (t.getStringDataCount() > 0) out.add("string_data");
        if (t.getInt64DataCount() > 0) out.add("int64_data");
        if (t.getDoubleDataCount() > 0) out.add("double_data");
        if (t.getUint64DataCount() > 0) out.add("uint64_data");
        return out;
    }

    static String typeName(int code) {
        TensorProto.DataType t = TensorProto.DataType.forNumber(code);
        return t != null ? t.name() : "unknown data type " + code;
    }

    /** Bits per element of an ONNX data type, or -1 when it has no fixed size (string, undefined, unknown). */
    private static int elementBits(int code) {
        TensorProto.DataType t = TensorProto.DataType.forNumber(code);
        if (t == null) return -1;
        return switch (t) {
            case UINT8, INT8, BOOL, FLOAT8E4M3FN, FLOAT8E4M3FNUZ, FLOAT8E5M2, FLOAT8E5M2FNUZ, FLOAT8E8M0 -> 8;
            case UINT16, INT16, FLOAT16, BFLOAT16 -> 16;
            case FLOAT, INT32, UINT32 -> 32;
            case DOUBLE, INT64, UINT64, COMPLEX64 -> 64;
            case COMPLEX128 -> 128;
            case UINT4, INT4, FLOAT4E2M1 -> 4;
            case UINT2, INT2 -> 2;
            case STRING, UNDEFINED -> -1;
        };
    }
}
