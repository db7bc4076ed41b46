package dev.kiln.samples.cli;

import dev.kiln.ir.DType;
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

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NpyTest {

    @TempDir
    Path dir;

    /** A version-1 .npy file with the given dtype descriptor, shape text and data. */
    static byte[] npy(String descr, String shape, byte[] data) {
        String header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
        int total = 10 + header.length() + 1;
        header = header + " ".repeat((64 - total % 64) % 64) + "\n";
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
        out.writeBytes(ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort((short) header.length()).array());
        out.writeBytes(header.getBytes(StandardCharsets.ISO_8859_1));
        out.writeBytes(data);
        return out.toByteArray();
    }

    @Test
    void readsFloatAndIntArrays() throws IOException {
        ByteBuffer f = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 6; i++) f.putFloat(i * 0.5f);
        Path file = dir.resolve("f.npy");
        Files.write(file, npy("<f4", "(2, 3)", f.array()));
        NDArray x = Npy.read(file);
        assertEquals(DType.F32, x.dtype());
        assertArrayEquals(new long[] {2, 3}, x.shape());
        assertArrayEquals(new float[] {0, 0.5f, 1, 1.5f, 2, 2.5f}, x.toFloatArray());

        Path scalar = dir.resolve("s.npy");
        Files.write(scalar, npy("<i8", "()", ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(42).array()));
        NDArray s = Npy.read(scalar);
        assertEquals(0, s.rank());
        assertEquals(42, s.getLong());
    }

    @Test
    void rejectsBadFilesWithAMessage() throws IOException {
        Path bad = dir.resolve("bad.npy");
        Files.write(bad, new byte[] {1, 2, 3});
        assertTrue(assertThrows(CliException.class, () -> Npy.read(bad)).getMessage().contains("not a .npy file"));
        Files.write(bad, npy("<f4", "(2, 3)", new byte[8]));
        assertTrue(assertThrows(CliException.class, () -> Npy.read(bad)).getMessage().contains("declares 24 data bytes"));
        Files.write(bad, npy(">f4", "(1,)", new byte[4]));
        assertTrue(assertThrows(CliException.class, () -> Npy.read(bad)).getMessage().contains("big-endian"));
        Files.write(bad, npy("<c8", "(1,)", new byte[8]));
        assertTrue(assertThrows(CliException.class, () -> Npy.read(bad)).getMessage().contains("not supported"));
    }
}
