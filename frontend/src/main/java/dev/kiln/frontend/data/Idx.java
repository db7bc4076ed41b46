package dev.kiln.frontend.data;

import dev.kiln.frontend.Tensor;
import dev.kiln.ir.DType;
import dev.kiln.runtime.Elements;
import dev.kiln.runtime.NDArray;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads MNIST-style IDX files: a big-endian header (magic {@code 0x00000803} for u8 images {@code [N, rows, cols]},
 * {@code 0x00000801} for u8 labels {@code [N]}, then the dims as 32-bit ints) followed by the bytes. Files may be
 * gzip-compressed; that is detected from the gzip magic bytes, not the file name. Everything is checked: magic,
 * dims, that exactly the declared number of bytes follows. Tensors are allocated in the current
 * {@link dev.kiln.runtime.MemoryScope} (GC-managed outside one), so load datasets outside short-lived scopes.
 */
public final class Idx {

    /** Magic of a u8 image file with 3 dims. */
    public static final int IMAGES_MAGIC = 0x00000803;
    /** Magic of a u8 label file with 1 dim. */
    public static final int LABELS_MAGIC = 0x00000801;

    private Idx() {}

    /** Images as u8 {@code [N, 1, rows, cols]}, the raw pixel values 0-255. */
    public static Tensor readImages(Path file) throws IOException {
        Parsed p = read(file, IMAGES_MAGIC, "image");
        NDArray out = NDArray.zeros(DType.U8, p.dims[0], 1, p.dims[1], p.dims[2]);
        MemorySegment.copy(MemorySegment.ofArray(p.data), 0, out.segment(), 0, p.data.length);
        return Tensor.wrap(out);
    }

    /** Images as f32 {@code [N, 1, rows, cols]} scaled to [0, 1] (value / 255), as torchvision's {@code ToTensor}. */
    public static Tensor readImagesAsFloat(Path file) throws IOException {
        Parsed p = read(file, IMAGES_MAGIC, "image");
        NDArray out = NDArray.zeros(DType.F32, p.dims[0], 1, p.dims[1], p.dims[2]);
        MemorySegment seg = out.segment();
        for (int i = 0; i < p.data.length; i++) seg.setAtIndex(Elements.F32, i, (p.data[i] & 0xFF) / 255f);
        return Tensor.wrap(out);
    }

    /** Labels as i64 {@code [N]}. */
    public static Tensor readLabels(Path file) throws IOException {
        Parsed p = read(file, LABELS_MAGIC, "label");
        long[] labels = new long[p.data.length];
        for (int i = 0; i < labels.length; i++) labels[i] = p.data[i] & 0xFF;
        return Tensor.of(labels);
    }

    private record Parsed(long[] dims, byte[] data) {}

    private static Parsed read(Path file, int expectedMagic, String kind) throws IOException {
        String where = file.toString();
        try (InputStream in = open(file)) {
            int magic = readInt(in, where, "the magic number");
            if (magic != expectedMagic) {
                String found = magic == IMAGES_MAGIC ? " (an IDX image file)" : magic == LABELS_MAGIC ? " (an IDX label file)" : "";
                throw new IdxFormatException(where + ": expected an IDX " + kind + " file (magic "
                        + String.format("0x%08x", expectedMagic) + ") but found magic " + String.format("0x%08x", magic)
                        + found);
            }
            int rank = magic & 0xFF;
            long[] dims = new long[rank];
            long bytes = 1;
            for (int d = 0; d < rank; d++) {
                int v = readInt(in, where, "dimension " + d);
                if (v < 0) throw new IdxFormatException(where + ": dimension " + d + " is negative (" + v + ")");
                dims[d] = v;
                bytes *= v; // at most 3 dims below 2^31: fits in a long
            }
            if (bytes > Integer.MAX_VALUE - 8) {
                throw new IdxFormatException(where + ": dims " + java.util.Arrays.toString(dims) + " declare " + bytes
                        + " bytes, more than this reader supports");
            }
            byte[] data = in.readNBytes((int) bytes); // grows as data arrives, never pre-allocates a bad size
            if (data.length < bytes) {
                throw new IdxFormatException(where + ": truncated: the header declares " + kind + "s of dims "
                        + java.util.Arrays.toString(dims) + " (" + bytes + " bytes) but only " + data.length
                        + " bytes follow");
            }
            if (in.read() >= 0) {
                throw new IdxFormatException(where + ": dimension mismatch: more data follows the " + bytes
                        + " bytes the header's dims " + java.util.Arrays.toString(dims) + " declare");
            }
            return new Parsed(dims, data);
        } catch (ZipException | EOFException e) {
            throw new IdxFormatException(where + ": corrupt or truncated gzip data: " + e.getMessage(), e);
        }
    }

    /** The file's bytes, decompressed when it starts with the gzip magic {@code 1f 8b}. */
    private static InputStream open(Path file) throws IOException {
        InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        try {
            raw.mark(2);
            int b0 = raw.read(), b1 = raw.read();
            raw.reset();
            if (b0 == 0x1f && b1 == 0x8b) return new BufferedInputStream(new GZIPInputStream(raw, 1 << 16), 1 << 16);
            return raw;
        } catch (IOException | RuntimeException e) {
            raw.close();
            throw e;
        }
    }

    private static int readInt(InputStream in, String where, String what) throws IOException {
        byte[] b = in.readNBytes(4);
        if (b.length < 4) throw new IdxFormatException(where + ": truncated: the file ends inside the header (" + what + ")");
        return (b[0] & 0xFF) << 24 | (b[1] & 0xFF) << 16 | (b[2] & 0xFF) << 8 | (b[3] & 0xFF);
    }
}
