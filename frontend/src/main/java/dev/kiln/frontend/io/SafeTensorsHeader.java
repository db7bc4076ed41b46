package dev.kiln.frontend.io;

import dev.kiln.ir.DType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The JSON header of a safetensors file: parsing with full validation (against the size of the data buffer
 * that follows it) and writing. Kept apart from {@link SafeTensors} so the file I/O stays small.
 */
final class SafeTensorsHeader {

    static final String METADATA_KEY = "__metadata__";

    /** One tensor's entry; offsets are relative to the start of the data buffer. */
    record Entry(String name, DType dtype, long[] shape, long begin, long end) {}

    private SafeTensorsHeader() {}

    /**
     * The safetensors dtype code of {@code dtype}, e.g. {@code F32}; null for the storage-only dtypes the format
     * has no code for (the FNUZ float8s) or stores packed (4- and 2-bit types), which Kiln keeps one per byte.
     */
    static String code(DType dtype) {
        return switch (dtype) {
            case F32 -> "F32";
            case F64 -> "F64";
            case F16 -> "F16";
            case BF16 -> "BF16";
            case I64 -> "I64";
            case I32 -> "I32";
            case I16 -> "I16";
            case I8 -> "I8";
            case U8 -> "U8";
            case U16 -> "U16";
            case U32 -> "U32";
            case U64 -> "U64";
            case BOOL -> "BOOL";
            case F8E4M3FN -> "F8_E4M3";
            case F8E5M2 -> "F8_E5M2";
            case F8E8M0 -> "F8_E8M0";
            case F8E4M3FNUZ, F8E5M2FNUZ, F4E2M1, I4, U4, I2, U2 -> null;
        };
    }

    private static DType fromCode(String code) {
        for (DType t : DType.values()) {
            if (code.equals(code(t))) return t;
        }
        return null;
    }

    /**
     * Parses and validates a header. {@code bufferBytes} is the size of the data buffer after the header;
     * tensors must tile it exactly (no gaps, overlaps or trailing bytes), as the reference implementation
     * requires. {@code where} (the file) prefixes every message.
     */
    static List<Entry> parse(String json, long bufferBytes, Map<String, String> metadataOut, String where)
            throws SafeTensorsFormatException {
        Object root;
        try {
            root = Json.parse(json);
        } catch (Json.ParseException e) {
            throw new SafeTensorsFormatException(where + ": header is not valid JSON: " + e.getMessage(), e);
        }
        if (!(root instanceof Map<?, ?> top)) {
            throw new SafeTensorsFormatException(where + ": header must be a JSON object, found " + kind(root));
        }
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<?, ?> e : top.entrySet()) {
            String key = (String) e.getKey();
            if (key.equals(METADATA_KEY)) {
                readMetadata(e.getValue(), metadataOut, where);
            } else {
                entries.add(entry(key, e.getValue(), where + ": tensor '" + key + "'"));
            }
        }
        checkTiling(entries, bufferBytes, where);
        return entries;
    }

    private static void readMetadata(Object value, Map<String, String> out, String where)
            throws SafeTensorsFormatException {
        if (value == Json.NULL) return;
        if (!(value instanceof Map<?, ?> m)) {
            throw new SafeTensorsFormatException(where + ": " + METADATA_KEY + " must be an object of strings, found "
                    + kind(value));
        }
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getValue() instanceof String s)) {
                throw new SafeTensorsFormatException(where + ": " + METADATA_KEY + " entry '" + e.getKey()
                        + "' must be a string, found " + kind(e.getValue()));
            }
            out.put((String) e.getKey(), s);
        }
    }

    private static Entry entry(String name, Object value, String where) throws SafeTensorsFormatException {
        if (!(value instanceof Map<?, ?> m)) {
            throw new SafeTensorsFormatException(where + ": expected an object with dtype, shape and data_offsets,"
                    + " found " + kind(value));
        }
        for (Object k : m.keySet()) {
            if (!k.equals("dtype") && !k.equals("shape") && !k.equals("data_offsets")) {
                throw new SafeTensorsFormatException(where + ": unexpected field '" + k
                        + "' (allowed: dtype, shape, data_offsets)");
            }
        }
        Object dt = require(m, "dtype", where);
        if (!(dt instanceof String code)) throw new SafeTensorsFormatException(where + ": dtype must be a string, found " + kind(dt));
        DType dtype = fromCode(code);
        if (dtype == null) {
            throw new SafeTensorsFormatException(where + ": unsupported dtype \"" + code + "\" (supported: "
                    + Arrays.stream(DType.values()).map(SafeTensorsHeader::code).filter(Objects::nonNull).toList() + ")");
        }
        long[] shape = longs(require(m, "shape", where), "shape", -1, where);
        long[] offsets = longs(require(m, "data_offsets", where), "data_offsets", 2, where);
        long begin = offsets[0], end = offsets[1];
        if (end < begin) {
            throw new SafeTensorsFormatException(where + ": data_offsets " + Arrays.toString(offsets)
                    + " end before they begin");
        }
        long numel = 1;
        try {
            for (long d : shape) numel = Math.multiplyExact(numel, d);
            long needed = Math.multiplyExact(numel, (long) dtype.byteSize());
            if (end - begin != needed) {
                throw new SafeTensorsFormatException(where + ": data_offsets " + Arrays.toString(offsets) + " hold "
                        + (end - begin) + " bytes but shape " + Arrays.toString(shape) + " of " + code + " needs "
                        + needed);
            }
        } catch (ArithmeticException overflow) {
            throw new SafeTensorsFormatException(where + ": shape " + Arrays.toString(shape) + " is too large");
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    private static Object require(Map<?, ?> m, String field, String where) throws SafeTensorsFormatException {
        Object v = m.get(field);
        if (v == null) throw new SafeTensorsFormatException(where + ": missing field '" + field + "'");
        return v;
    }

    /** A JSON array of non-negative integers ({@code length} of them unless it is -1). */
    private static long[] longs(Object v, String field, int length, String where) throws SafeTensorsFormatException {
        if (!(v instanceof List<?> list)) {
            throw new SafeTensorsFormatException(where + ": " + field + " must be an array of integers, found " + kind(v));
        }
        if (length >= 0 && list.size() != length) {
            throw new SafeTensorsFormatException(where + ": " + field + " must have " + length + " entries, found "
                    + list.size());
        }
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) {
            Object x = list.get(i);
            if (!(x instanceof Json.Num n) || !n.isInteger()) {
                throw new SafeTensorsFormatException(where + ": " + field + " entry " + i + " must be an integer, found "
                        + kind(x));
            }
            try {
                out[i] = Long.parseLong(n.text());
            } catch (NumberFormatException tooBig) {
                throw new SafeTensorsFormatException(where + ": " + field + " entry " + i + " (" + n + ") is too large");
            }
            if (out[i] < 0) {
                throw new SafeTensorsFormatException(where + ": " + field + " entry " + i + " is negative (" + n + ")");
            }
        }
        return out;
    }

    /** The tensors, in offset order, must cover {@code [0, bufferBytes)} exactly once. */
    private static void checkTiling(List<Entry> entries, long bufferBytes, String where)
            throws SafeTensorsFormatException {
        for (Entry e : entries) {
            if (e.end() > bufferBytes) {
                throw new SafeTensorsFormatException(where + ": tensor '" + e.name() + "': data_offsets ["
                        + e.begin() + ", " + e.end() + "] reach past the end of the data buffer (" + bufferBytes
                        + " bytes follow the header)");
            }
        }
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long at = 0;
        Entry previous = null;
        for (Entry e : sorted) {
            if (e.begin() < at) {
                throw new SafeTensorsFormatException(where + ": tensor '" + e.name() + "': data_offsets [" + e.begin()
                        + ", " + e.end() + "] overlap tensor '" + previous.name() + "' [" + previous.begin() + ", "
                        + previous.end() + "]");
            }
            if (e.begin() > at) {
                throw new SafeTensorsFormatException(where + ": " + (e.begin() - at) + " unused bytes at offset " + at
                        + " before tensor '" + e.name() + "' (tensors must tile the data buffer)");
            }
            at = e.end();
            previous = e;
        }
        if (at != bufferBytes) {
            throw new SafeTensorsFormatException(where + ": " + (bufferBytes - at) + " bytes after the last tensor's"
                    + " data (the data buffer holds " + bufferBytes + " bytes, the tensors " + at + ")");
        }
    }

    private static String kind(Object v) {
        if (v instanceof Map) return "an object";
        if (v instanceof List) return "an array";
        if (v instanceof String s) return "the string \"" + s + "\"";
        if (v instanceof Json.Num n) return "the number " + n;
        if (v instanceof Boolean b) return b.toString();
        return "null";
    }

    // ---------------------------------------------------------------- writing

    /** The header JSON for {@code entries} (in this key order) and {@code metadata} (omitted when empty). */
    static String write(List<Entry> entries, Map<String, String> metadata) {
        StringBuilder sb = new StringBuilder("{");
        if (!metadata.isEmpty()) {
            Json.writeString(sb, METADATA_KEY);
            sb.append(":{");
            boolean first = true;
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                if (!first) sb.append(',');
                first = false;
                Json.writeString(sb, e.getKey());
                sb.append(':');
                Json.writeString(sb, e.getValue());
            }
            sb.append('}');
        }
        for (Entry e : entries) {
            if (sb.length() > 1) sb.append(',');
            Json.writeString(sb, e.name());
            sb.append(":{\"dtype\":\"").append(code(e.dtype())).append("\",\"shape\":[");
            for (int i = 0; i < e.shape().length; i++) {
                if (i > 0) sb.append(',');
                sb.append(e.shape()[i]);
            }
            sb.append("],\"data_offsets\":[").append(e.begin()).append(',').append(e.end()).append("]}");
        }
        return sb.append('}').toString();
    }
}
