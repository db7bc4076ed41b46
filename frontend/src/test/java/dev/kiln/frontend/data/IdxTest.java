package dev.kiln.frontend.data;

import dev.kiln.frontend.Tensor;
import dev.kiln.ir.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IdxTest {

    @TempDir
    Path dir;

    /** Two 2x3 images with pixels 0, 1, ..., 10 and 255. */
    static byte[] images() {
        ByteBuffer b = ByteBuffer.allocate(4 + 12 + 12); // big-endian, as IDX
        b.putInt(0x00000803).putInt(2).putInt(2).putInt(3);
        for (int i = 0; i < 11; i++) b.put((byte) i);
        b.put((byte) 255);
        return b.array();
    }

    static byte[] labels(int... values) {
        ByteBuffer b = ByteBuffer.allocate(8 + values.length);
        b.putInt(0x00000801).putInt(values.length);
        for (int v : values) b.put((byte) v);
        return b.array();
    }

    static byte[] gzip(byte[] raw) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(raw);
        }
        return out.toByteArray();
    }

    private Path file(String name, byte[] content) throws IOException {
        Path f = dir.resolve(name);
        Files.write(f, content);
        return f;
    }

    @Test
    void readsRawAndGzipImagesAlike() throws IOException {
        for (Path f : new Path[] {file("img", images()), file("img.gz", gzip(images())), file("gz-no-ext", gzip(images()))}) {
            Tensor u8 = Idx.readImages(f);
            assertEquals(DType.U8, u8.dtype());
            assertArrayEquals(new long[] {2, 1, 2, 3}, u8.shape());
            assertArrayEquals(new long[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255}, u8.data().toLongArray(), f.toString());

            Tensor f32 = Idx.readImagesAsFloat(f);
            assertEquals(DType.F32, f32.dtype());
            assertArrayEquals(new long[] {2, 1, 2, 3}, f32.shape());
            float[] v = f32.data().toFloatArray();
            assertEquals(0f, v[0]);
            assertEquals(10 / 255f, v[10]);
            assertEquals(1f, v[11]);
        }
    }

    @Test
    void readsLabels() throws IOException {
        for (Path f : new Path[] {file("l", labels(3, 0, 9, 200)), file("l.gz", gzip(labels(3, 0, 9, 200)))}) {
            Tensor l = Idx.readLabels(f);
            assertEquals(DType.I64, l.dtype());
            assertArrayEquals(new long[] {4}, l.shape());
            assertArrayEquals(new long[] {3, 0, 9, 200}, l.data().toLongArray());
        }
    }

    @Test
    void badMagicNamesBothKinds() throws IOException {
        Path labelsFile = file("labels", labels(1, 2));
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> Idx.readImages(labelsFile));
        assertTrue(e.getMessage().contains("expected an IDX image file (magic 0x00000803) but found magic 0x00000801"
                + " (an IDX label file)"), e.getMessage());
        Path imagesFile = file("images", images());
        e = assertThrows(IdxFormatException.class, () -> Idx.readLabels(imagesFile));
        assertTrue(e.getMessage().contains("expected an IDX label file"), e.getMessage());
        Path garbage = file("garbage", "hello world, not idx".getBytes());
        e = assertThrows(IdxFormatException.class, () -> Idx.readImages(garbage));
        assertTrue(e.getMessage().startsWith(garbage.toString()), e.getMessage());
    }

    @Test
    void truncatedDataRawAndGzip() throws IOException {
        byte[] cut = Arrays.copyOf(images(), images().length - 5);
        for (Path f : new Path[] {file("cut", cut), file("cut.gz", gzip(cut))}) {
            IdxFormatException e = assertThrows(IdxFormatException.class, () -> Idx.readImages(f));
            assertTrue(e.getMessage().contains("truncated: the header declares images of dims [2, 2, 3] (12 bytes)"
                    + " but only 7 bytes follow"), e.getMessage());
        }
        Path header = file("header", Arrays.copyOf(images(), 6));
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> Idx.readImages(header));
        assertTrue(e.getMessage().contains("ends inside the header (dimension 0)"), e.getMessage());
    }

    @Test
    void truncatedOrCorruptGzipStream() throws IOException {
        byte[] gz = gzip(images());
        Path cut = file("cutgz.gz", Arrays.copyOf(gz, gz.length - 12));
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> Idx.readImages(cut));
        assertTrue(e.getMessage().startsWith(cut.toString()), e.getMessage());
        byte[] corrupt = gz.clone();
        for (int i = 12; i < corrupt.length - 8; i++) corrupt[i] ^= 0x5a;
        Path bad = file("corrupt.gz", corrupt);
        e = assertThrows(IdxFormatException.class, () -> Idx.readImages(bad));
        assertTrue(e.getMessage().contains("gzip") || e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void dimensionMismatchWithTrailingData() throws IOException {
        byte[] extra = Arrays.copyOf(labels(1, 2, 3), labels(1, 2, 3).length + 2);
        Path f = file("extra", extra);
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> Idx.readLabels(f));
        assertTrue(e.getMessage().contains("dimension mismatch: more data follows the 3 bytes the header's dims [3]"),
                e.getMessage());
    }

    @Test
    void negativeOrHugeDimensions() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(16).putInt(0x803).putInt(-1).putInt(28).putInt(28);
        Path neg = file("neg", b.array());
        assertTrue(assertThrows(IdxFormatException.class, () -> Idx.readImages(neg)).getMessage()
                .contains("dimension 0 is negative (-1)"));
        ByteBuffer h = ByteBuffer.allocate(16).putInt(0x803).putInt(Integer.MAX_VALUE).putInt(28).putInt(28);
        Path huge = file("huge", h.array());
        assertTrue(assertThrows(IdxFormatException.class, () -> Idx.readImages(huge)).getMessage()
                .contains("more than this reader supports"));
    }

    @Test
    void mnistLoaderChecksTheFiles() throws IOException {
        Path d = Files.createDirectory(dir.resolve("mnist"));
        IOException missing = assertThrows(IOException.class, () -> Mnist.load(d));
        assertTrue(missing.getMessage().contains(Mnist.IMAGES_FILE), missing.getMessage());
        Files.write(d.resolve(Mnist.IMAGES_FILE), gzip(images()));
        Files.write(d.resolve(Mnist.LABELS_FILE), gzip(labels(1, 2)));
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> Mnist.load(d));
        assertTrue(e.getMessage().contains("expected the MNIST t10k set of 10000 28x28 images"), e.getMessage());
    }
}
