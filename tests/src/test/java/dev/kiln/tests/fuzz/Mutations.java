package dev.kiln.tests.fuzz;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The mutations every fuzz target uses: byte-level (bit flips, interesting integers, inserts, deletes,
 * duplicated and spliced chunks, truncation) and structure-aware for protobuf messages (any field anywhere
 * in the tree: interesting integers and floats, other names from the corpus, dropped, duplicated and
 * swapped repeated elements, cleared or newly set fields). All randomness comes from the caller's
 * generator, so a case is a pure function of its seed.
 */
final class Mutations {

    private Mutations() {}

    /** Integers that break size arithmetic: zero, signs, powers of two around int and long overflow. */
    static final long[] INTERESTING = {
            0, 1, -1, 2, 3, 4, 7, 8, 16, 64, 255, 256, 1023, 1024, 4096, 65535, 65536, 1L << 20, 1L << 24,
            (1L << 28), (1L << 30), Integer.MAX_VALUE, Integer.MIN_VALUE, 1L << 31, (1L << 32) - 1, 1L << 32,
            1L << 40, 1L << 48, 1L << 62, (1L << 62) + 1, Long.MAX_VALUE, Long.MIN_VALUE, -2, -7, -(1L << 31), -(1L << 62)};

    static final double[] INTERESTING_FLOATS = {
            0.0, -0.0, 1.0, -1.0, 0.5, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 1e38, -1e38, 1e-45,
            Float.MAX_VALUE, Double.MAX_VALUE, 65504, 1e300, Long.MAX_VALUE, 3.0e9};

    static final String[] INTERESTING_STRINGS = {
            "", "..", ".", "/", "/etc/passwd", "../../../../etc/passwd", "a/../../b", "C:\\x", "x\0y", "\n",
            "a".repeat(300), "\u00ff\u1234", "com.microsoft", "ai.onnx.ml", "1", "-1", "99999999999999999999"};

    static long interesting(SplittableRandom r, long current) {
        return switch (r.nextInt(6)) {
            case 0 -> current + r.nextInt(-3, 4);
            case 1 -> -current;
            case 2 -> current * 2 + r.nextInt(2);
            case 3 -> r.nextLong(-64, 65);
            default -> INTERESTING[r.nextInt(INTERESTING.length)];
        };
    }

    // ---------------------------------------------------------------- bytes

    /** {@code data} with 1 to 8 byte-level mutations; {@code other} is a second input to splice from. */
    static byte[] bytes(byte[] data, byte[] other, SplittableRandom r) {
        byte[] d = data;
        int rounds = 1 + r.nextInt(r.nextInt(8) + 1);
        for (int i = 0; i < rounds; i++) d = byteOnce(d, other, r);
        return d;
    }

    private static byte[] byteOnce(byte[] d, byte[] other, SplittableRandom r) {
        if (d.length == 0) return new byte[] {(byte) r.nextInt(256)};
        int at = r.nextInt(d.length);
        switch (r.nextInt(9)) {
            case 0 -> {     // flip a bit
                byte[] c = d.clone();
                c[at] ^= (byte) (1 << r.nextInt(8));
                return c;
            }
            case 1 -> {     // an interesting byte
                byte[] c = d.clone();
                c[at] = (byte) new int[] {0, 1, 0x7f, 0x80, 0xff, 0x40, 0x20}[r.nextInt(7)];
                return c;
            }
            case 2 -> {     // an interesting little-endian integer, 4 or 8 bytes
                byte[] c = d.clone();
                long v = INTERESTING[r.nextInt(INTERESTING.length)];
                int width = r.nextBoolean() ? 4 : 8;
                for (int k = 0; k < width && at + k < c.length; k++) c[at + k] = (byte) (v >>> (8 * k));
                return c;
            }
            case 3 -> {     // an interesting varint (protobuf lengths and sizes)
                long v = INTERESTING[r.nextInt(INTERESTING.length)];
                byte[] varint = varint(v);
                int replace = Math.min(d.length - at, 1 + r.nextInt(4));
                return splice(d, at, replace, varint);
            }
            case 4 -> {     // delete a chunk
                int n = Math.min(d.length - at, 1 + r.nextInt(Math.min(64, d.length)));
                return splice(d, at, n, new byte[0]);
            }
            case 5 -> {     // insert random bytes
                byte[] ins = new byte[1 + r.nextInt(16)];
                r.nextBytes(ins);
                return splice(d, at, 0, ins);
            }
            case 6 -> {     // duplicate a chunk
                int n = Math.min(d.length - at, 1 + r.nextInt(Math.min(256, d.length)));
                return splice(d, at, 0, Arrays.copyOfRange(d, at, at + n));
            }
            case 7 -> {     // splice in a chunk of another input
                if (other.length == 0) return d;
                int from = r.nextInt(other.length);
                int n = Math.min(other.length - from, 1 + r.nextInt(Math.min(512, other.length)));
                return splice(d, at, r.nextInt(Math.min(n, d.length - at) + 1), Arrays.copyOfRange(other, from, from + n));
            }
            default -> {    // truncate
                return Arrays.copyOf(d, at);
            }
        }
    }

    private static byte[] splice(byte[] d, int at, int remove, byte[] insert) {
        byte[] out = new byte[d.length - remove + insert.length];
        System.arraycopy(d, 0, out, 0, at);
        System.arraycopy(insert, 0, out, at, insert.length);
        System.arraycopy(d, at + remove, out, at + insert.length, d.length - at - remove);
        return out;
    }

    static byte[] varint(long v) {
        byte[] buf = new byte[10];
        int n = 0;
        while ((v & ~0x7FL) != 0) {
            buf[n++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        buf[n++] = (byte) v;
        return Arrays.copyOf(buf, n);
    }

    // ---------------------------------------------------------------- protobuf structure

    /**
     * {@code m} with 1 to 4 structural mutations at random places in its tree; {@code words} are strings to
     * put into string fields (names and op types from the corpus, so edges get rewired and ops swapped).
     */
    static Message proto(Message m, List<String> words, SplittableRandom r) {
        Message out = m;
        int rounds = 1 + r.nextInt(r.nextInt(4) + 1);
        for (int i = 0; i < rounds; i++) {
            int sites = countSites(out);
            if (sites == 0) break;
            out = mutateAt(out, new int[] {r.nextInt(sites)}, words, r);
        }
        return out;
    }

    /** Sites in traversal order: one per message (set an unset field), per set field, per repeated element. */
    private static int countSites(Message m) {
        int n = 1;
        for (Map.Entry<FieldDescriptor, Object> e : m.getAllFields().entrySet()) {
            FieldDescriptor f = e.getKey();
            n++;
            if (f.isRepeated()) {
                for (Object v : (List<?>) e.getValue()) n += v instanceof Message sub ? countSites(sub) : 1;
            } else if (e.getValue() instanceof Message sub) {
                n += countSites(sub);
            }
        }
        return n;
    }

    /** Walks the sites in {@link #countSites} order, counting {@code k[0]} down; mutates at zero. */
    private static Message mutateAt(Message m, int[] k, List<String> words, SplittableRandom r) {
        if (k[0]-- == 0) return setUnsetField(m, words, r);
        for (Map.Entry<FieldDescriptor, Object> e : m.getAllFields().entrySet()) {
            FieldDescriptor f = e.getKey();
            if (k[0]-- == 0) return mutateField(m, f, words, r);
            if (f.isRepeated()) {
                List<?> list = (List<?>) e.getValue();
                for (int i = 0; i < list.size(); i++) {
                    Object v = list.get(i);
                    if (v instanceof Message sub) {
                        Message changed = mutateAt(sub, k, words, r);
                        if (k[0] < 0) return changed == sub ? m : m.toBuilder().setRepeatedField(f, i, changed).buildPartial();
                    } else if (k[0]-- == 0) {
                        return m.toBuilder().setRepeatedField(f, i, scalar(f, v, words, r)).buildPartial();
                    }
                }
            } else if (e.getValue() instanceof Message sub) {
                Message changed = mutateAt(sub, k, words, r);
                if (k[0] < 0) return changed == sub ? m : m.toBuilder().setField(f, changed).buildPartial();
            }
        }
        return m;
    }

    /** A field-level change: clear it, or for repeated fields drop, duplicate, swap or add elements. */
    private static Message mutateField(Message m, FieldDescriptor f, List<String> words, SplittableRandom r) {
        Message.Builder b = m.toBuilder();
        if (!f.isRepeated()) {
            if (r.nextInt(3) == 0 || f.getJavaType() == FieldDescriptor.JavaType.MESSAGE) b.clearField(f);
            else b.setField(f, scalar(f, m.getField(f), words, r));
            return b.buildPartial();
        }
        List<Object> list = new ArrayList<>((List<?>) m.getField(f));
        switch (r.nextInt(6)) {
            case 0 -> list.remove(r.nextInt(list.size()));
            case 1 -> list.add(r.nextInt(list.size() + 1), list.get(r.nextInt(list.size())));
            case 2 -> {
                int i = r.nextInt(list.size()), j = r.nextInt(list.size());
                Object t = list.get(i);
                list.set(i, list.get(j));
                list.set(j, t);
            }
            case 3 -> list.clear();
            case 4 -> {     // many copies: stresses linear-time handling
                Object v = list.get(r.nextInt(list.size()));
                int copies = 1 + r.nextInt(r.nextBoolean() ? 8 : 200);
                for (int i = 0; i < copies; i++) list.add(v);
            }
            default -> list.add(f.getJavaType() == FieldDescriptor.JavaType.MESSAGE
                    ? b.newBuilderForField(f).buildPartial() : scalar(f, defaultScalar(f), words, r));
        }
        b.clearField(f);
        for (Object v : list) b.addRepeatedField(f, v);
        return b.buildPartial();
    }

    /** Sets one field the message does not have yet (a new attribute value, a missing size, ...). */
    private static Message setUnsetField(Message m, List<String> words, SplittableRandom r) {
        List<FieldDescriptor> unset = new ArrayList<>();
        for (FieldDescriptor f : m.getDescriptorForType().getFields()) {
            if (f.isRepeated() ? m.getRepeatedFieldCount(f) == 0 : !m.hasField(f)) unset.add(f);
        }
        if (unset.isEmpty()) return m;
        FieldDescriptor f = unset.get(r.nextInt(unset.size()));
        Message.Builder b = m.toBuilder();
        Object v = f.getJavaType() == FieldDescriptor.JavaType.MESSAGE ? b.newBuilderForField(f).buildPartial() : scalar(f, defaultScalar(f), words, r);
        if (f.isRepeated()) b.addRepeatedField(f, v);
        else b.setField(f, v);
        return b.buildPartial();
    }

    private static Object defaultScalar(FieldDescriptor f) {
        return switch (f.getJavaType()) {
            case INT -> 0;
            case LONG -> 0L;
            case FLOAT -> 0f;
            case DOUBLE -> 0.0;
            case BOOLEAN -> false;
            case STRING -> "";
            case BYTE_STRING -> ByteString.EMPTY;
            case ENUM -> f.getEnumType().getValues().get(0);
            case MESSAGE -> throw new IllegalArgumentException("not a scalar: " + f);
        };
    }

    /** A new value for a scalar field of {@code f}'s type, near or far from {@code current}. */
    private static Object scalar(FieldDescriptor f, Object current, List<String> words, SplittableRandom r) {
        return switch (f.getJavaType()) {
            case INT -> (int) interesting(r, ((Number) current).longValue());
            case LONG -> interesting(r, ((Number) current).longValue());
            case FLOAT -> (float) INTERESTING_FLOATS[r.nextInt(INTERESTING_FLOATS.length)];
            case DOUBLE -> INTERESTING_FLOATS[r.nextInt(INTERESTING_FLOATS.length)];
            case BOOLEAN -> !(Boolean) current;
            case STRING -> r.nextInt(4) == 0 || words.isEmpty()
                    ? INTERESTING_STRINGS[r.nextInt(INTERESTING_STRINGS.length)] : words.get(r.nextInt(words.size()));
            case BYTE_STRING -> {
                byte[] b = ((ByteString) current).toByteArray();
                yield ByteString.copyFrom(b.length > 0 && r.nextBoolean() ? Arrays.copyOf(b, r.nextInt(b.length)) : bytes(b, b, r));
            }
            case ENUM -> {
                List<EnumValueDescriptor> values = f.getEnumType().getValues();
                yield values.get(r.nextInt(values.size()));
            }
            case MESSAGE -> throw new IllegalArgumentException("not a scalar: " + f);
        };
    }

    /** Every string value in {@code m}'s tree (names, op types, attribute names), for {@link #proto}'s word list. */
    static void collectStrings(Message m, java.util.Set<String> out, int limit) {
        for (Map.Entry<FieldDescriptor, Object> e : m.getAllFields().entrySet()) {
            if (out.size() >= limit) return;
            for (Object v : e.getKey().isRepeated() ? (List<?>) e.getValue() : List.of(e.getValue())) {
                if (v instanceof String s && s.length() < 100) out.add(s);
                else if (v instanceof Message sub) collectStrings(sub, out, limit);
            }
        }
    }
}
