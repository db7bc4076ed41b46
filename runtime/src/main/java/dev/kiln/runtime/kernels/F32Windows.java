package dev.kiln.runtime.kernels;

import java.lang.foreign.MemorySegment;

/**
 * Vector API fast paths of {@link DirectConv} and {@link DirectPool} for the common convolution and pooling
 * windows (stride-1 im2col, 2x2 stride-2 max pooling, max pooling rows of horizontal stride 1 or 2). {@link #VECTOR} is the Vector API implementation when
 * {@code jdk.incubator.vector} is available and {@code kiln.vector} is not {@code false}, else {@code null}
 * (the callers then use their plain-Java loops). Chosen once per JVM, like {@link F32Rows#best()}.
 */
interface F32Windows {
    F32Windows VECTOR = Holder.select();

    /**
     * im2col of one f32 image for stride 1 and dilation 1, same layout and results as
     * {@link DirectConv#im2colF32}; the caller has checked the arguments.
     */
    void im2colUnitStride(MemorySegment x, int c, int h, int w, int kh, int kw, int ph, int pw, int oh, int ow,
                          MemorySegment col);

    /**
     * {@link ConvPanels#packPanel} for a geometry whose patch rows are the image (or its stride-2 phases) shifted by
     * a constant, as {@code taps} describes: each panel row is filled a vector at a time, the padding lanes zeroed.
     */
    void convPanel(ConvPanels.Taps taps, MemorySegment image, long base, int pc, int kc, int jp, float[] bp, int to);

    /**
     * {@code dst[to + k] = x[src + 2k]} for {@code k} from 0 towards {@code n}, whole half-vectors only, as long as
     * the reads stay inside {@code x}: a stride-2 convolution's patch row. Returns the first {@code k} not done.
     */
    int everySecond(MemorySegment x, long src, float[] dst, int to, int n);

    /** {@link #everySecond(MemorySegment, long, float[], int, int)} into a segment. */
    int everySecond(MemorySegment x, long src, MemorySegment dst, long to, int n);

    /**
     * {@code dst[to + k] = x[src + 4k]} for {@code k} from 0 towards {@code n}, whole quarter-vectors only, as long
     * as the reads stay inside {@code x} (Winograd F(4x4, 3x3)'s phase planes). Returns the first {@code k} not done.
     */
    int everyFourth(MemorySegment x, long src, float[] dst, int to, int n);

    /**
     * Output elements {@code [o, o+n)} of a 2x2 stride-2 max pool row whose windows lie inside the input: output
     * {@code k} is the max, in {@link DirectPool#maxPool2dF32}'s visiting order and semantics, of elements
     * {@code first+2k}, {@code first+2k+1}, {@code first+w+2k}, {@code first+w+2k+1} of {@code x}.
     */
    void max2x2Row(MemorySegment x, long first, long w, MemorySegment out, long o, int n);

    /**
     * Max pool outputs {@code o + ox} for {@code ox} from {@code from} towards {@code to}, for a horizontal stride
     * {@code sw} of 1 or 2, whose windows lie inside the input horizontally: output {@code ox} is the max, in
     * {@link DirectPool#maxPool2dF32}'s row-major visiting order and semantics, of elements
     * {@code first + i*rowStep + ox*sw + j*dw} for {@code i < rows}, {@code j < kw}. Whole vectors of outputs only,
     * as long as their reads stay inside {@code x}; returns the first output not written.
     */
    /**
     * Average pool outputs {@code o + ox} for {@code ox} from {@code from} towards {@code to}, for a horizontal stride
     * {@code sw} of 1 or 2, whose windows lie inside the input horizontally: output {@code ox} is the sum in double, in
     * {@link DirectPool#avgPool2dF32}'s row-major visiting order, of elements {@code first + i*rowStep + ox*sw + j}
     * for {@code i < rows}, {@code j < kw}, divided by {@code divisor} and rounded to f32 (bit-identical to it).
     * Whole vectors of outputs only, as long as their reads stay inside {@code x}; returns the first output not
     * written.
     */
    int avgRow(MemorySegment x, long first, long rowStep, int rows, int kw, int sw, double divisor, MemorySegment out,
               long o, int from, int to);

    int maxRow(MemorySegment x, long first, long rowStep, int rows, int kw, int sw, int dw, MemorySegment out, long o,
               int from, int to);

    /**
     * {@code out[o + k] += alpha * x[src + k]} for {@code k} from {@code from} towards {@code to}, whole vectors
     * only; returns the first {@code k} not done. Each element is one rounded multiply and one rounded add, as in
     * the scalar loop the caller finishes with.
     */
    int axpy(float alpha, MemorySegment x, long src, MemorySegment out, long o, int from, int to);

    /** Picks the implementation once. */
    final class Holder {
        private Holder() {}

        private static F32Windows select() {
            return VectorApi.instanceOr(F32Windows.class, "dev.kiln.runtime.kernels.VectorF32Windows", null);
        }
    }
}
