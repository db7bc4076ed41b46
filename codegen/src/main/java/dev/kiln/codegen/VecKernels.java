package dev.kiln.codegen;

import dev.kiln.runtime.kernels.VectorExp;
import dev.kiln.runtime.kernels.VectorLanes;
import dev.kiln.runtime.kernels.VectorNorms;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static dev.kiln.runtime.Elements.F32;

/**
 * Row kernels generated code calls directly where the Vector API is present (see {@link VectorSupport}): each
 * works on contiguous f32 rows at byte 0 of pre-sliced segments and allocates nothing once compiled.
 */
public final class VecKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private VecKernels() {}

    /**
     * {@code out[r, :] = softmax(x[r, :])} over {@code rows} rows of {@code cols}: max, exp ({@link VectorExp}) and
     * sum, scale. The max is subtracted whatever it is, as in the reference kernel
     * ({@code dev.kiln.runtime.kernels.Softmax}): a row holding +inf or NaN is NaN throughout, a row of only -inf is NaN.
     */
    public static void softmaxRows(MemorySegment x, MemorySegment out, int rows, int cols) {
        int upper = cols - cols % S.length();
        float[] lanes = VectorLanes.floats();
        for (long r = 0; r < rows; r++) {
            long base = r * cols * 4L;
            FloatVector vmax = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            int i = 0;
            for (; i < upper; i += S.length()) vmax = vmax.max(FloatVector.fromMemorySegment(S, x, base + i * 4L, ORDER));
            float max = vmax.reduceLanes(VectorOperators.MAX);
            for (; i < cols; i++) max = Math.max(max, x.get(F32, base + i * 4L));
            FloatVector vsum = FloatVector.zero(S);
            FloatVector vm = FloatVector.broadcast(S, max);
            for (i = 0; i < upper; i += S.length()) {
                FloatVector e = VectorExp.exp(FloatVector.fromMemorySegment(S, x, base + i * 4L, ORDER).sub(vm));
                e.intoMemorySegment(out, base + i * 4L, ORDER);
                vsum = vsum.add(e);
            }
            vsum.intoArray(lanes, 0);
            float sum = VectorLanes.sum(lanes, 0);
            for (; i < cols; i++) {
                float e = (float) Math.exp(x.get(F32, base + i * 4L) - max);
                out.set(F32, base + i * 4L, e);
                sum += e;
            }
            float inv = 1f / sum;
            for (i = 0; i < upper; i += S.length()) {
                FloatVector.fromMemorySegment(S, out, base + i * 4L, ORDER).mul(inv).intoMemorySegment(out, base + i * 4L, ORDER);
            }
            for (; i < cols; i++) out.set(F32, base + i * 4L, out.get(F32, base + i * 4L) * inv);
        }
    }

    /** {@link VectorNorms#skipLayerNormRows}, which eager layer norm shares. */
    public static void skipLayerNormRows(MemorySegment x, MemorySegment skip, MemorySegment bias, MemorySegment gamma,
                                         MemorySegment beta, MemorySegment out, MemorySegment sum, int rows, int cols,
                                         float eps) {
        VectorNorms.skipLayerNormRows(x, skip, bias, gamma, beta, out, sum, rows, cols, eps);
    }
}
