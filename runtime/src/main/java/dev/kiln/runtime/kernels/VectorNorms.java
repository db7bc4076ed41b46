package dev.kiln.runtime.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static dev.kiln.runtime.Elements.F32;

/**
 * Layer normalisation over contiguous f32 rows on the Vector API, for compiled code ({@code skip_layer_norm}) and eager
 * mode ({@code layer_norm} over the last dim): one kernel for both, no per-element dtype switch, statistics in f32
 * vectors (the reference kernel accumulates in f64; results agree within f32 rounding of the row's sums). Only loaded
 * where {@code jdk.incubator.vector} is present.
 */
public final class VectorNorms {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private VectorNorms() {}

    /**
     * ONNX Runtime's SkipLayerNormalization over rows of {@code cols}: {@code s = x + bias + skip} (each add rounded
     * to f32, bias first, as the unfused adds; plain layer norm when {@code skip} is empty), written to {@code sum} when it has bytes; then {@code out = (s - mean)
     * / sqrt(var + eps) * gamma + beta} with the biased variance. {@code bias} and {@code sum} are empty segments when
     * absent. Statistics are two-pass, accumulated in f32 vectors.
     */
    public static void skipLayerNormRows(MemorySegment x, MemorySegment skip, MemorySegment bias, MemorySegment gamma,
                                         MemorySegment beta, MemorySegment out, MemorySegment sum, int rows, int cols,
                                         float eps) {
        boolean hasBias = bias.byteSize() > 0, hasSkip = skip.byteSize() > 0, keepSum = sum.byteSize() > 0;
        int upper = cols - cols % S.length();
        float[] lanes = VectorLanes.floats();
        for (long r = 0; r < rows; r++) {
            long base = r * cols * 4L;
            FloatVector vsum = FloatVector.zero(S);
            int i = 0;
            for (; i < upper; i += S.length()) {
                FloatVector v = FloatVector.fromMemorySegment(S, x, base + i * 4L, ORDER);
                if (hasBias) v = v.add(FloatVector.fromMemorySegment(S, bias, i * 4L, ORDER));
                if (hasSkip) v = v.add(FloatVector.fromMemorySegment(S, skip, base + i * 4L, ORDER));
                v.intoMemorySegment(out, base + i * 4L, ORDER);
                if (keepSum) v.intoMemorySegment(sum, base + i * 4L, ORDER);
                vsum = vsum.add(v);
            }
            vsum.intoArray(lanes, 0);
            float total = VectorLanes.sum(lanes, 0);
            for (; i < cols; i++) {
                float v = x.get(F32, base + i * 4L);
                if (hasBias) v += bias.get(F32, i * 4L);
                if (hasSkip) v += skip.get(F32, base + i * 4L);
                out.set(F32, base + i * 4L, v);
                if (keepSum) sum.set(F32, base + i * 4L, v);
                total += v;
            }
            float mean = total / cols;
            FloatVector vm = FloatVector.broadcast(S, mean), vsq = FloatVector.zero(S);
            for (i = 0; i < upper; i += S.length()) {
                FloatVector d = FloatVector.fromMemorySegment(S, out, base + i * 4L, ORDER).sub(vm);
                vsq = d.fma(d, vsq);
            }
            vsq.intoArray(lanes, 0);
            float sq = VectorLanes.sum(lanes, 0);
            for (; i < cols; i++) {
                float d = out.get(F32, base + i * 4L) - mean;
                sq += d * d;
            }
            float rstd = (float) (1 / Math.sqrt(sq / cols + (double) eps));
            FloatVector vr = FloatVector.broadcast(S, rstd);
            for (i = 0; i < upper; i += S.length()) {
                FloatVector d = FloatVector.fromMemorySegment(S, out, base + i * 4L, ORDER).sub(vm).mul(vr);
                d = d.fma(FloatVector.fromMemorySegment(S, gamma, i * 4L, ORDER), FloatVector.fromMemorySegment(S, beta, i * 4L, ORDER));
                d.intoMemorySegment(out, base + i * 4L, ORDER);
            }
            for (; i < cols; i++) {
                float d = (out.get(F32, base + i * 4L) - mean) * rstd;
                out.set(F32, base + i * 4L, d * gamma.get(F32, i * 4L) + beta.get(F32, i * 4L));
            }
        }
    }
}
