package dev.kiln.runtime.kernels;

import dev.kiln.ir.DType;
import dev.kiln.runtime.NDArray;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Embedding lookup, its scatter-add weight gradient (padding row excluded) and its index errors. */
class EmbeddingTest {

    @Property(tries = 40)
    void lookupCopiesRowsAndGradientSumsThem(@ForAll @IntRange(min = 1, max = 6) int v, @ForAll @IntRange(min = 1, max = 4) int d,
                                             @ForAll @IntRange(min = 1, max = 3) int a, @ForAll @IntRange(min = 1, max = 4) int b,
                                             @ForAll @IntRange(min = -1, max = 5) int pad, @ForAll boolean i32,
                                             @ForAll long seed) {
        int padding = Math.min(pad, v - 1);
        Random r = new Random(seed);
        NDArray w = Tensors.random(r, DType.F32, v, d);
        long[] idx = new long[a * b];
        for (int i = 0; i < idx.length; i++) idx[i] = r.nextInt(v);
        NDArray indices = i32 ? NDArray.of(idx, a, b).to(DType.I32) : NDArray.of(idx, a, b);
        NDArray y = Embedding.embedding(w, indices, padding);
        Tensors.assertShape(new long[] {a, b, d}, y);
        double[] expected = new double[a * b * d];
        for (int i = 0; i < idx.length; i++) for (int k = 0; k < d; k++) expected[i * d + k] = w.getDouble(idx[i], k);
        Tensors.assertClose(expected, y, 0, "embedding");

        NDArray g = Tensors.random(r, DType.F64, a, b, d);
        NDArray dw = Embedding.embeddingGrad(g, indices, v, padding);
        Tensors.assertShape(new long[] {v, d}, dw);
        double[] grad = new double[v * d];
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] == padding) continue;
            for (int k = 0; k < d; k++) grad[(int) idx[i] * d + k] += g.getDouble(i / b, i % b, k);
        }
        Tensors.assertClose(grad, dw, 1e-15, "embedding grad");
    }

    @Example
    void outOfRangeIndicesAndBadPaddingAreErrors() {
        NDArray w = NDArray.zeros(DType.F32, 10, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Embedding.embedding(w, NDArray.of(new long[] {3, 12}), -1));
        assertEquals("embedding: index 12 (at flat position 1 of indices [2]) is out of range for 10 embeddings", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Embedding.embedding(w, NDArray.of(new long[] {-1}), -1));
        assertEquals("embedding: index -1 (at flat position 0 of indices [1]) is out of range for 10 embeddings", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Embedding.embedding(w, NDArray.of(new float[] {1}), -1));
        assertEquals("embedding: indices must be i64 or i32, got f32 of shape [1]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Embedding.embedding(w, NDArray.of(new long[] {1}), 10));
        assertEquals("embedding: padding_idx must be -1 (none) or in [0, 10), got 10", e.getMessage());
    }

    @Example
    void scalarIndexGivesOneRowAndHalfPrecisionGradientsAccumulateInF32() {
        NDArray w = NDArray.of(new float[] {1, 2, 3, 4}, 2, 2);
        NDArray row = Embedding.embedding(w, NDArray.of(new long[] {1}).reshape(), -1);
        assertArrayEquals(new long[] {2}, row.shape());
        assertArrayEquals(new float[] {3, 4}, row.toFloatArray());
        // 300 copies of 1/3 in bf16 accumulate to ~100 only if the sum is not kept in bf16.
        long[] idx = new long[300];
        NDArray g = NDArray.full(DType.BF16, 1.0 / 3, 300, 1);
        NDArray dw = Embedding.embeddingGrad(g, NDArray.of(idx), 2, -1);
        assertEquals(DType.BF16, dw.dtype());
        assertEquals(100, dw.getDouble(0, 0), 1);
    }
}
