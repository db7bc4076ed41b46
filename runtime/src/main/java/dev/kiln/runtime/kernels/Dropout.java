package dev.kiln.runtime.kernels;

import dev.kiln.ir.KilnException;
import dev.kiln.ir.DType;
import dev.kiln.runtime.Elements;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.RandomSource;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

/**
 * Dropout masks drawn from {@link RandomSource}: each element is 0 with probability {@code p} and
 * {@code 1/(1-p)} (rounded to the dtype) otherwise; {@code p = 1} gives all zeros. The tensor is filled in
 * fixed-size chunks, each from its own stream split off in order, so a seed gives the same mask whatever the
 * thread count.
 */
public final class Dropout {
    private static final int CHUNK = 1 << 14;

    private Dropout() {}

    /** A mask with {@code x}'s dtype and shape (x's values are not read). */
    public static NDArray mask(NDArray x, double p) {
        String op = "dropout_mask";
        Checks.floating(op, x);
        if (!(p >= 0 && p <= 1)) throw new KilnException(op + ": p must be in [0, 1], got " + p);
        DType t = x.dtype();
        NDArray out = NDArray.zeros(t, x.shape());
        if (p == 1 || out.numel() == 0) return out;
        double scale = 1 / (1 - p);
        long chunks = Math.ceilDiv(out.numel(), CHUNK);
        SplittableRandom stream = RandomSource.split();
        SplittableRandom[] streams = new SplittableRandom[Math.toIntExact(chunks)];
        for (int i = 0; i < streams.length; i++) streams[i] = stream.split();
        MemorySegment o = out.segment();
        Parallel.forRange(chunks, Math.max(1, Parallel.PARALLEL_THRESHOLD / CHUNK), (start, end) -> {
            for (long c = start; c < end; c++) {
                SplittableRandom r = streams[(int) c];
                for (long i = c * CHUNK; i < Math.min(out.numel(), (c + 1) * CHUNK); i++) {
                    if (r.nextDouble() >= p) Elements.setDouble(o, t, i, scale);
                }
            }
        });
        return out;
    }
}
