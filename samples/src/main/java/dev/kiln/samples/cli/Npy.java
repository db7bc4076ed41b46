package dev.kiln.samples.cli;

import dev.kiln.ir.DType;
import dev.kiln.runtime.NDArray;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads NumPy {@code .npy} files (format versions 1–3, C order, little-endian or single-byte
 * dtypes) into {@link NDArray}s, checking the header against the file's size before copying.
 */
final class Npy {

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private Npy() {}

    static NDArray read(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        String where = file.toString();
        if (bytes.length < 10 || !startsWithMagic(bytes)) throw new CliException(where + ": not a .npy file (bad magic)");
        int major = bytes[6] & 0xff;
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long headerLen;
        int headerStart;
        switch (major) {
            case 1 -> { headerLen = buf.getShort(8) & 0xffff; headerStart = 10; }
            case 2, 3 -> {
                if (bytes.length < 12) throw new CliException(where + ": truncated .npy header");
                headerLen = buf.getInt(8) & 0xffffffffL;
                headerStart = 12;
            }
            default -> throw new CliException(where + ": unsupported .npy format version " + major);
        }
        if (headerStart + headerLen > bytes.length) throw new CliException(where + ": truncated .npy header");
        String header = new String(bytes, headerStart, (int) headerLen,
                major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        DType dtype = dtypeOf(where, find(DESCR, header, where, "descr"));
        if (find(FORTRAN, header, where, "fortran_order").equals("True")) {
            throw new CliException(where + ": Fortran-order arrays are not supported; save with np.ascontiguousarray");
        }
        long[] shape = shapeOf(where, find(SHAPE, header, where, "shape"));
        long numel = 1;
        for (long d : shape) numel = Math.multiplyExact(numel, d);
        long dataStart = headerStart + headerLen;
        long expected = Math.multiplyExact(numel, dtype.byteSize());
        if (bytes.length - dataStart != expected) {
            throw new CliException(where + ": header declares " + expected + " data bytes for shape "
                    + java.util.Arrays.toString(shape) + " " + dtype + ", file has " + (bytes.length - dataStart));
        }
        NDArray out = NDArray.zeros(dtype, shape);
        MemorySegment.copy(MemorySegment.ofArray(bytes), dataStart, out.segment(), 0, expected);
        return out;
    }

    private static boolean startsWithMagic(byte[] bytes) {
        for (int i = 0; i < MAGIC.length; i++) if (bytes[i] != MAGIC[i]) return false;
        return true;
    }

    private static String find(Pattern p, String header, String where, String key) {
        Matcher m = p.matcher(header);
        if (!m.find()) throw new CliException(where + ": .npy header has no '" + key + "'");
        return m.group(1);
    }

    private static DType dtypeOf(String where, String descr) {
        if (descr.length() < 2) throw new CliException(where + ": bad .npy dtype '" + descr + "'");
        char order = descr.charAt(0);
        String code = descr.substring(1);
        boolean singleByte = code.endsWith("1");
        if (order == '>' && !singleByte) throw new CliException(where + ": big-endian .npy data (" + descr + ") is not supported");
        return switch (code) {
            case "f4" -> DType.F32;
            case "f8" -> DType.F64;
            case "f2" -> DType.F16;
            case "i8" -> DType.I64;
            case "i4" -> DType.I32;
            case "i2" -> DType.I16;
            case "i1" -> DType.I8;
            case "u1" -> DType.U8;
            case "b1" -> DType.BOOL;
            default -> throw new CliException(where + ": .npy dtype '" + descr + "' is not supported (f2/f4/f8, i1/i2/i4/i8, u1, b1)");
        };
    }

    private static long[] shapeOf(String where, String text) {
        List<Long> dims = new ArrayList<>();
        for (String part : text.split(",")) {
            String t = part.strip();
            if (t.isEmpty()) continue;
            try {
                long d = Long.parseLong(t.endsWith("L") ? t.substring(0, t.length() - 1) : t);
                if (d < 0) throw new NumberFormatException();
                dims.add(d);
            } catch (NumberFormatException e) {
                throw new CliException(where + ": bad .npy shape (" + text + ")");
            }
        }
        return dims.stream().mapToLong(Long::longValue).toArray();
    }
}
