package dev.kiln.frontend.io;

import dev.kiln.frontend.Tensor;
import dev.kiln.ir.DType;
import dev.kiln.runtime.MemoryScope;
import dev.kiln.runtime.NDArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafeTensorsTest {

    @TempDir
    Path dir;

    @Test
    void everyDtypeRoundTrips() throws IOException {
        double[] values = {0, 1, -2, 3.5, 100, -0.5};
        Map<String, Tensor> in = new LinkedHashMap<>();
        for (DType t : DType.values()) {
            if (SafeTensorsHeader.code(t) == null) continue;   // no safetensors code; see storageDtypesWithoutACodeAreRefused
            NDArray a = NDArray.zeros(t, 2, 3);
            for (int i = 0; i < 6; i++) {
                double v = t.isFloatingPoint() ? values[i] : t == DType.BOOL ? i % 2 : t.isUnsigned() ? 250 + i : -3 + i;
                a.setFlat(i, v);
            }
            in.put("t_" + t.irName(), Tensor.wrap(a));
        }
        in.put("big_i64", Tensor.of(new long[] {Long.MIN_VALUE, Long.MAX_VALUE, 1L << 53 | 1}));
        in.put("scalar", Tensor.wrap(NDArray.full(DType.F64, Math.PI)));
        in.put("empty", Tensor.zeros(DType.F32, 0, 4));
        Path f = dir.resolve("all.safetensors");
        SafeTensors.save(in, Map.of("format", "pt", "note", "quote \" and \\ and \n newline ü"), f);

        SafeTensors.Loaded out = SafeTensors.load(f);
        assertEquals(new ArrayList<>(in.keySet()), new ArrayList<>(out.tensors().keySet()), "file (header) order kept");
        assertEquals(Map.of("format", "pt", "note", "quote \" and \\ and \n newline ü"), out.metadata());
        for (String name : in.keySet()) {
            NDArray want = in.get(name).data(), got = out.tensors().get(name).data();
            assertEquals(want.dtype(), got.dtype(), name);
            assertArrayEquals(want.shape(), got.shape(), name);
            if (want.dtype() == DType.I64) assertArrayEquals(want.toLongArray(), got.toLongArray(), name);
            else assertArrayEquals(want.toDoubleArray(), got.toDoubleArray(), name);
        }
        assertEquals(0, (readHeaderLength(f) + 8) % 8, "data buffer starts 8-byte aligned");
    }

    @Test
    void storageDtypesWithoutACodeAreRefused() {
        Tensor t = Tensor.wrap(NDArray.zeros(DType.I4, 3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SafeTensors.save(Map.of("w", t), Map.of(), dir.resolve("i4.safetensors")));
        assertEquals("safetensors: tensor 'w' has dtype i4, which the safetensors format cannot store; cast it first", e.getMessage());
        assertEquals("F8_E4M3", SafeTensorsHeader.code(DType.F8E4M3FN));
    }

    @Test
    void nonContiguousTensorIsWrittenInRowMajorOrder() throws IOException {
        NDArray m = NDArray.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3).permute(1, 0); // [[1,4],[2,5],[3,6]]
        Path f = dir.resolve("t.safetensors");
        SafeTensors.save(Map.of("m", Tensor.wrap(m)), f);
        NDArray got = SafeTensors.load(f).tensors().get("m").data();
        assertArrayEquals(new long[] {3, 2}, got.shape());
        assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, got.toFloatArray());
    }

    /** The exact bytes the format prescribes, built by hand, for a small file with metadata. */
    @Test
    void writesTheDocumentedByteLayout() throws IOException {
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("b", Tensor.wrap(NDArray.of(new int[] {1, 2, 3}).to(DType.U8)));
        t.put("a", Tensor.of(new float[] {1.0f, -2.0f}, 2));
        Path f = dir.resolve("x.safetensors");
        SafeTensors.save(t, Map.of("k", "v"), f);

        // Header keys keep map order; data is laid out widest dtype first: a (F32, 8 bytes) then b (U8, 3 bytes).
        String json = "{\"__metadata__\":{\"k\":\"v\"},"
                + "\"b\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[8,11]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        byte[] header = json.getBytes(StandardCharsets.US_ASCII);
        int padded = (header.length + 7) / 8 * 8;
        ByteArrayOutputStream want = new ByteArrayOutputStream();
        want.writeBytes(le64(padded));
        want.writeBytes(header);
        for (int i = header.length; i < padded; i++) want.write(' ');
        want.writeBytes(new byte[] {0, 0, (byte) 0x80, 0x3f});        // 1.0f little-endian
        want.writeBytes(new byte[] {0, 0, 0, (byte) 0xc0});           // -2.0f little-endian
        want.writeBytes(new byte[] {1, 2, 3});
        assertArrayEquals(want.toByteArray(), Files.readAllBytes(f));
    }

    /** A file as another writer might produce it: no padding, no metadata, key order unlike data order. */
    @Test
    void readsAHandBuiltFile() throws IOException {
        String json = "{ \"w\" : {\"shape\":[2,2],\"dtype\":\"F64\",\"data_offsets\":[2,34]},"
                + "\"s\":{\"dtype\":\"I16\",\"shape\":[],\"data_offsets\":[0,2]} }";
        ByteBuffer data = ByteBuffer.allocate(34).order(ByteOrder.LITTLE_ENDIAN);
        data.putShort((short) -7).putDouble(0.5).putDouble(-1).putDouble(2).putDouble(1e300);
        Path f = write("h.safetensors", json, data.array());

        SafeTensors.Loaded l = SafeTensors.load(f);
        assertEquals(List.of("w", "s"), new ArrayList<>(l.tensors().keySet()));
        assertTrue(l.metadata().isEmpty());
        NDArray w = l.tensors().get("w").data();
        assertEquals(DType.F64, w.dtype());
        assertArrayEquals(new double[] {0.5, -1, 2, 1e300}, w.toDoubleArray());
        NDArray s = l.tensors().get("s").data();
        assertEquals(0, s.rank());
        assertEquals(-7, s.getLong());
    }

    @Test
    void overwritesAtomicallyAndLeavesNoTemporaryFiles() throws IOException {
        Path f = dir.resolve("w.safetensors");
        SafeTensors.save(Map.of("x", Tensor.of(new float[] {1})), f);
        SafeTensors.save(Map.of("y", Tensor.of(new float[] {2, 3})), f);
        assertEquals(List.of("y"), new ArrayList<>(SafeTensors.load(f).tensors().keySet()));
        Map<String, Tensor> bad = new LinkedHashMap<>();
        bad.put("ok", Tensor.of(new float[] {1}));
        bad.put("missing", null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SafeTensors.save(bad, f));
        assertTrue(e.getMessage().contains("'missing'"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> SafeTensors.save(Map.of("__metadata__", Tensor.of(new float[] {1})), f));
        // a failure in the middle of writing the data (memory freed by a closed scope)
        Tensor freed;
        try (MemoryScope scope = MemoryScope.open()) {
            freed = Tensor.zeros(DType.F32, 1000);
        }
        Map<String, Tensor> halfWritable = new LinkedHashMap<>();
        halfWritable.put("ok", Tensor.of(new double[] {1, 2}));
        halfWritable.put("freed", freed);
        assertThrows(IllegalStateException.class, () -> SafeTensors.save(halfWritable, f));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(f), files.toList(), "only the target file exists: the temporary file was removed");
        }
        assertEquals(List.of("y"), new ArrayList<>(SafeTensors.load(f).tensors().keySet()), "old content intact");
    }

    // ---------------------------------------------------------------- malformed files

    @Test
    void truncatedFiles() throws IOException {
        Path f = dir.resolve("ok.safetensors");
        SafeTensors.save(Map.of("fc1.weight", Tensor.of(new float[25], 5, 5)), f);
        byte[] all = Files.readAllBytes(f);
        long n = readHeaderLength(f);

        assertFormatError(bytes("short", new byte[] {1, 2, 3}), "truncated file: 3 bytes");
        byte[] headerCut = java.util.Arrays.copyOf(all, 8 + (int) n - 10);
        assertFormatError(bytes("cut-header", headerCut),
                "truncated file: header says " + n + " bytes but only " + (n - 10) + " follow");
        byte[] dataCut = java.util.Arrays.copyOf(all, all.length - 4);
        assertFormatError(bytes("cut-data", dataCut), "tensor 'fc1.weight': data_offsets [0, 100] reach past the end"
                + " of the data buffer (96 bytes");
    }

    @Test
    void badHeaderLength() throws IOException {
        byte[] huge = le64(Long.MAX_VALUE);
        assertFormatError(bytes("huge", huge), "bad header length " + Long.MAX_VALUE);
        assertFormatError(bytes("negative", le64(-1)), "bad header length 18446744073709551615");
        assertFormatError(write("notjson", "xx", new byte[0]), "header does not start with '{'");
    }

    @Test
    void badJson() throws IOException {
        assertFormatError(write("j1", "{\"a\":", new byte[0]), "not valid JSON: unexpected end of input");
        assertFormatError(write("j2", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}} x", new byte[4]),
                "after the end of the JSON value");
        assertFormatError(write("j3", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8]), "duplicate key \"a\"");
        assertFormatError(write("j4", "{\"a\":[1,2,]}", new byte[0]), "expected a value");
        assertFormatError(write("j5", "{\"a\":\"x\ny\"}", new byte[0]), "unescaped control character");
        assertFormatError(write("j6", "[1]", new byte[0]), "does not start with '{'");
        Path invalidUtf8 = bytes("j7", concat(le64(4), new byte[] {'{', (byte) 0xff, ' ', '}'}));
        assertFormatError(invalidUtf8, "not valid UTF-8");
        assertFormatError(write("j8", "{\"__metadata__\":{\"k\":1}}", new byte[0]),
                "__metadata__ entry 'k' must be a string, found the number 1");
        assertFormatError(write("j9", "{\"a\":" + "[".repeat(200) + "]".repeat(200) + "}", new byte[0]),
                "nesting deeper than");
    }

    @Test
    void badEntries() throws IOException {
        assertFormatError(write("d", "{\"q\":{\"dtype\":\"C64\",\"shape\":[1],\"data_offsets\":[0,8]}}", new byte[8]),
                "tensor 'q': unsupported dtype \"C64\"");
        assertFormatError(write("s", "{\"q\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", new byte[4]),
                "tensor 'q': shape entry 0 is negative (-1)");
        assertFormatError(write("f", "{\"q\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", new byte[4]),
                "tensor 'q': shape entry 0 must be an integer, found the number 1.5");
        assertFormatError(write("m", "{\"q\":{\"dtype\":\"F32\",\"shape\":[1]}}", new byte[4]),
                "tensor 'q': missing field 'data_offsets'");
        assertFormatError(write("x", "{\"q\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"z\":1}}",
                new byte[4]), "tensor 'q': unexpected field 'z'");
        assertFormatError(write("o", "{\"fc1.weight\":{\"dtype\":\"F32\",\"shape\":[5,5],\"data_offsets\":[0,100]}}",
                new byte[40]), "tensor 'fc1.weight': data_offsets [0, 100] reach past the end of the data buffer (40 bytes");
        assertFormatError(write("r", "{\"q\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", new byte[8]),
                "tensor 'q': data_offsets [8, 4] end before they begin");
        assertFormatError(write("big", "{\"q\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,99999999999999999999]}}",
                new byte[4]), "data_offsets entry 1 (99999999999999999999) is too large");
        assertFormatError(write("ovf", "{\"q\":{\"dtype\":\"F64\",\"shape\":[4294967296,4294967296],"
                + "\"data_offsets\":[0,8]}}", new byte[8]), "tensor 'q': shape [4294967296, 4294967296] is too large");
    }

    @Test
    void sizeMismatchOverlapGapAndTrailingBytes() throws IOException {
        assertFormatError(write("size", "{\"fc1.weight\":{\"dtype\":\"F32\",\"shape\":[5,5],\"data_offsets\":[0,96]}}",
                new byte[96]), "tensor 'fc1.weight': data_offsets [0, 96] hold 96 bytes but shape [5, 5] of F32 needs 100");
        assertFormatError(write("overlap", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", new byte[12]),
                "tensor 'b': data_offsets [4, 12] overlap tensor 'a' [0, 8]");
        assertFormatError(write("gap", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8]),
                "4 unused bytes at offset 0 before tensor 'a'");
        assertFormatError(write("trail", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[6]),
                "2 bytes after the last tensor's data");
    }

    @Test
    void missingFileIsAnIOException() {
        assertThrows(java.nio.file.NoSuchFileException.class, () -> SafeTensors.load(dir.resolve("nope.safetensors")));
    }

    // ---------------------------------------------------------------- helpers

    private static void assertFormatError(Path f, String expected) {
        SafeTensorsFormatException e = assertThrows(SafeTensorsFormatException.class, () -> SafeTensors.load(f));
        assertTrue(e.getMessage().contains(expected), "message: " + e.getMessage() + "\nexpected to contain: " + expected);
        assertTrue(e.getMessage().startsWith(f.toString()), "message names the file: " + e.getMessage());
    }

    private Path write(String name, String json, byte[] data) throws IOException {
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        return bytes(name, concat(le64(h.length), h, data));
    }

    private Path bytes(String name, byte[] content) throws IOException {
        Path f = dir.resolve(name + ".safetensors");
        Files.write(f, content);
        return f;
    }

    static byte[] le64(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }

    private static long readHeaderLength(Path f) throws IOException {
        byte[] b = Files.readAllBytes(f);
        return ByteBuffer.wrap(b, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }
}
