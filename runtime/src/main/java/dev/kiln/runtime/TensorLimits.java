package dev.kiln.runtime;

import dev.kiln.ir.DType;
import dev.kiln.ir.KilnException;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.function.Function;

/**
 * The largest tensor Kiln will allocate, in bytes, process-wide: every {@link NDArray} allocation checks it
 * before asking for memory, so a model whose sizes come from a hostile file (a Pad by 2^40, an Expand to
 * [2^20, 2^20]) fails with a {@link KilnException} naming the tensor instead of exhausting memory. Importers
 * check sizes they read from files against the same limit (or their own option) before allocating.
 *
 * <p>The limit is the system property {@code kiln.maxTensorBytes} (bytes, or with a {@code k}, {@code m},
 * {@code g} or {@code t} suffix, binary units) when set at start-up, else 16 GiB or half the machine's
 * physical memory, whichever is smaller: tensors live off-heap, so the heap size is no guide, and a request
 * for more memory than the machine has would be killed by the operating system rather than fail cleanly.
 */
public final class TensorLimits {

    /** The system property that sets {@link #maxTensorBytes()} at start-up. */
    public static final String PROPERTY = "kiln.maxTensorBytes";

    private static final long DEFAULT_CEILING = 16L << 30;

    private static volatile long maxTensorBytes = initial();

    private TensorLimits() {}

    /** The largest tensor, in bytes, that may be allocated. */
    public static long maxTensorBytes() { return maxTensorBytes; }

    /**
     * Sets the process-wide limit (a server may lower it for untrusted models). Returns the previous limit so a
     * caller can restore it.
     */
    public static long setMaxTensorBytes(long bytes) {
        if (bytes <= 0) throw new KilnException("maxTensorBytes must be positive, got " + bytes);
        long old = maxTensorBytes;
        maxTensorBytes = bytes;
        return old;
    }

    /** The default limit: 16 GiB, or half the physical memory when that is less. */
    public static long defaultMaxTensorBytes() {
        long physical = -1;
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            physical = os.getTotalMemorySize();
        }
        return physical > 0 ? Math.min(DEFAULT_CEILING, physical / 2) : DEFAULT_CEILING;
    }

    /**
     * The bytes of a {@code dtype} tensor of {@code shape}, checked: a negative dim, an element count or byte
     * size beyond 64 bits, or more than {@code limit} bytes is a {@link KilnException} naming {@code what}.
     */
    public static long checkedBytes(DType dtype, long[] shape, long limit, String what) {
        return checkedBytes(dtype, shape, limit, "", problem -> new KilnException(what + ": " + problem));
    }

    /** {@link #checkedBytes(DType, long[], long, String)} against the process-wide limit. */
    public static long checkedBytes(DType dtype, long[] shape, String what) {
        return checkedBytes(dtype, shape, maxTensorBytes, what);
    }

    /**
     * The bytes of a {@code dtype} tensor of {@code shape}, checked as {@link #checkedBytes(DType, long[], long,
     * String)} does, with each problem (a sentence naming the shape) handed to {@code error} so that an importer
     * throws its own exception type naming its own node or tensor; {@code how} says how to raise the limit.
     */
    public static long checkedBytes(DType dtype, long[] shape, long limit, String how,
                                    Function<String, ? extends KilnException> error) {
        for (long d : shape) {
            if (d < 0) throw error.apply("shape " + Arrays.toString(shape) + " has a negative dimension");
        }
        long numel = 1;
        for (long d : shape) {
            try {
                numel = Math.multiplyExact(numel, d);
            } catch (ArithmeticException e) {
                throw error.apply("shape " + Arrays.toString(shape) + " has more elements than a 64-bit count holds");
            }
        }
        long bytes;
        try {
            bytes = Math.multiplyExact(numel, (long) dtype.byteSize());
        } catch (ArithmeticException e) {
            throw error.apply(dtype + " " + Arrays.toString(shape) + " has more bytes than a 64-bit count holds");
        }
        if (bytes > limit) {
            throw error.apply(dtype + " " + Arrays.toString(shape) + " needs " + describe(bytes)
                    + ", more than the tensor size limit of " + describe(limit)
                    + (how.isEmpty() ? " (system property " + PROPERTY + " or TensorLimits.setMaxTensorBytes raise it)" : " (" + how + ")"));
        }
        return bytes;
    }

    /** "1234 bytes (1.2 KiB)", for messages. */
    public static String describe(long bytes) {
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        if (bytes < 1024) return bytes + " bytes";
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return bytes + " bytes (" + String.format(java.util.Locale.ROOT, "%.1f %s", v, units[u]) + ")";
    }

    private static long initial() {
        String s = System.getProperty(PROPERTY);
        if (s == null || s.isBlank()) return defaultMaxTensorBytes();
        return parse(s.trim());
    }

    /** Parses "123", "64k", "512m", "16g", "1t" (binary units). */
    static long parse(String s) {
        String t = s.toLowerCase(java.util.Locale.ROOT);
        int shift = switch (t.charAt(t.length() - 1)) {
            case 'k' -> 10;
            case 'm' -> 20;
            case 'g' -> 30;
            case 't' -> 40;
            default -> 0;
        };
        if (shift > 0) t = t.substring(0, t.length() - 1);
        long v;
        try {
            v = Long.parseLong(t);
        } catch (NumberFormatException e) {
            throw new KilnException(PROPERTY + " must be a byte count like 17179869184 or 16g, got '" + s + "'");
        }
        if (v <= 0 || v > (Long.MAX_VALUE >> shift)) throw new KilnException(PROPERTY + " must be a positive byte count, got '" + s + "'");
        return v << shift;
    }
}
