package dev.kiln.frontend.io;

import dev.kiln.frontend.Tensor;
import dev.kiln.ir.DType;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.io.SafeFiles;
import dev.kiln.runtime.io.WriteTargetException;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Reads and writes the <a href="https://github.com/huggingface/safetensors">safetensors</a> format, the common
 * interchange format for weights: an 8-byte little-endian header length N, N bytes of JSON header naming each
 * tensor's dtype, shape and byte range, then the little-endian row-major data. Reading validates the whole header
 * against the file size before allocating any tensor, so a damaged file fails with a
 * {@link SafeTensorsFormatException} naming the problem instead of a crash or a huge allocation.
 */
public final class SafeTensors {

    /** Headers above this size are rejected as implausible (the reference implementation's limit). */
    static final long MAX_HEADER_BYTES = 100_000_000L;
    private static final int CHUNK = 1 << 20;

    /** A loaded file: tensors in header order, and the {@code __metadata__} strings (empty when absent). */
    public record Loaded(Map<String, Tensor> tensors, Map<String, String> metadata) {
        public Loaded {
            tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
            metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        }
    }

    private SafeTensors() {}

    /** Writes {@code tensors} (in map order) with no metadata; see {@link #save(Map, Map, Path)}. */
    public static void save(Map<String, Tensor> tensors, Path file) throws IOException {
        save(tensors, Map.of(), file);
    }

    /**
     * Writes {@code tensors} and string {@code metadata} to {@code file}. The header lists tensors in map order;
     * the data is laid out widest dtype first so every tensor is aligned to its element size, as the reference
     * writer does. An existing regular file is replaced. The write goes through {@link SafeFiles}: to a temporary
     * file in the same directory, then renamed into place atomically, so a failed write never leaves a partial
     * file under {@code file}'s name; a symbolic link at {@code file} or as its directory is refused, never followed.
     *
     * @throws WriteTargetException if {@code file} or its directory is a symbolic link, {@code file} is not a regular
     *                              file, or the directory does not exist (nothing is written)
     * @throws IOException          if writing fails (the old file, if any, is untouched; no temporary file is left)
     */
    public static void save(Map<String, Tensor> tensors, Map<String, String> metadata, Path file) throws IOException {
        Objects.requireNonNull(tensors, "tensors");
        Objects.requireNonNull(metadata, "metadata");
        Objects.requireNonNull(file, "file");
        Map<String, NDArray> arrays = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            String name = e.getKey();
            if (name == null) throw new IllegalArgumentException("safetensors: a tensor name is null");
            if (name.equals(SafeTensorsHeader.METADATA_KEY)) {
                throw new IllegalArgumentException("safetensors: '" + name + "' is reserved and cannot name a tensor");
            }
            if (e.getValue() == null) throw new IllegalArgumentException("safetensors: tensor '" + name + "' is null");
            if (SafeTensorsHeader.code(e.getValue().dtype()) == null) {
                throw new IllegalArgumentException("safetensors: tensor '" + name + "' has dtype " + e.getValue().dtype()
                        + ", which the safetensors format cannot store; cast it first");
            }
            arrays.put(name, e.getValue().data());
        }
        for (Map.Entry<String, String> e : metadata.entrySet()) {
            if (e.getKey() == null || e.getValue() == null) {
                throw new IllegalArgumentException("safetensors: metadata entry '" + e.getKey() + "' has a null key or value");
            }
        }

        // Data layout: widest element first (stable), offsets assigned in that order.
        List<String> layout = new ArrayList<>(arrays.keySet());
        layout.sort(Comparator.comparingInt((String n) -> -arrays.get(n).dtype().byteSize()));
        Map<String, long[]> offsets = new LinkedHashMap<>();
        long at = 0;
        for (String name : layout) {
            NDArray a = arrays.get(name);
            long bytes = Math.multiplyExact(a.numel(), (long) a.dtype().byteSize());
            offsets.put(name, new long[] {at, at + bytes});
            at += bytes;
        }
        List<SafeTensorsHeader.Entry> entries = new ArrayList<>();
        for (Map.Entry<String, NDArray> e : arrays.entrySet()) {
            long[] o = offsets.get(e.getKey());
            entries.add(new SafeTensorsHeader.Entry(e.getKey(), e.getValue().dtype(), e.getValue().shape(), o[0], o[1]));
        }
        byte[] header = SafeTensorsHeader.write(entries, metadata).getBytes(StandardCharsets.UTF_8);
        int padded = (header.length + 7) / 8 * 8; // keeps the data buffer 8-byte aligned in the file
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(header);
        while (head.hasRemaining()) head.put((byte) ' ');
        head.flip();

        SafeFiles.write(file, "safetensors file", true, ch -> {
            writeFully(ch, head);
            for (String name : layout) writeData(ch, arrays.get(name).contiguous());
        });
    }

    /**
     * Reads a safetensors file. Everything in the header is checked before any tensor is allocated: the header
     * length against the file size, well-formed JSON without duplicate keys, known dtypes, non-negative shapes,
     * byte ranges that match the shapes and tile the data buffer exactly. Tensors are allocated in the current
     * {@link dev.kiln.runtime.MemoryScope} (GC-managed outside one).
     *
     * @throws SafeTensorsFormatException when the file is not valid safetensors; the message names the file and
     *                                    the tensor or problem
     */
    public static Loaded load(Path file) throws IOException {
        String where = file.toString();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new SafeTensorsFormatException(where + ": truncated file: " + size
                        + " bytes, too short for the 8-byte header length");
            }
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, len, 0, where);
            long n = len.flip().getLong();
            if (n < 0 || n > MAX_HEADER_BYTES) {
                throw new SafeTensorsFormatException(where + ": bad header length " + Long.toUnsignedString(n)
                        + " (at most " + MAX_HEADER_BYTES + " bytes is accepted); not a safetensors file?");
            }
            if (n > size - 8) {
                throw new SafeTensorsFormatException(where + ": truncated file: header says " + n
                        + " bytes but only " + (size - 8) + " follow");
            }
            if (n < 2) throw new SafeTensorsFormatException(where + ": bad header length " + n + " (too short for JSON)");
            ByteBuffer headerBytes = ByteBuffer.allocate((int) n);
            readFully(ch, headerBytes, 8, where);
            headerBytes.flip();
            String json;
            try {
                json = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(headerBytes).toString();
            } catch (CharacterCodingException e) {
                throw new SafeTensorsFormatException(where + ": header is not valid UTF-8", e);
            }
            if (!json.startsWith("{")) {
                throw new SafeTensorsFormatException(where + ": header does not start with '{'; not a safetensors file?");
            }
            Map<String, String> metadata = new LinkedHashMap<>();
            List<SafeTensorsHeader.Entry> entries = SafeTensorsHeader.parse(json, size - 8 - n, metadata, where);

            long dataStart = 8 + n;
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (SafeTensorsHeader.Entry e : entries) {
                dev.kiln.runtime.TensorLimits.checkedBytes(e.dtype(), e.shape(), dev.kiln.runtime.TensorLimits.maxTensorBytes(), "",
                        problem -> new SafeTensorsFormatException(where + ": tensor '" + e.name() + "': " + problem));
                NDArray a = NDArray.zeros(e.dtype(), e.shape());
                readData(ch, a.segment(), dataStart + e.begin(), e.dtype(), where);
                tensors.put(e.name(), Tensor.wrap(a));
            }
            return new Loaded(tensors, metadata);
        }
    }

    // ---------------------------------------------------------------- raw I/O

    /** Writes a contiguous array's elements little-endian, through a bounded heap buffer. */
    private static void writeData(FileChannel ch, NDArray a) throws IOException {
        int size = a.dtype().byteSize();
        ValueLayout nat = layout(size, ByteOrder.nativeOrder());
        ValueLayout le = layout(size, ByteOrder.LITTLE_ENDIAN);
        long total = a.numel();
        long perChunk = CHUNK / size;
        byte[] buf = new byte[(int) Math.min((long) CHUNK, Math.max(1, total * size))];
        MemorySegment dst = MemorySegment.ofArray(buf);
        for (long done = 0; done < total; done += perChunk) {
            long count = Math.min(perChunk, total - done);
            MemorySegment.copy(a.segment(), nat, (a.offset() + done) * size, dst, le, 0, count);
            writeFully(ch, ByteBuffer.wrap(buf, 0, (int) (count * size)));
        }
    }

    /** Reads {@code dst.byteSize()} little-endian bytes at {@code position} into native-order elements. */
    private static void readData(FileChannel ch, MemorySegment dst, long position, DType dtype, String where)
            throws IOException {
        long total = dst.byteSize();
        for (long done = 0; done < total; done += CHUNK) {
            long count = Math.min(CHUNK, total - done);
            readFully(ch, dst.asSlice(done, count).asByteBuffer(), position + done, where);
        }
        int size = dtype.byteSize();
        if (size > 1 && ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            MemorySegment.copy(dst, layout(size, ByteOrder.LITTLE_ENDIAN), 0, dst, layout(size, ByteOrder.nativeOrder()),
                    0, total / size);
        }
    }

    private static ValueLayout layout(int byteSize, ByteOrder order) {
        return switch (byteSize) {
            case 1 -> ValueLayout.JAVA_BYTE;
            case 2 -> ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(order);
            case 4 -> ValueLayout.JAVA_INT_UNALIGNED.withOrder(order);
            default -> ValueLayout.JAVA_LONG_UNALIGNED.withOrder(order);
        };
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) ch.write(buf);
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position, String where) throws IOException {
        long at = position;
        while (buf.hasRemaining()) {
            int r = ch.read(buf, at);
            if (r < 0) throw new SafeTensorsFormatException(where + ": truncated file: unexpected end at byte " + at);
            at += r;
        }
    }
}
